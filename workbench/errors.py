"""User-facing errors.

A ``WorkbenchError`` carries a one-line message that names the file (or input)
and the problem. The CLI prints it without a traceback and exits non-zero; the
app shows it in the page. Library code raises it for bad *input*; programming
errors stay ordinary exceptions.
"""

from __future__ import annotations

from pathlib import Path


class WorkbenchError(Exception):
    """A problem with the user's input, reported as one line."""

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = None if path is None else str(path)
        self.problem = message
        super().__init__(f"{self.path}: {message}" if self.path else message)
