"""The `channelsim` command (and `python -m channelsim`): Ctrl-C is handled from the first line.

Python turns Ctrl-C into a KeyboardInterrupt, which during the imports that come before the
command line's own handling (click, the command module, numpy, Mesa...) ended in a
traceback. So before anything else is imported, Ctrl-C is made to print one line and exit
130. While a command runs, the command line takes Ctrl-C over as a KeyboardInterrupt, so
the command can say what it kept (`cli.LazyGroup.invoke`), and hands it back afterwards.
A SIGINT that was ignored when the process started (`nohup`, `cmd &`) stays ignored.
"""

import gc
import os
import signal
import sys

INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C


def _stop(signum: int, frame: object) -> None:
    """Ctrl-C outside a running command: nothing is being written, so leave at once."""
    try:
        sys.stderr.write("\ninterrupted (Ctrl-C)\n")
        sys.stderr.flush()
    finally:
        os._exit(INTERRUPTED)


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _stop)


def main() -> None:
    """Run the command line (imported only now, under the handler above).

    When the command has finished, however it ends, the objects it leaves are frozen
    (`gc.freeze`): the interpreter's exit then has no cyclic collection over everything the
    imports made (pandas, matplotlib, pydantic...), which took 0.2 s of every command.
    Every file is written and closed by then; atexit handlers still run.
    """
    from channelsim.cli import main as command_line

    try:
        command_line(prog_name="channelsim")
    finally:
        gc.freeze()


if __name__ == "__main__":
    main()
