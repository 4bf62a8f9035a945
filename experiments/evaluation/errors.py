"""Errors for bad evaluation input: each carries a one-line message meant for the command line.

All derive from :class:`EvaluationInputError`, so ``losslab eval`` catches one type, and also from the
matching built-in (``ValueError``, ``FileNotFoundError`` or ``FileExistsError``) for callers that catch those.
"""

from __future__ import annotations


class EvaluationInputError(Exception):
    """Base of every error caused by the user's evaluation input (not by a bug)."""


class InvalidArgumentError(EvaluationInputError, ValueError):
    """An argument outside its allowed values."""


class UnknownTaskError(EvaluationInputError, ValueError):
    """A task name that neither the local tasks nor MTEB know."""


class MissingTaskDataError(EvaluationInputError, FileNotFoundError):
    """A task whose data is neither in the data directory nor reachable on the Hub."""


class NotAModelError(EvaluationInputError, ValueError):
    """A ``--model`` reference that is not a model, run directory or checkpoint."""


class CheckpointMismatchError(EvaluationInputError, ValueError):
    """A checkpoint whose weights do not fit the encoder its hyper-parameters describe."""


class ResultExistsError(EvaluationInputError, FileExistsError):
    """An evaluation whose result files already exist (results are never overwritten silently)."""


class DuplicateTaskError(EvaluationInputError, ValueError):
    """Two tasks of one evaluation with the same name (their results would overwrite each other)."""
