"""Calibration: fit scenario parameters to observed KPIs by simulated method of moments.

The loss of a parameter vector theta is the weighted squared distance of the simulated
moments to the observed ones,

    L(theta) = sum_k w_k (mbar_k(theta) - o_k)^2,

where mbar_k is the mean of moment k over R replicates run on the same R seeds for every
theta (common random numbers: the loss surface is smooth in theta instead of jumping with
fresh noise). The search minimises L with w_k = 1 / se_k^2 on the optimiser's engine
(`experiments/study.py`): Optuna's TPE sampler, seeded per trial, asking and telling
trials in fixed-size batches so that the runs of a batch go through any executor at once;
the study lives in SQLite in the output folder, so an interrupted calibration resumes where
it stopped and gives the same trials.

Uncertainty: at the optimum, the weights become w_k = 1 / (se_k^2 + s_k^2 / R), where s_k^2
is the replicate variance of moment k there (the simulated mean is noisy too). For each
parameter, the loss profile over its range is the lower envelope of (a) a grid of points
with the other parameters at the optimum and (b) every trial near that value; the 95%
interval is where the profile stays within chi2_1(0.95) = 3.84 of its minimum. A parameter
whose profile never rises that far on both sides within its range is reported as not
identified by these targets.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats

from channelsim.errors import InputError, ScenarioError
from channelsim.experiments import replicates as replicates_
from channelsim.experiments import study as studies
from channelsim.experiments.designs import Param as DesignParam
from channelsim.experiments.executors import Executor
from channelsim.model import metrics
from channelsim.scenario.schema import Scenario

QUARTER = 13
PERIODS = {"week": 1, "quarter": QUARTER}
LEVEL = 0.95
THRESHOLD = float(stats.chi2.ppf(LEVEL, 1))
SERIES_KPIS = (
    *metrics.FLOWS,
    *metrics.STOCKS,
    "channel_margin",
    "company_profit",
    "market_share",
    "repeat_purchase_rate",
    "avg_price_index",
)
MAX_TARGETS = 2_000
REFINEMENTS = 2  # times the estimate may move to a better point a profile found
REFINE_TOLERANCE = 0.1  # loss units; smaller gains do not move the estimate
STUDY_FILE = "study.db"


class CalibrationError(InputError):
    """Bad calibration input (observed file, parameter range): one line for the user."""


# --- what is observed -------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class _Total(_Strict):
    value: float
    se: float = Field(gt=0.0)


class _Series(_Strict):
    period: str = "quarter"
    values: list[float] = Field(min_length=1, max_length=MAX_TARGETS)
    se: float | list[float]

    @model_validator(mode="after")
    def _check(self) -> _Series:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {list(PERIODS)}, found {self.period!r}")
        se = self.se if isinstance(self.se, list) else [self.se] * len(self.values)
        if len(se) != len(self.values):
            raise ValueError(f"se has {len(se)} entries for {len(self.values)} values")
        if any(not s > 0 for s in se):
            raise ValueError("every se must be > 0")
        return self


class _ObservedFile(_Strict):
    weeks: int | None = Field(None, ge=1, le=5200)
    targets: dict[str, _Total] = {}
    series: dict[str, _Series] = {}


@dataclass(frozen=True)
class Target:
    """One observed moment: a run total, or one period of a weekly or quarterly series."""

    kpi: str
    value: float
    se: float
    period: str = "run"
    index: int = 0

    @property
    def label(self) -> str:
        return self.kpi if self.period == "run" else f"{self.kpi}[{self.period} {self.index + 1}]"


@dataclass(frozen=True)
class Observed:
    targets: tuple[Target, ...]
    weeks: int | None = None
    source: str = "observed"


def with_observed_weeks(scenario: Scenario, observed: Observed, weeks: int | None) -> Scenario:
    """The scenario to calibrate, lasting `weeks` when asked (as `--weeks` does); asked weeks
    that disagree with the observed file's `weeks:`, the period its numbers cover, are an
    error rather than silently replaced (`calibrate` runs last the observed period)."""
    if weeks is None:
        return scenario
    if observed.weeks not in (None, weeks):
        raise CalibrationError(
            f"{observed.source}: weeks: {observed.weeks} is the period the observed KPIs cover, "
            f"but {weeks} weeks were asked to be simulated; drop --weeks or make them agree"
        )
    return scenario.with_overrides({"weeks": weeks})


def read_observed(path: str | Path) -> Observed:
    """Read an OBSERVED.yaml file (through the hardened reader) and check it."""
    from channelsim.storage.inputs import read_yaml

    return observed_from(read_yaml(path, "file of observed KPIs"), str(path))


def observed_from(data: Any, source: str = "observed") -> Observed:
    """Check observed targets given as a mapping (the file's content)."""
    if not isinstance(data, Mapping):
        raise CalibrationError(f"{source}: expected a mapping with 'targets' and/or 'series'")
    try:
        parsed = _ObservedFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise CalibrationError(f"{source}: {where}: {message}") from None
    targets: list[Target] = []
    for kpi, total in parsed.targets.items():
        if kpi not in metrics.KPIS:
            raise CalibrationError(
                f"{source}: targets.{kpi}: unknown KPI{_hint(kpi, metrics.KPIS)}"
            )
        targets.append(Target(kpi, total.value, total.se))
    for kpi, series in parsed.series.items():
        if kpi not in SERIES_KPIS:
            raise CalibrationError(
                f"{source}: series.{kpi}: not a weekly KPI{_hint(kpi, SERIES_KPIS)}"
            )
        se = series.se if isinstance(series.se, list) else [series.se] * len(series.values)
        targets.extend(
            Target(kpi, v, s, series.period, i)
            for i, (v, s) in enumerate(zip(series.values, se, strict=True))
        )
    if not targets:
        raise CalibrationError(f"{source}: no targets; give targets: {{KPI: {{value, se}}}}")
    if len(targets) > MAX_TARGETS:
        raise CalibrationError(f"{source}: {len(targets)} targets; at most {MAX_TARGETS}")
    return Observed(tuple(targets), parsed.weeks, source)


def _hint(name: str, names: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else " (see `channelsim kpis`)"


# --- what is fitted ---------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    path: str
    low: float
    high: float
    integer: bool = False
    log: bool = False


def parse_param(text: str, scenario: Scenario) -> Param:
    """`PATH=LO:HI` or `PATH=log:LO:HI`; the path must name a number in the scenario."""
    path, sep, spec = text.partition("=")
    path = path.strip()
    if not sep or not path:
        raise CalibrationError(f"--param {text!r}: expected PATH=LO:HI, e.g. dealers.reach=0.1:0.6")
    parts = [p.strip() for p in spec.split(":")]
    log = parts[0] == "log"
    parts = parts[1:] if log else parts
    try:
        low, high = (float(p) for p in parts)
    except ValueError:
        raise CalibrationError(
            f"--param {path}: expected LO:HI (two numbers), found {spec!r}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        raise CalibrationError(f"--param {path}: expected LO < HI, found {spec!r}")
    if log and low <= 0:
        raise CalibrationError(f"--param {path}: a log range needs LO > 0, found {spec!r}")
    current = _value_at(scenario, path)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise CalibrationError(
            f"--param {path}: the setting is {current!r}, not a number that can be fitted"
        )
    integer = isinstance(current, int) and low.is_integer() and high.is_integer()
    for bound in (low, high):
        try:
            scenario.with_overrides({path: int(bound) if integer else bound})
        except ScenarioError as exc:
            raise CalibrationError(f"--param {path}={spec}: {exc}") from None
    return Param(path, low, high, integer, log)


def _value_at(scenario: Scenario, path: str) -> Any:
    try:
        node: Any = scenario
        for key in path.split("."):
            if isinstance(node, list | tuple):
                node = (
                    node[int(key)]
                    if key.isdigit()
                    else next(item for item in node if getattr(item, "name", None) == key)
                )
            else:
                node = getattr(node, key)
    except (AttributeError, IndexError, StopIteration, ValueError):
        try:
            scenario.with_overrides({path: 0})  # the loader's message names a bad path best
        except ScenarioError as exc:
            raise CalibrationError(str(exc)) from None
        raise CalibrationError(f"--param {path}: no such setting") from None
    return node


def settings(params: Sequence[Param], values: Sequence[float]) -> dict[str, float | int]:
    return {
        p.path: int(round(v)) if p.integer else float(v)
        for p, v in zip(params, values, strict=True)
    }


# --- simulated moments ------------------------------------------------------------------


def moments(output: replicates_.RunOutput, targets: Sequence[Target]) -> np.ndarray:
    """The simulated value of every target in one run."""
    out = np.empty(len(targets))
    periods: dict[str, dict[str, np.ndarray]] = {}
    for k, t in enumerate(targets):
        if t.period == "run":
            out[k] = output.kpis[t.kpi]
            continue
        if t.period not in periods:
            periods[t.period] = _per_period(output.weekly, PERIODS[t.period])
        series = periods[t.period][t.kpi]
        out[k] = series[t.index] if t.index < series.size else np.nan
    return out


def _per_period(weekly: pd.DataFrame, length: int) -> dict[str, np.ndarray]:
    """Flows summed and stocks at the end of each whole period; ratios from the sums.

    Periods start at week 0: the warm-up weeks (numbered below 0) are not observed."""
    measured = weekly[weekly["week"] >= 0]
    full = (len(measured) // length) * length
    frame = measured.iloc[:full]
    group = np.arange(full) // length
    table = {name: frame[name].groupby(group).sum().to_numpy() for name in metrics.FLOWS}
    table.update({name: frame[name].groupby(group).last().to_numpy() for name in metrics.STOCKS})
    return metrics.derive(table)


@dataclass
class Evaluation:
    """Moments of one parameter vector over the common replicates."""

    values: tuple[float, ...]
    mean: np.ndarray
    var: np.ndarray
    error: str = ""


def evaluate(
    scenario: Scenario,
    params: Sequence[Param],
    points: Sequence[Sequence[float]],
    seeds: Sequence[int],
    targets: Sequence[Target],
    executor: Executor,
) -> list[Evaluation]:
    """Run every point on the same seeds, all runs of all points through one executor call."""
    specs, owners, results = [], [], []
    for p, values in enumerate(points):
        try:
            sc = scenario.with_overrides(settings(params, values))
        except ScenarioError as exc:
            results.append(Evaluation(tuple(values), np.array([]), np.array([]), str(exc)))
            continue
        results.append(Evaluation(tuple(values), np.array([]), np.array([])))
        specs.extend(replicates_.replicate_specs(sc, seeds, {"point": p}))
        owners.extend([p] * len(seeds))
    outputs = replicates_.run_all(specs, executor)
    table: dict[int, list[np.ndarray]] = {}
    for owner, output in zip(owners, outputs, strict=True):
        table.setdefault(owner, []).append(moments(output, targets))
    for p, rows in table.items():
        m = np.vstack(rows)
        results[p].mean = m.mean(axis=0)
        results[p].var = m.var(axis=0, ddof=1) if m.shape[0] > 1 else np.zeros(m.shape[1])
    return results


def loss(mean: np.ndarray, observed: np.ndarray, weights: np.ndarray) -> float:
    if mean.size == 0 or np.isnan(mean).any():
        return math.inf
    return float(np.sum(weights * (mean - observed) ** 2))


# --- the search -------------------------------------------------------------------------


@dataclass
class CalibrationResult:
    params: list[Param]
    targets: list[Target]
    seeds: list[int]
    estimate: dict[str, float | int]
    parameters: pd.DataFrame
    fit: pd.DataFrame
    trials: pd.DataFrame
    profiles: pd.DataFrame
    scenario: Scenario


def calibrate(
    scenario: Scenario,
    observed: Observed,
    params: Sequence[Param],
    folder: Path,
    executor: Executor,
    trials: int = 40,
    replicates: int = 4,
    seed: int = 1,
    batch: int = 8,
    profile_points: int = 9,
    on_progress: Callable[[int, int], None] | None = None,
) -> CalibrationResult:
    """Search, then profile; the Optuna study (SQLite) in `folder` makes it resumable."""
    if observed.weeks is not None:
        scenario = scenario.with_overrides({"weeks": observed.weeks})
    targets = list(observed.targets)
    _check_periods(scenario, targets, observed.source)
    seeds = replicates_.replicate_seeds(seed, replicates)
    o = np.array([t.value for t in targets])
    se2 = np.array([t.se for t in targets]) ** 2
    search_weights = 1.0 / se2

    def run_points(points: Sequence[Sequence[float]]) -> list[Evaluation]:
        return evaluate(scenario, params, points, seeds, targets, executor)

    study = _search(params, folder, run_points, o, search_weights, trials, batch, seed, on_progress)
    rows = _trial_rows(study, params, targets)
    ok = rows[np.isfinite(rows["loss"])]
    if ok.empty:
        undefined = [t.label for t in targets if rows[f"sim:{t.label}"].isna().all()]
        reason = (
            f"targets {undefined} are not defined in this scenario (empty in every run)"
            if undefined
            else f"the first reason: {rows['error'].iloc[0] or 'no finite loss'}"
        )
        raise CalibrationError(f"every trial failed: {reason}")
    mean_cols = [f"sim:{t.label}" for t in targets]
    first = run_points([[float(ok.loc[ok["loss"].idxmin(), p.path]) for p in params]])[0]
    weights = 1.0 / (se2 + first.var / replicates)
    rows["loss_w"] = [
        loss(np.asarray(r, dtype=float), o, weights) if np.isfinite(r).all() else math.inf
        for r in rows[mean_cols].to_numpy()
    ]
    # Profile around the best point; when a profile finds a better one, move there and
    # profile again, so the intervals are drawn around the minimum actually found.
    best_eval = first
    best_loss = loss(first.mean, o, weights)
    for round_ in range(REFINEMENTS + 1):
        best_values = _rounded(params, best_eval.values)
        profiles = _profiles(
            params,
            best_values,
            best_loss,
            rows,
            run_points,
            o,
            weights,
            profile_points,
            [seed, round_],
        )
        better = profiles[profiles["slice_loss"] < best_loss - REFINE_TOLERANCE]
        if better.empty or round_ == REFINEMENTS:
            break
        top = better.loc[better["slice_loss"].idxmin()]
        best_eval = run_points([_rounded(params, [top[f"at:{p.path}"] for p in params])])[0]
        best_loss = loss(best_eval.mean, o, weights)
    profiles = pd.concat([profiles, _best_row(params, best_values, best_loss)], ignore_index=True)
    floor = float(min(profiles["loss"].min(), rows["loss_w"].min()))
    profiles["delta"] = profiles["loss"] - floor
    parameters = _intervals(params, best_values, profiles)
    estimate = settings(params, best_values)
    fit = _fit_table(targets, best_eval, replicates)
    return CalibrationResult(
        params=list(params),
        targets=targets,
        seeds=seeds,
        estimate=estimate,
        parameters=parameters,
        fit=fit,
        trials=rows,
        profiles=profiles,
        scenario=scenario.with_overrides(estimate),
    )


def _check_periods(scenario: Scenario, targets: Sequence[Target], source: str) -> None:
    given: dict[str, int] = {}
    for t in targets:
        if t.period != "run":
            given[t.kpi] = max(given.get(t.kpi, 0), t.index + 1)
    for t in targets:
        if t.period == "run":
            continue
        available = scenario.weeks // PERIODS[t.period]
        if t.index >= available:
            raise CalibrationError(
                f"{source}: series.{t.kpi}: {given[t.kpi]} {t.period} values, but "
                f"{scenario.weeks} weeks hold {available} whole {t.period}s; set weeks: to "
                f"at least {given[t.kpi] * PERIODS[t.period]}"
            )


def check_study(folder: Path) -> None:
    """Refuse a folder whose study file cannot be continued (`study.check_storage`)."""
    if (folder / STUDY_FILE).exists() or (folder / STUDY_FILE).is_symlink():
        with studies.quiet():
            studies.check_storage(folder / STUDY_FILE)


@studies.quiet()
def _search(
    params: Sequence[Param],
    folder: Path,
    run_points: Callable[[Sequence[Sequence[float]]], list[Evaluation]],
    observed: np.ndarray,
    weights: np.ndarray,
    trials: int,
    batch: int,
    seed: int,
    on_progress: Callable[[int, int], None] | None,
) -> Any:
    """Minimise the loss on the optimiser's engine (`study.run_study`): batched ask and
    tell, the sampler seeded per trial, stale trials of a killed session finished first."""
    import optuna

    study = studies.open_study(folder / STUDY_FILE, ["minimize"])
    names = [p.path for p in params]
    if set(study.user_attrs.get("params", names)) != set(names):
        raise CalibrationError(
            f"{folder}: the study there fits {study.user_attrs['params']}, not {names}; "
            "resume with the same --param list or choose another --out"
        )
    study.set_user_attr("params", names)
    space = studies.levers([_lever(p) for p in params])

    def evaluate(candidates: Sequence[dict[str, Any]]) -> Iterator[tuple[int, studies.Outcome]]:
        points = [[c[n] for n in names] for c in candidates]
        for i, result in enumerate(run_points(points)):
            value = loss(result.mean, observed, weights)
            attrs = {"mean": result.mean.tolist(), "var": result.var.tolist()}
            yield (
                i,
                studies.Outcome(
                    values=(value,) if math.isfinite(value) else None,
                    attrs={**attrs, "error": result.error},
                    error=result.error or "the loss is not a finite number",
                ),
            )

    def sampler(trial_seed: int) -> optuna.samplers.BaseSampler:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                seed=trial_seed,
                n_startup_trials=max(batch, 2 * len(params) + 2),
                multivariate=True,
                constant_liar=True,
            )

    done = sum(t.state.is_finished() for t in study.get_trials(deepcopy=False))

    def on_trial(_: Any) -> None:
        nonlocal done
        done += 1
        if on_progress is not None:
            on_progress(min(done, trials), trials)

    studies.run_study(
        study, space, evaluate, trials, batch, seed, on_trial=on_trial, sampler=sampler
    )
    return study


def _lever(p: Param) -> DesignParam:
    """The fitted range as the study engine's parameter (a log range of integers is
    searched as floats; `settings` rounds them)."""
    scale = "log" if p.log else "int" if p.integer else "linear"
    return DesignParam(p.path, low=p.low, high=p.high, scale=scale)


def _trial_rows(study: Any, params: Sequence[Param], targets: Sequence[Target]) -> pd.DataFrame:
    """One row per trial: its parameters, loss, and simulated mean of every target."""
    rows = []
    for t in study.get_trials(deepcopy=False):
        mean = t.user_attrs.get("mean") or [math.nan] * len(targets)
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                **{p.path: t.params.get(p.path, math.nan) for p in params},
                "loss": t.value if t.value is not None else math.inf,
                "error": t.user_attrs.get("error", ""),
                **{f"sim:{g.label}": m for g, m in zip(targets, mean, strict=True)},
            }
        )
    return pd.DataFrame(rows)


def _profiles(
    params: Sequence[Param],
    best: Sequence[float],
    best_loss: float,
    rows: pd.DataFrame,
    run_points: Callable[[Sequence[Sequence[float]]], list[Evaluation]],
    observed: np.ndarray,
    weights: np.ndarray,
    points: int,
    seed: Sequence[int],
    candidates: int = 3,
) -> pd.DataFrame:
    """Profile each parameter by continuation from the optimum out to both ends of its range.

    At each grid value the other parameters are re-optimised in two rounds: first among the
    previous step's values, their linear extrapolation (which follows a sloping valley),
    the best trial near that value and `candidates` wide seeded perturbations; then among
    `candidates` narrow perturbations of the best of those. The lower envelope of the
    trials near that value is kept too.
    A chain stops once the loss is 1.5 thresholds above the best (one point past the
    crossing is all the interval needs). All chains' points of a step go
    to the executor together.
    """
    rng = np.random.default_rng(np.random.SeedSequence(list(seed)))
    lows = np.array([_unit(p, p.low) for p in params])
    highs = np.array([_unit(p, p.high) for p in params])
    span = highs - lows
    finite = rows[np.isfinite(rows["loss_w"])]
    valley = _valley(
        np.array(
            [
                [_unit(p, v) for p, v in zip(params, r, strict=True)]
                for r in finite[[p.path for p in params]].to_numpy()
            ]
        ).reshape(-1, len(params)),
        finite["loss_w"].to_numpy(),
        lows,
        span,
    )
    chains = []
    for j, p in enumerate(params):
        grid = _grid(p, points)
        for side in (-1, 1):
            xs = grid[grid < best[j]][::-1] if side < 0 else grid[grid > best[j]]
            start = np.array([_unit(q, v) for q, v in zip(params, best, strict=True)])
            chains.append({"j": j, "xs": list(xs), "prev": start, "step": None})

    def evaluate_round(
        proposals: dict[int, list[np.ndarray]],
    ) -> dict[int, tuple[float, np.ndarray]]:
        flat = [(c, q) for c, qs in proposals.items() for q in qs]
        results = run_points(
            [[_from_unit(p, v) for p, v in zip(params, q, strict=True)] for _, q in flat]
        )
        best_of: dict[int, tuple[float, np.ndarray]] = {}
        for (c, q), r in zip(flat, results, strict=True):
            value = loss(r.mean, observed, weights)
            if c not in best_of or value < best_of[c][0]:
                best_of[c] = (value, q)
        return best_of

    def fix(q: np.ndarray, j: int, u: float) -> np.ndarray:
        q = np.clip(q, lows, highs)
        q[j] = u
        return q

    out: list[dict[str, Any]] = []
    while any(c["xs"] for c in chains):
        active = [i for i, c in enumerate(chains) if c["xs"]]
        first: dict[int, list[np.ndarray]] = {}
        for i in active:
            c = chains[i]
            j, x = c["j"], c["xs"][0]
            u = _unit(params[j], x)
            lo, hi = _neighbours(_grid(params[j], points), x)
            near = finite[(finite[params[j].path] >= lo) & (finite[params[j].path] <= hi)]
            qs = [fix(c["prev"].copy(), j, u)]
            if c["step"] is not None and c["step"][j] != 0:
                qs.append(fix(c["prev"] + c["step"] * (u - c["prev"][j]) / c["step"][j], j, u))
            if not near.empty:
                top = near.loc[near["loss_w"].idxmin()]
                qs.append(fix(np.array([_unit(q, top[q.path]) for q in params]), j, u))
            if valley is not None:
                qs.append(fix(valley(j, u), j, u))
            qs += [
                fix(qs[0] + rng.normal(0.0, 0.25, span.size) * span, j, u)
                for _ in range(candidates)
            ]
            first[i] = qs
        coarse = evaluate_round(first)
        fine = evaluate_round(
            {
                i: [coarse[i][1]]
                + [
                    fix(
                        coarse[i][1] + rng.normal(0.0, 0.06, span.size) * span,
                        chains[i]["j"],
                        coarse[i][1][chains[i]["j"]],
                    )
                    for _ in range(candidates)
                ]
                for i in active
            }
        )
        for i in active:
            c = chains[i]
            value, q = fine[i]
            j, x = c["j"], c["xs"].pop(0)
            p = params[j]
            lo, hi = _neighbours(_grid(p, points), x)
            near = finite[(finite[p.path] >= lo) & (finite[p.path] <= hi)]
            envelope = float(near["loss_w"].min()) if not near.empty else math.inf
            point = [_from_unit(r, v) for r, v in zip(params, q, strict=True)]
            out.append(
                {
                    "parameter": p.path,
                    "value": x,
                    "slice_loss": value,
                    "trial_loss": envelope,
                    "loss": min(value, envelope),
                    **{f"at:{r.path}": v for r, v in zip(params, point, strict=True)},
                }
            )
            c["step"], c["prev"] = q - c["prev"], q
            if min(value, envelope) > best_loss + 1.5 * THRESHOLD:
                c["xs"] = []
    return pd.DataFrame(out)


def _valley(
    points: np.ndarray, losses: np.ndarray, lows: np.ndarray, span: np.ndarray
) -> Callable[[int, float], np.ndarray] | None:
    """Where the other parameters minimise the loss when parameter j is held at u, from a
    quadratic fitted to the better half of the trials: the valley floor, which the first
    step of a profile away from the optimum cannot find by perturbation alone when the
    parameters trade off against each other. None when the fit is not a bowl."""
    k = span.size
    if k < 2:
        return None
    terms = (k + 1) * (k + 2) // 2
    keep = np.argsort(losses, kind="stable")[: max(2 * terms, losses.size // 2)]
    if keep.size < 2 * terms:
        return None
    x = (points[keep] - lows) / span
    pairs = [(a, b) for a in range(k) for b in range(a, k)]
    design = np.column_stack([np.ones(keep.size), x, *[x[:, a] * x[:, b] for a, b in pairs]])
    coef, *_ = np.linalg.lstsq(design, losses[keep], rcond=None)
    grad = coef[1 : k + 1]
    hess = np.zeros((k, k))
    for (a, b), c in zip(pairs, coef[k + 1 :], strict=True):
        hess[a, b] += c if a != b else 2 * c
        hess[b, a] = hess[a, b]
    try:
        np.linalg.cholesky(hess)
    except np.linalg.LinAlgError:
        return None

    def at(j: int, u: float) -> np.ndarray:
        others = [i for i in range(k) if i != j]
        t = (u - lows[j]) / span[j]
        h_oo, h_oj = hess[np.ix_(others, others)], hess[others, j]
        out = np.empty(k)
        out[j] = t
        out[others] = np.linalg.solve(h_oo, -(grad[others] + h_oj * t))
        return lows + out * span

    return at


def _rounded(params: Sequence[Param], values: Sequence[float]) -> list[float]:
    return [float(round(v)) if p.integer else float(v) for p, v in zip(params, values, strict=True)]


def _unit(p: Param, value: float) -> float:
    return math.log(value) if p.log else value


def _from_unit(p: Param, value: float) -> float:
    return math.exp(value) if p.log else float(value)


def _neighbours(grid: np.ndarray, x: float) -> tuple[float, float]:
    """The stretch of the range closer to `x` than to any other grid point."""
    i = int(np.argmin(np.abs(grid - x)))
    lo = (grid[i - 1] + grid[i]) / 2 if i > 0 else grid[0]
    hi = (grid[i + 1] + grid[i]) / 2 if i + 1 < grid.size else grid[-1]
    return float(lo), float(hi)


def _grid(p: Param, points: int) -> np.ndarray:
    grid = (np.geomspace if p.log else np.linspace)(p.low, p.high, points)
    return np.unique(np.round(grid)) if p.integer else grid


def _best_row(params: Sequence[Param], best: Sequence[float], value: float) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "parameter": p.path,
                "value": x,
                "slice_loss": value,
                "trial_loss": value,
                "loss": value,
            }
            for p, x in zip(params, best, strict=True)
        ]
    )


def _intervals(
    params: Sequence[Param], best: Sequence[float], profiles: pd.DataFrame
) -> pd.DataFrame:
    """The stretch around the estimate where the profile stays within the threshold."""
    rows = []
    for p, x0 in zip(params, best, strict=True):
        prof = profiles[profiles["parameter"] == p.path].sort_values("value", kind="stable")
        xs, ds = prof["value"].to_numpy(), prof["delta"].to_numpy()
        centre = int(np.flatnonzero(xs == x0)[0])
        low, low_bounded = _walk(xs, ds, centre, -1, p.low)
        high, high_bounded = _walk(xs, ds, centre, +1, p.high)
        rows.append(
            {
                "parameter": p.path,
                "estimate": int(round(x0)) if p.integer else x0,
                "ci_low": low,
                "ci_high": high,
                "identified": bool(low_bounded and high_bounded),
                "low": p.low,
                "high": p.high,
            }
        )
    return pd.DataFrame(rows)


def _walk(
    xs: np.ndarray, ds: np.ndarray, start: int, step: int, bound: float
) -> tuple[float, bool]:
    """Go from `start` until delta exceeds the threshold; interpolate the crossing."""
    i = start
    while 0 <= i + step < xs.size:
        j = i + step
        if ds[j] > THRESHOLD:
            # Interpolate sqrt(delta), which is linear in x for a quadratic profile.
            inside = math.sqrt(max(min(ds[i], THRESHOLD), 0.0))
            outside = math.sqrt(ds[j]) if math.isfinite(ds[j]) else math.inf
            share = (math.sqrt(THRESHOLD) - inside) / (outside - inside)
            return float(xs[i] + share * (xs[j] - xs[i])), True
        i = j
    return float(bound), False


def _fit_table(targets: Sequence[Target], best: Evaluation, replicates: int) -> pd.DataFrame:
    """Observed against simulated at the estimate (t interval of the simulated mean)."""
    sd = np.sqrt(best.var)
    half = stats.t.ppf(0.5 + LEVEL / 2, max(replicates - 1, 1)) * sd / np.sqrt(replicates)
    se = np.array([t.se for t in targets])
    observed = np.array([t.value for t in targets])
    return pd.DataFrame(
        {
            "kpi": [t.label for t in targets],
            "period": [t.period for t in targets],
            "index": [t.index + 1 if t.period != "run" else 0 for t in targets],
            "observed": observed,
            "se": se,
            "simulated": best.mean,
            "ci_low": best.mean - half,
            "ci_high": best.mean + half,
            "z": (best.mean - observed) / np.sqrt(se**2 + best.var / replicates),
        }
    )
