"""An Optuna study over scenario levers, asked and told in batches: the search engine that
`optimize` (and `calibrate`, with its own loss) drive with their own evaluation.

The caller supplies `evaluate(settings)`, which runs a batch of candidates (dicts of dotted
path -> value) and yields `(index, Outcome)` as each candidate finishes, in any order. The
study asks `batch` candidates, evaluates them together, and tells each one as soon as it is
done, so an interrupted study keeps every evaluated trial in its storage. The next batch is
asked only when the whole batch is told, and the sampler is re-created for every trial with
a seed derived from the study seed and the trial's number (its history is in the storage);
so the trials depend on the seed and the batch size only, never on the executor, the order
in which candidates finish, or where a study was interrupted and resumed.

One objective uses TPE by default, several NSGA-II; a caller may supply its own sampler
(seeded the same way: calibration uses multivariate TPE with the constant liar).
Constraints are set on each trial with `Trial.set_constraint` (a value <= 0 is feasible),
which both samplers take into account.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.trial import FrozenTrial, Trial, TrialState

from channelsim.errors import InputError
from channelsim.experiments.designs import Param

STUDY_NAME = "channelsim"
SQLITE_HEADER = b"SQLite format 3\x00"
EDGE = 0.02  # a best value this close to a bound (share of the range) is flagged


@dataclass(frozen=True)
class Lever:
    """One searched parameter and how Optuna samples it.

    Numeric levels (`a:b:n` or `0.02,0.05,0.1`) are ordered: Optuna samples their index
    0..n-1, so TPE can learn that neighbouring levels behave alike, and every value is
    exactly one of the levels. Words and booleans are categories. Ranges are floats (log
    in log space) or integers.
    """

    param: Param

    @property
    def path(self) -> str:
        return self.param.path

    @property
    def levels(self) -> tuple[Any, ...] | None:
        """The ordered numeric levels, or None for a range or a set of categories."""
        values = self.param.values
        if values is None or not all(_is_number(v) for v in values):
            return None
        return tuple(sorted(set(values)))

    def distribution(self) -> BaseDistribution:
        p = self.param
        if p.values is not None:
            levels = self.levels
            if levels is not None:
                return IntDistribution(0, len(levels) - 1)
            return CategoricalDistribution(list(dict.fromkeys(p.values)))
        low, high = float(p.low), float(p.high)  # type: ignore[arg-type]
        if p.scale == "int":
            return IntDistribution(int(low), int(high))
        return FloatDistribution(low, high, log=p.scale == "log")

    def value(self, sampled: Any) -> Any:
        """The scenario value of what Optuna sampled."""
        levels = self.levels
        return levels[int(sampled)] if levels is not None else sampled

    def position(self, value: Any) -> float | None:
        """Where `value` lies in the range, 0 (low) to 1 (high); None for categories."""
        p = self.param
        levels = self.levels
        if levels is not None:
            return levels.index(value) / (len(levels) - 1) if len(levels) > 2 else None
        if p.values is not None:
            return None
        low, high, x = float(p.low), float(p.high), float(value)  # type: ignore[arg-type]
        if p.scale == "log":
            low, high, x = math.log(low), math.log(high), math.log(x)
        return (x - low) / (high - low)

    def ends(self) -> tuple[float, float] | None:
        """The lowest and highest value searched; None for categories."""
        levels = self.levels
        if levels is not None:
            return float(levels[0]), float(levels[-1])
        if self.param.values is not None:
            return None
        return float(self.param.low), float(self.param.high)  # type: ignore[arg-type]

    def at_edge(self, value: Any) -> str | None:
        """'low' or 'high' when `value` is within 2% of the range's bound, else None."""
        where = self.position(value)
        if where is None:
            return None
        if where <= EDGE:
            return "low"
        if where >= 1 - EDGE:
            return "high"
        return None


def levers(params: Sequence[Param]) -> tuple[Lever, ...]:
    return tuple(Lever(p) for p in params)


def settings_of(space: Sequence[Lever], params: dict[str, Any]) -> dict[str, Any]:
    """A trial's sampled parameters as scenario settings (path -> value)."""
    return {lever.path: lever.value(params[lever.path]) for lever in space}


@dataclass(frozen=True)
class Outcome:
    """What evaluating one candidate gave: objective values (None if it failed), constraint
    values (<= 0 is feasible, by name), and JSON-ready attributes stored with the trial."""

    values: tuple[float, ...] | None
    constraints: dict[str, float] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    error: str = ""


Evaluate = Callable[[Sequence[dict[str, Any]]], Iterator[tuple[int, Outcome]]]
OnTrial = Callable[[FrozenTrial], None]
Sampler = Callable[[int], optuna.samplers.BaseSampler]  # seed -> sampler


@contextmanager
def quiet() -> Iterator[None]:
    """Optuna's INFO lines ('Trial 3 finished ...') silenced while our study runs, and the
    caller's verbosity put back afterwards: a notebook calling `channelsim.optimize` sees
    only our progress, and its own Optuna settings are left as they were."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(max(before, optuna.logging.WARNING))
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def trial_seed(seed: int, number: int) -> int:
    """The sampler's seed for asking trial number `number`."""
    state = np.random.SeedSequence(seed, spawn_key=(number,)).generate_state(1, np.uint32)
    return int(state[0])


def make_sampler(objectives: int, seed: int, population: int) -> optuna.samplers.BaseSampler:
    """TPE for one objective, NSGA-II (with `population` trials a generation) for several."""
    if objectives == 1:
        return optuna.samplers.TPESampler(seed=seed)
    return optuna.samplers.NSGAIISampler(population_size=population, seed=seed)


class StudyError(InputError):
    """A study file that cannot be continued: not a study database, or not channelsim's."""


def open_study(storage: Path | None, directions: Sequence[str]) -> optuna.Study:
    """Create the study, or load it from its SQLite file to continue it (None: in memory).

    SQLite runs in WAL mode with `synchronous=NORMAL`: a committed trial survives the
    process being killed at any moment, and a commit costs no fsync (only a power cut can
    lose the last trials), which makes a study of fast runs several times faster.
    """
    backend = None if storage is None else check_storage(Path(storage))
    return optuna.create_study(
        storage=backend, study_name=STUDY_NAME, directions=list(directions), load_if_exists=True
    )


def check_storage(path: Path) -> optuna.storages.RDBStorage:
    """The study file's storage, refused (StudyError) unless it is new or holds this study.

    A folder's study.db is read back on --resume, so it is checked like every input: a
    regular SQLite file, readable by this Optuna, whose study is channelsim's. A study under
    another name (an older channelsim's, or another program's) would otherwise be passed
    over in silence and the search started again beside it.
    """
    path = path.resolve()
    if path.exists() or path.is_symlink():
        if path.is_symlink() or not path.is_file():
            raise StudyError(f"{path}: not a regular file; choose another --out")
        with open(path, "rb") as handle:
            if handle.read(len(SQLITE_HEADER)) not in (SQLITE_HEADER, b""):
                raise StudyError(f"{path}: not a study database (SQLite); choose another --out")
    try:
        backend = optuna.storages.RDBStorage(
            f"sqlite:///{path}", engine_kwargs={"creator": lambda: _connect(path)}
        )
        names = optuna.get_all_study_names(storage=backend)
    except Exception as exc:  # noqa: BLE001 - any failure to read it is one message
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StudyError(f"{path}: cannot be read as a study database ({reason})") from None
    if names and STUDY_NAME not in names:
        raise StudyError(
            f"{path}: holds the study {', '.join(map(repr, names))} (made by an older channelsim"
            f" or another program), not {STUDY_NAME!r}; it cannot be continued here: choose "
            "another --out"
        )
    return backend


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def run_study(
    study: optuna.Study,
    space: Sequence[Lever],
    evaluate: Evaluate,
    trials: int,
    batch: int,
    seed: int,
    population: int = 10,
    on_trial: OnTrial | None = None,
    sampler: Sampler | None = None,
) -> int:
    """Run the study until it holds `trials` finished trials; returns how many were run now.

    Trials left running by an interrupted session are finished first: a trial killed while
    Optuna was writing its parameters gets the missing ones from the sampler it was being
    asked with (seeded by its number, facing the same finished and running trials), then
    every one is evaluated; so a resumed study is the study an uninterrupted one would have
    been, wherever it was killed. `sampler(seed)` makes the sampler each trial is asked
    with (default `make_sampler`).
    """
    objectives = len(study.directions)

    def make(number: int) -> optuna.samplers.BaseSampler:
        if sampler is not None:
            return sampler(trial_seed(seed, number))
        return make_sampler(objectives, trial_seed(seed, number), population)

    distributions = {lever.path: lever.distribution() for lever in space}
    existing = study.get_trials(deepcopy=False)
    stale = [t for t in existing if t.state == TrialState.RUNNING]
    finished = sum(t.state in _FINISHED for t in existing)
    ran = 0
    if stale:
        asked = []
        for frozen in stale:
            study.sampler = make(frozen.number)
            trial = Trial(study, frozen._trial_id)
            for name, distribution in distributions.items():
                _suggest(trial, name, distribution)  # returns the stored value if it has one
            asked.append(trial)
        ran += _evaluate_batch(study, space, asked, evaluate, on_trial)
    number = len(existing)
    while finished + ran < trials:
        asked = []
        for _ in range(min(batch, trials - finished - ran)):
            study.sampler = make(number)
            asked.append(study.ask(distributions))
            number += 1
        ran += _evaluate_batch(study, space, asked, evaluate, on_trial)
    return ran


def _suggest(trial: Trial, name: str, distribution: BaseDistribution) -> Any:
    """`Trial.suggest_*` for a distribution, as `Study.ask(fixed_distributions)` does it."""
    if isinstance(distribution, CategoricalDistribution):
        return trial.suggest_categorical(name, distribution.choices)
    if isinstance(distribution, IntDistribution):
        return trial.suggest_int(name, distribution.low, distribution.high)
    assert isinstance(distribution, FloatDistribution)
    return trial.suggest_float(name, distribution.low, distribution.high, log=distribution.log)


_FINISHED = (TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED)


def _evaluate_batch(
    study: optuna.Study,
    space: Sequence[Lever],
    asked: list[Trial],
    evaluate: Evaluate,
    on_trial: OnTrial | None,
) -> int:
    candidates = [settings_of(space, trial.params) for trial in asked]
    for index, outcome in evaluate(candidates):
        trial = asked[index]
        for key, value in outcome.attrs.items():
            trial.set_user_attr(key, value)
        if outcome.values is None or not all(math.isfinite(v) for v in outcome.values):
            trial.set_user_attr("error", outcome.error or "an objective is not a finite number")
            frozen = study.tell(trial, state=TrialState.FAIL)
        else:
            for name, value in outcome.constraints.items():
                trial.set_constraint(name, value)
            frozen = study.tell(trial, list(outcome.values))
        if on_trial is not None:
            on_trial(frozen)
    return len(asked)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
