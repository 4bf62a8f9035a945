"""Errors for bad evaluation input: each carries a one-line message meant for the command line."""

from __future__ import annotations


class UnknownTaskError(ValueError):
    """A task name that neither the local tasks nor MTEB know."""


class MissingTaskDataError(FileNotFoundError):
    """A task whose data is neither in the data directory nor reachable on the Hub."""


class NotAModelError(ValueError):
    """A ``--model`` reference that is not a model, run directory or checkpoint."""


class CheckpointMismatchError(ValueError):
    """A checkpoint whose weights do not fit the encoder its hyper-parameters describe."""
