"""What every command shares: the user-error rule, and options spelled the same everywhere.

Every user error (bad scenario, bad option, unwritable output) is one line on stderr and
exit code 2; no traceback. Only click is imported here, so `--help` and `--version` stay
fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import functools
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


class UserError(click.ClickException):
    """Bad input: printed as one 'Error: ...' line (no usage text), exit code 2."""

    exit_code = 2


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user errors into one message and exit code 2, and Ctrl-C into one line and 130."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from channelsim.errors import ChannelsimError

        try:
            return fn(*args, **kwargs)
        except ChannelsimError as exc:
            raise UserError(printable(str(exc))) from None
        except BrokenPipeError:
            raise  # the reader stopped reading (`| head`): no error of the input
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise UserError(printable(f"{where}{exc.strerror or exc}")) from None
        except KeyboardInterrupt:
            stop_interrupted("")

    return wrapper


@contextmanager
def interrupted(what_is_kept: str) -> Iterator[None]:
    """On Ctrl-C inside the block: one line saying what was kept, and exit code 130."""
    try:
        yield
    except KeyboardInterrupt:
        stop_interrupted(what_is_kept)


def stop_interrupted(what_is_kept: str) -> None:
    """Print one line and exit 130; a second Ctrl-C while leaving is ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    detail = f": {printable(what_is_kept)}" if what_is_kept else ""
    click.echo(f"\ninterrupted (Ctrl-C){detail}", err=True)
    sys.exit(INTERRUPTED)


# Bidirectional overrides and isolates reorder what a terminal shows; zero-width characters
# hide text. Both are escaped like control characters.
HIDDEN = frozenset(
    "\u061c\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2066\u2067\u2068\u2069\ufeff"
)


def printable(text: str) -> str:
    """`text` with control, bidirectional-override and invisible characters escaped
    (`\\x1b`, `\\u202e`); line breaks and tabs are kept, so tables still print as tables."""
    return "".join(
        ch if ch in "\n\t" or (ch.isprintable() and ch not in HIDDEN) else _escape(ch)
        for ch in text
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


# Options that mean the same on every command, defined once: the same name, short flag,
# type and help text wherever they appear (tests/test_cli_options.py checks this). Where a
# command must say what its option counts or continues, the factory takes that one phrase.
set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="PATH=VALUE",
    help="Override a scenario setting by its dotted path (repeatable), "
    "e.g. --set reps.capacity=30 --set engagement.large_accounts=rep_only.",
)
weeks_option = click.option(
    "--weeks",
    type=click.IntRange(1, 5200),
    help="Weeks to simulate (default: the scenario's); the same as --set weeks=N.",
)
strict_option = click.option(
    "--strict", is_flag=True, help="Treat warnings about the scenario as errors (exit code 2)."
)
quiet_option = click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
scheduler_option = click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="Run on a Dask cluster through its scheduler, e.g. tcp://scheduler-host:8786 "
    "(instead of --workers).",
)
excel_option = click.option(
    "--excel", is_flag=True, help="Also write results.xlsx (Excel workbook)."
)
report_option = click.option(
    "--report",
    "make_report",
    is_flag=True,
    help="Also write report.html (one self-contained page).",
)


AUTO = "auto"


class WorkersType(click.ParamType):
    """A number of local worker processes, 1 to 512, or `auto`."""

    name = "N|auto"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if str(value).strip().lower() == AUTO:
            return AUTO
        try:
            number = int(str(value).strip())
        except ValueError:
            self.fail(f"{value!r} is not a whole number or 'auto'", param, ctx)
        if not 1 <= number <= 512:
            self.fail(f"{number} is not in the range 1<=x<=512", param, ctx)
        return number


def workers_option(
    default: int | str = AUTO,
    auto: str = "one per core when the runs are long enough to pay for starting them",
) -> Callable[..., Any]:
    """`--workers N|auto`, for commands whose results never depend on it; None means
    `default`, which the command applies."""
    return click.option(
        "--workers",
        type=WorkersType(),
        metavar="N|auto",
        help=f"Local worker processes, or auto: {auto} (default {default}); results are the "
        "same for any number.",
    )


def start_workers(workers: int | str | None) -> None:
    """With a count of more than one worker, start their forkserver now: it imports the
    engine on another core while this process imports the rest of what the command needs.
    Nothing yet for `auto` or no count: the command calls again once the count is known."""
    if isinstance(workers, int) and workers > 1:
        from channelsim.experiments.executors import start_workers_early

        start_workers_early()


def replicates_option(
    per: str, minimum: int = 1, default: int | None = None, source: str = "the scenario's"
) -> Callable[..., Any]:
    """`-n/--replicates`; `per` says what a replicate is run for ("per scenario"), `source`
    where the default comes from."""
    shown = f"default: {default if default is not None else source}"
    return click.option(
        "--replicates",
        "-n",
        type=click.IntRange(minimum, 100_000),
        default=default,
        help=f"Replicates {per}, on the same seeds for every one ({shown}).",
    )


def seed_option(what: str, source: str = "the scenario's") -> Callable[..., Any]:
    """`--seed`; `what` says what derives from it, `source` where the default comes from."""
    return click.option(
        "--seed",
        type=click.IntRange(0),
        help=f"Base seed: {what} derive from it (default: {source}).",
    )


def out_option(default: str) -> Callable[..., Any]:
    """`--out`; `default` is the folder name used without it."""
    return click.option(
        "--out",
        type=click.Path(file_okay=False, path_type=Path),
        help=f"Results folder (default results/{default}-<timestamp>).",
    )


def resume_option(what: str) -> Callable[..., Any]:
    """`--resume`; `what` names what is continued ("run")."""
    return click.option(
        "--resume", is_flag=True, help=f"Continue the unfinished {what} in --out (same options)."
    )


no_charts_option = click.option(
    "--no-charts", is_flag=True, help="Write the tables only (no charts/ folder; faster)."
)

scenario_argument = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))


@contextmanager
def progress_bar(unit: str, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """`on_progress(done, total)` for a command: a bar on stderr, drawn at the first call
    (once every input has been read), closed when the block ends however it ends."""
    from tqdm import tqdm

    bar: list[Any] = []

    def progress(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, initial=done, unit=unit, disable=quiet, file=sys.stderr))
        bar[0].update(done - bar[0].n)

    try:
        yield progress
    finally:
        for b in bar:
            b.close()


def add_workbook(out: Path, data: bytes) -> None:
    """Add `--excel`'s results.xlsx to a finished results folder, and say where it is."""
    from channelsim.storage import results

    written = results.ResultsDir(out).add_file("results.xlsx", data)
    click.echo(printable(f"Excel: {written}"))


def with_weeks(overrides: tuple[str, ...], weeks: int | None) -> tuple[str, ...]:
    """`--weeks N` as the last override, so it wins over a `--set weeks=...`."""
    return (*overrides, f"weeks={weeks}") if weeks else overrides


def warn_about(scenarios: list[tuple[str, Any]], strict: bool = False) -> None:
    """Print each scenario's warnings on stderr, one line each; with `strict`, refuse."""
    from channelsim.experiments.checks import warnings

    found = [f"{source}: {text}" for source, sc in scenarios for text in warnings(sc)]
    for line in found:
        click.echo(f"Warning: {line}", err=True)
    if strict and found:
        raise UserError(f"{len(found)} warning(s) with --strict; fix the scenario or drop --strict")
