"""The errors a user can cause. Each carries a one-line message meant for the user as it is.

The CLI turns any `ChannelsimError` into that line and exit code 2 (never a traceback);
Python callers catch the class they care about.
"""

from __future__ import annotations

from typing import Any


def one_line(text: str) -> str:
    """Escape line breaks and other control characters a user's key or value may hold."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class ChannelsimError(ValueError):
    """Bad user input of any kind: a file, a setting, an option, a results folder."""

    def __init__(self, message: str, *args: Any) -> None:
        super().__init__(one_line(str(message)), *args)


class InputError(ChannelsimError):
    """A file a command reads is missing, not a regular file, too large or malformed."""


class ScenarioError(ChannelsimError):
    """A scenario (file, --set value or Python override) is not valid."""
