"""The error raised for bad training data."""

from __future__ import annotations

from core.errors import SetupError


class DataValidationError(SetupError):
    """A data file (or a data option) that cannot be trained on.

    The message names the file, the 1-based data row (header excluded), the column and what was
    expected, so the fix is obvious without opening a debugger.
    """
