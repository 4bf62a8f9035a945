"""What a run records about its environment: git commit, whether the working tree was dirty, package versions."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGES = ("losslab", "torch", "pytorch-lightning", "transformers", "sentence-transformers", "mteb", "wandb")
# Outputs that runs and reports write inside the checkout: a change there cannot change a run's numbers, and
# counting it would make every report regenerated during a grid mark the remaining cells dirty.
OUTPUT_DIRS = ("runs", "reports", "wandb", "lightning_logs")
MAX_LISTED_PATHS = 20


@dataclass(frozen=True)
class GitState:
    """The code a process runs from.

    Args:
        commit: ``HEAD``'s commit, or ``None`` outside a git work tree.
        dirty: Whether the work tree differs from ``commit``: a tracked file modified, staged, deleted or
            renamed, or an untracked file that git does not ignore (a new module is imported just the same),
            anywhere but under :data:`OUTPUT_DIRS`. ``None`` outside git.
        dirty_paths: The first :data:`MAX_LISTED_PATHS` such paths, as ``git status --porcelain`` lists them.
    """

    commit: str | None
    dirty: bool | None
    dirty_paths: tuple[str, ...] = ()


def _git(cwd: str | Path | None, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10).stdout


def git_state(cwd: str | Path | None = None) -> GitState:
    """The commit and dirtiness of the work tree that holds ``cwd`` (``GitState(None, None)`` outside git)."""
    try:
        commit = _git(cwd, "rev-parse", "HEAD").strip()
        excluded = [f":(top,exclude){name}/" for name in OUTPUT_DIRS]
        status = _git(cwd, "status", "--porcelain", "--untracked-files=normal", "--", ":(top)", *excluded)
    except (OSError, subprocess.SubprocessError):
        return GitState(None, None)
    paths = tuple(line[3:] for line in status.splitlines() if line.strip())
    return GitState(commit, bool(paths), paths[:MAX_LISTED_PATHS])


def _nearest_folder(path: Path) -> Path | None:
    """``path`` or its nearest parent that exists: where git can run for a path not created yet."""
    return next((p for p in [path, *path.parents] if p.is_dir()), None)


def git_toplevel(path: Path) -> Path | None:
    """The root of the git work tree holding ``path`` (which need not exist yet), or ``None``."""
    try:
        return Path(_git(_nearest_folder(path), "rev-parse", "--show-toplevel").strip()).resolve()
    except (OSError, subprocess.SubprocessError):
        return None


def git_ignore_rule(path: Path) -> str | None:
    """The ``.gitignore`` rule that keeps ``path`` out of git (``file:line: pattern``), or ``None``.

    ``None`` also where ``path`` is outside a git work tree or git is not installed: nothing is ignored there.
    """
    path = Path(path).resolve()
    try:  # check-ignore exits 1 for a path it does not ignore, 128 outside a work tree
        found = _git(_nearest_folder(path), "check-ignore", "--verbose", str(path))
    except (OSError, subprocess.SubprocessError):
        return None
    source, line, pattern = found.split("\t", 1)[0].split(":", 2)
    return f"{source}:{line}: {pattern}"


def git_commit(cwd: str | Path | None = None) -> str | None:
    """The current git commit (with ``-dirty`` when the tree has changes), or ``None`` outside git: for display."""
    state = git_state(cwd)
    if state.commit is None:
        return None
    return f"{state.commit}-dirty" if state.dirty else state.commit


def package_versions() -> dict[str, str]:
    """Installed versions of the packages that determine a run's numbers."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def run_metadata() -> dict[str, object]:
    """Git commit, dirtiness and package versions, as stored in W&B's config and ``run_metadata.json``.

    ``git_commit`` is the bare commit; ``git_dirty`` says whether the tree had changes (see :class:`GitState`),
    ``git_dirty_paths`` which (the first :data:`MAX_LISTED_PATHS`). Runs recorded before ``git_dirty`` existed
    carry the state as a ``-dirty`` suffix of ``git_commit``.
    """
    state = git_state(Path(__file__).resolve().parent)
    return {
        "git_commit": state.commit,
        "git_dirty": state.dirty,
        "git_dirty_paths": list(state.dirty_paths),
        "versions": package_versions(),
    }
