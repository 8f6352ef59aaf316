"""What every command shares: the user-error rule, and options spelled the same everywhere.

Every user error (bad scenario, bad option, unwritable output) is one line on stderr and
exit code 2; no traceback. Only click is imported here, so `--help` and `--version` stay
fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


class UserError(click.ClickException):
    """Bad input: printed as one 'Error: ...' line (no usage text), exit code 2."""

    exit_code = 2


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user errors into one message and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from channelsim.errors import ChannelsimError

        try:
            return fn(*args, **kwargs)
        except ChannelsimError as exc:
            raise UserError(str(exc)) from None
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            raise UserError(f"{where}{exc.strerror or exc}") from None

    return wrapper


def set_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="PATH=VALUE",
        help="Override a scenario setting by its dotted path (repeatable), "
        "e.g. --set reps.capacity=30 --set engagement.large_accounts=rep_only.",
    )(fn)


workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 512),
    default=1,
    show_default=True,
    help="Local worker processes (results are the same for any number).",
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

scenario_argument = click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))


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
