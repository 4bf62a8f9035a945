"""``losslab push <run_dir> <repo_id>``: upload a run's exported model, with its card, to the Hugging Face Hub."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# sentence-transformers' placeholder in a card written before the repository was known.
_PLACEHOLDER_ID = "sentence_transformers_model_id"


class PushError(Exception):
    """A push that cannot happen (offline, no exported model, Hub refusal), with a one-line message."""


def _model_dir(run_dir: Path) -> Path:
    model_dir = run_dir / "model" if (run_dir / "model").is_dir() else run_dir
    if not (model_dir / "modules.json").is_file():
        raise PushError(f"{run_dir} holds no exported sentence-transformers model (expected {run_dir / 'model'})")
    return model_dir


def push_model(
    run_dir: str | Path,
    repo_id: str,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
) -> str:
    """Upload ``<run_dir>/model`` (weights, module stack, tokenizer, ``README.md``) as one Hub commit.

    The repository is created when missing. The card's usage snippet is pointed at ``repo_id`` in the
    uploaded copy; the run directory is not modified.

    Args:
        run_dir: A losslab run directory (or an exported model directory itself).
        repo_id: ``user/name`` or ``organisation/name``.
        private: Create the repository as private.
        revision: Branch to commit to (default: the repository's default branch).
        commit_message: Commit message (default names the run).
        token: Hub token (default: the logged-in user's).

    Returns:
        The URL of the commit.

    Raises:
        PushError: When offline (``HF_HUB_OFFLINE``), without an exported model, or when the Hub refuses.
    """
    import huggingface_hub
    from huggingface_hub import CommitOperationAdd, HfApi

    run_dir = Path(run_dir)
    model_dir = _model_dir(run_dir)
    if huggingface_hub.is_offline_mode():
        raise PushError("the Hugging Face Hub is offline (HF_HUB_OFFLINE is set); unset it to push")
    if repo_id.count("/") != 1:
        raise PushError(f"repo_id must look like 'user/name', got {repo_id!r}")
    operations = []
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        relative = file.relative_to(model_dir).as_posix()
        content: str | bytes = str(file)
        if relative == "README.md":
            content = file.read_text(encoding="utf-8").replace(_PLACEHOLDER_ID, repo_id).encode("utf-8")
        operations.append(CommitOperationAdd(path_in_repo=relative, path_or_fileobj=content))
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        commit = api.create_commit(
            repo_id,
            operations,
            commit_message=commit_message or f"losslab: upload {run_dir.name}",
            revision=revision,
            repo_type="model",
        )
    except (OSError, ValueError) as err:  # HfHubHTTPError is an OSError (requests' HTTPError)
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise PushError(f"the Hub refused the upload to {repo_id}: {first_line}") from err
    return str(commit.commit_url)


def main(argv: Sequence[str] | None = None) -> int:
    """Upload a run's exported model, with its model card, to the Hugging Face Hub.

    Entry point of ``losslab push``.

    Args:
        argv: Arguments without the program name.

    Returns:
        The exit code: 0 after the upload, 2 for a push that cannot happen (one line on stderr).
    """
    parser = argparse.ArgumentParser(
        prog="losslab push",
        description="Upload a run's exported model (<run_dir>/model, with its model card) to the Hugging Face Hub.",
    )
    parser.add_argument("run_dir", help="losslab run directory (or an exported model directory)")
    parser.add_argument("repo_id", help="Hub repository, user/name")
    parser.add_argument("--private", action="store_true", help="create the repository as private")
    parser.add_argument("--revision", default=None, help="branch to commit to")
    parser.add_argument("--commit-message", default=None, help="commit message")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        url = push_model(args.run_dir, args.repo_id, args.private, args.revision, args.commit_message)
    except PushError as err:
        print(f"losslab push: error: {err}", file=sys.stderr)
        return 2
    print(f"pushed {args.run_dir} to {url}")
    return 0
