"""Turn task names into MTEB task objects, with local data where the data directory has it."""

from __future__ import annotations

import difflib
import os
from pathlib import Path
from typing import Literal

import mteb
from huggingface_hub import constants as hub_constants
from mteb.abstasks.abstask import AbsTask
from mteb.get_tasks import TASK_LIST

from experiments.evaluation.errors import (
    DuplicateTaskError,
    InvalidArgumentError,
    MissingTaskDataError,
    UnknownTaskError,
)
from experiments.evaluation.local_tasks import LOCAL_TASKS, LocalSTSTask

DataSource = Literal["auto", "local", "hub"]
DATA_DIR_ENV = "LOSSLAB_DATA_DIR"


def resolve_data_dir(data_dir: str | Path | None) -> Path | None:
    """The data directory: ``data_dir`` if given, else ``$LOSSLAB_DATA_DIR``, else ``None``."""
    chosen = data_dir if data_dir is not None else os.environ.get(DATA_DIR_ENV)
    return Path(chosen).expanduser() if chosen else None


def _hub_task(name: str) -> AbsTask | None:
    try:
        return mteb.get_task(name)
    except KeyError:
        return None


def _unknown(name: str) -> UnknownTaskError:
    known = sorted(set(LOCAL_TASKS) | {cls.metadata.name for cls in TASK_LIST})  # classes: no instantiation
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; local tasks: {', '.join(sorted(LOCAL_TASKS))}"
    return UnknownTaskError(f"unknown task {name!r}{hint}")


def _missing(name: str, missing: list[Path], why: str) -> MissingTaskDataError:
    files = ", ".join(str(p) for p in missing)
    return MissingTaskDataError(
        f"no data for task {name!r}: {why}; missing {files} "
        f"(pass --data-dir or set {DATA_DIR_ENV} to a directory holding these files)"
    )


def csv_task_labels(paths: list[Path]) -> dict[Path, str]:
    """A distinct label per CSV path: its stem, prefixed with as many parent folders as tell same stems apart.

    ``a/headlines.csv`` and ``b/headlines.csv`` become ``a-headlines`` and ``b-headlines``;
    ``x/a/headlines.csv`` and ``y/a/headlines.csv`` become ``x-a-headlines`` and ``y-a-headlines``.
    """
    labels: dict[Path, str] = {}
    for stem in {p.stem for p in paths}:
        group = sorted({p for p in paths if p.stem == stem})
        depth, deepest = 0, max(len(p.parent.parts) - 1 for p in group)
        # Labels that stay equal at every depth (a-b/c vs a/b-c) fall through to the clash check.
        while len({_label(p, depth) for p in group}) < len(group) and depth < deepest:
            depth += 1
        labels.update({p: _label(p, depth) for p in group})
    return labels


def task_names(names: list[str]) -> list[str]:
    """The names results are filed under, without reading any data: CSV paths become ``LocalSTS-<label>``."""
    keys = [str(Path(n).expanduser().resolve()) if n.endswith(".csv") else n for n in names]
    labels = csv_task_labels([Path(k) for k in keys if k.endswith(".csv")])
    return [f"LocalSTS-{labels[Path(k)]}" if k.endswith(".csv") else k for k in keys]


def _label(path: Path, depth: int) -> str:
    folders = path.parent.parts[1:]  # without the root
    parents = folders[len(folders) - depth :] if depth else ()
    return "-".join([*parents, path.stem])


def resolve_task(name: str, data_dir: Path | None, source: DataSource = "auto", label: str | None = None) -> AbsTask:
    """Resolve one task name (or a path to an STS CSV with ``sentence1, sentence2, score``).

    Args:
        name: An MTEB task name, a local task name (see ``LOCAL_TASKS``) or a ``.csv`` path.
        data_dir: The data directory, or ``None``.
        source: ``local`` (data dir only), ``hub`` (MTEB's normal Hub loading) or ``auto`` (local when the
            data dir has the task's files, else the Hub).
        label: For a ``.csv`` path, the task label (see :class:`LocalSTSTask`).

    Raises:
        UnknownTaskError: For a name nobody knows (with close matches).
        MissingTaskDataError: When the data is neither local nor reachable on the Hub.
    """
    if name.endswith(".csv"):
        path = Path(name).expanduser()
        if not path.is_file():
            raise MissingTaskDataError(f"STS file {path} does not exist")
        return LocalSTSTask(path, label=label)
    local_cls = LOCAL_TASKS.get(name)
    hub_task = _hub_task(name)
    if local_cls is None and hub_task is None:
        raise _unknown(name)
    if source == "hub":
        if hub_task is None:
            raise _missing(name, local_cls.missing_files(data_dir), "it has no Hub version")  # type: ignore[union-attr]
        return hub_task
    missing = local_cls.missing_files(data_dir) if local_cls is not None else []
    if local_cls is not None and not missing:
        return local_cls(data_dir)  # type: ignore[arg-type]
    if source == "local":
        if local_cls is None:
            raise UnknownTaskError(f"task {name!r} has no local version; local tasks: {', '.join(sorted(LOCAL_TASKS))}")
        raise _missing(name, missing, "source is 'local'")
    if hub_task is None:
        raise _missing(name, missing, "it has no Hub version")
    if hub_constants.HF_HUB_OFFLINE and local_cls is not None:
        raise _missing(name, missing, "the Hub is offline (HF_HUB_OFFLINE)")
    return hub_task


def resolve_tasks(names: list[str], data_dir: str | Path | None = None, source: DataSource = "auto") -> list[AbsTask]:
    """Resolve task names with :func:`resolve_task`; ``data_dir`` defaults to ``$LOSSLAB_DATA_DIR``.

    CSV tasks get distinct names (:func:`csv_task_labels`); a task given twice, or two tasks that would
    still share a name, are refused before anything is evaluated, since their results would overwrite
    each other.

    Raises:
        DuplicateTaskError: For a repeated task or a name clash.
    """
    if source not in ("auto", "local", "hub"):
        raise InvalidArgumentError(f"source must be 'auto', 'local' or 'hub', got {source!r}")
    if not names:
        raise InvalidArgumentError("tasks must name at least one task")
    base = resolve_data_dir(data_dir)
    keys = [str(Path(n).expanduser().resolve()) if n.endswith(".csv") else n for n in names]
    repeated = next((n for n, k in zip(names, keys, strict=True) if keys.count(k) > 1), None)
    if repeated is not None:
        raise DuplicateTaskError(f"task {repeated!r} is given more than once")
    labels = csv_task_labels([Path(k) for k in keys if k.endswith(".csv")])
    tasks = [resolve_task(n, base, source, label=labels.get(Path(k))) for n, k in zip(names, keys, strict=True)]
    by_name: dict[str, str] = {}
    for given, task in zip(names, tasks, strict=True):
        clash = by_name.setdefault(task.metadata.name, given)
        if clash != given:
            raise DuplicateTaskError(
                f"tasks {clash!r} and {given!r} are both named {task.metadata.name!r}: their results would "
                "overwrite each other; rename one of the files"
            )
    return tasks
