from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from experiments.run_metadata import OUTPUT_DIRS, git_commit, git_ignore_rule, git_state, git_toplevel, run_metadata


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "a.py").write_text("x = 1\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "init")
    return tmp_path


def test_a_clean_tree(repo: Path) -> None:
    state = git_state(repo / "core")
    assert state.commit is not None and len(state.commit) == 40
    assert (state.dirty, state.dirty_paths) == (False, ())
    assert git_commit(repo) == state.commit


@pytest.mark.parametrize("output", OUTPUT_DIRS)
def test_outputs_of_runs_and_reports_do_not_make_a_tree_dirty(repo: Path, output: str) -> None:
    (repo / output / "cell").mkdir(parents=True)
    (repo / output / "cell" / "metrics.json").write_text("{}")
    assert git_state(repo).dirty is False


@pytest.mark.parametrize(
    ("change", "listed"),
    [("modify", "core/a.py"), ("untracked", "core/new_loss.py"), ("staged", "core/b.py"), ("delete", "core/a.py")],
)
def test_code_changes_make_a_tree_dirty(repo: Path, change: str, listed: str) -> None:
    if change == "modify":
        (repo / "core" / "a.py").write_text("x = 2\n")
    elif change == "untracked":
        (repo / "core" / "new_loss.py").write_text("")  # imported just the same as a committed module
    elif change == "staged":
        (repo / "core" / "b.py").write_text("")
        git(repo, "add", "core/b.py")
    else:
        (repo / "core" / "a.py").unlink()
    state = git_state(repo / "core")
    assert state.dirty is True and state.dirty_paths == (listed,)
    assert git_commit(repo) == f"{state.commit}-dirty"


def test_outside_git(tmp_path: Path) -> None:
    assert git_state(tmp_path).commit is None and git_state(tmp_path).dirty is None
    assert git_toplevel(tmp_path / "not" / "yet") is None


def test_toplevel_of_a_path_not_created_yet(repo: Path) -> None:
    assert git_toplevel(repo / "reports" / "g") == repo.resolve()


def test_git_ignore_rule_names_the_rule_that_hides_a_path_and_none_elsewhere(repo: Path, tmp_path: Path) -> None:
    (repo / ".gitignore").write_text("wandb/\nruns/\n")
    assert git_ignore_rule(repo / "reports" / "s" / "runs" / "s") == ".gitignore:2: runs/"
    assert git_ignore_rule(repo / "reports" / "s") is None
    outside = tmp_path.parent / f"{tmp_path.name}-outside" / "runs"
    assert git_ignore_rule(outside) is None  # not in a work tree: nothing is ignored


def test_run_metadata_records_commit_and_dirtiness_side_by_side() -> None:
    metadata = run_metadata()
    assert set(metadata) == {"git_commit", "git_dirty", "git_dirty_paths", "versions"}
    assert metadata["git_commit"] is None or not metadata["git_commit"].endswith("-dirty")
    assert isinstance(metadata["git_dirty_paths"], list)
