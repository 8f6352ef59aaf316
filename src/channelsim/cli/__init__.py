"""The `channelsim` command line. It parses, calls the Python API, and prints.

Commands live one module per job and are imported only when used, so `--help` and
`--version` import nothing heavy.
"""

from __future__ import annotations

import difflib
import importlib
import signal
import threading
from typing import Any

import click

from channelsim import __version__

COMMANDS = {
    "run": "channelsim.cli.run:run",
    "validate": "channelsim.cli.run:validate",
    "kpis": "channelsim.cli.run:kpis",
    "compare": "channelsim.cli.compare:compare",
    "dashboard": "channelsim.cli.dashboard:dashboard",
    "report": "channelsim.cli.compare:report_command",
    "schema": "channelsim.cli.schema:schema_command",
    "sweep": "channelsim.cli.sweep:sweep_command",
    "sensitivity": "channelsim.cli.sweep:sensitivity_command",
    "explore": "channelsim.cli.explore:explore_command",
    "optimize": "channelsim.cli.optimize:optimize_command",
    "validate-model": "channelsim.cli.validate_model:validate_model",
    "calibrate": "channelsim.cli.calibrate:calibrate",
    "template": "channelsim.cli.template:template",
}


class LazyGroup(click.Group):
    """A group whose commands are imported when first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, _, attribute = COMMANDS[name].partition(":")
        command: Any = getattr(importlib.import_module(module), attribute)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """A misspelt command gets the nearest one ('optimise': did you mean 'optimize'?)."""
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            close = difflib.get_close_matches(args[0] if args else "", COMMANDS, n=1)
            if not close:
                raise
            message = f"No such command {args[0]!r}; did you mean {close[0]!r}?"
            raise click.UsageError(message, ctx) from None

    def invoke(self, ctx: click.Context) -> Any:
        """Ctrl-C anywhere (even while a command is imported): one line and exit 130.

        While the command runs, Ctrl-C is Python's KeyboardInterrupt, which the command
        catches to say what it kept; before and after, the handler of the entry point
        (`channelsim.__main__`) is restored. An ignored SIGINT stays ignored.
        """
        previous = _interrupt_as_keyboard_interrupt()
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _one_line(exc) from None
        except KeyboardInterrupt:
            from channelsim.cli.common import stop_interrupted

            stop_interrupted("")
        finally:
            still_ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler
            if previous is not None and still_ours:  # not ignored by stop_interrupted
                signal.signal(signal.SIGINT, previous)

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:  # `channelsim` alone: the help
            assert exc.ctx is not None
            click.echo(exc.ctx.get_help())
            exc.ctx.exit(0)
        except click.UsageError as exc:
            raise _one_line(exc) from None


def _one_line(exc: click.UsageError) -> click.ClickException:
    """A wrong option or argument as one 'Error:' line and exit 2, like every other bad
    input (click would print the usage text above it), naming where the help is."""
    from channelsim.cli.common import UserError, printable

    where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
    return UserError(printable(exc.format_message()) + where)


def _interrupt_as_keyboard_interrupt() -> Any:
    """Make SIGINT raise KeyboardInterrupt; return the handler to restore, or None."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, signal.default_int_handler, None):
        return None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return previous


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="channelsim")
def main() -> None:
    """Simulate and compare direct, intermediary and parallel sales-channel strategies.

    \b
    Examples:
      channelsim run scenarios/parallel.yaml --replicates 10
      channelsim validate scenarios/parallel.yaml --show
    """
