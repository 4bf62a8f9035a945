"""Load an :class:`HFEncoder` from any model reference the ``eval`` command accepts, with an honest revision."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml

from core.model_resolution import DEFAULT_MODEL
from experiments.evaluation.errors import CheckpointMismatchError, NotAModelError
from experiments.evaluation.model_meta import ModelProvenance, run_model_name
from lightning_modules.encoders.hf_encoder import HFEncoder

_ENCODER_ARGS = ("model_name_or_path", "pooling", "normalize", "max_seq_length", "revision")


@dataclass
class LoadedModel:
    """An encoder plus the MTEB name and revision its results are filed under.

    Attributes:
        encoder: The loaded encoder.
        name: MTEB model name (``organisation/name``).
        revision: What was loaded: the Hub commit, ``local-<content hash>`` for a model directory, or the
            checkpoint name and step.
        provenance: Base model of a losslab run, when its ``config.yaml`` names one.
    """

    encoder: HFEncoder
    name: str
    revision: str
    provenance: ModelProvenance = field(default_factory=ModelProvenance)


def content_revision(model_dir: Path) -> str:
    """``local-<12 hex>``: a SHA-256 over the names and bytes of a model directory's files.

    The model card (``README.md``) is left out: rewriting it does not change the model.
    """
    digest = hashlib.sha256()
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        relative = file.relative_to(model_dir).as_posix()
        if relative == "README.md" or any(part.startswith(".") for part in file.relative_to(model_dir).parts):
            continue
        digest.update(relative.encode() + b"\0")
        with file.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return f"local-{digest.hexdigest()[:12]}"


def _encoder(**kwargs: Any) -> HFEncoder:
    try:
        return HFEncoder(**kwargs)
    except (OSError, ValueError) as err:  # unreachable Hub model, unrepresentable module stack
        raise NotAModelError(str(err).strip().splitlines()[0]) from err


def _run_provenance(run_dir: Path) -> ModelProvenance:
    """The base model a losslab run was trained from, read from its saved ``config.yaml``."""
    try:
        config = yaml.safe_load((run_dir / "config.yaml").read_text(encoding="utf-8"))
        base = config["model"]["encoder"]["init_args"]["model_name_or_path"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ModelProvenance()
    return ModelProvenance(adapted_from=str(base))


def _from_model_dir(path: Path, name: str) -> LoadedModel:
    return LoadedModel(_encoder(model_name_or_path=str(path)), name, content_revision(path))


def _encoder_config(hyper_parameters: dict[str, Any], path: Path) -> dict[str, Any]:
    config = hyper_parameters.get("encoder")
    if isinstance(config, HFEncoder):
        return {arg: getattr(config, arg) for arg in _ENCODER_ARGS}
    if isinstance(config, dict):
        args = config.get("init_args", config)  # jsonargparse's {class_path, init_args} or plain init args
        return {arg: args[arg] for arg in _ENCODER_ARGS if arg in args}
    raise NotAModelError(f"checkpoint {path} has no encoder configuration in its hyper_parameters")


def _from_checkpoint(path: Path) -> LoadedModel:
    try:
        # Not weights_only: hyper_parameters may hold the pickled encoder object from save_hyperparameters().
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise NotAModelError(f"{path} is not a readable Lightning checkpoint ({type(err).__name__})") from err
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise NotAModelError(f"{path} is not a Lightning checkpoint (no state_dict)")
    encoder = _encoder(**_encoder_config(checkpoint.get("hyper_parameters") or {}, path))
    state = {k.removeprefix("encoder."): v for k, v in checkpoint["state_dict"].items() if k.startswith("encoder.")}
    if not state:
        raise CheckpointMismatchError(f"checkpoint from a different encoder: {path} has no 'encoder.' weights")
    try:
        encoder.load_state_dict(state, strict=True)
    except RuntimeError as err:
        detail = str(err).strip().splitlines()[1].strip() if len(str(err).strip().splitlines()) > 1 else str(err)
        raise CheckpointMismatchError(f"checkpoint from a different encoder: {path}: {detail}") from err
    run_dir = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    revision = f"{path.stem}-step{checkpoint.get('global_step', 0)}"
    return LoadedModel(encoder, run_model_name(run_dir), revision, _run_provenance(run_dir))


def _latest_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = run_dir / "checkpoints"
    if (checkpoints / "last.ckpt").is_file():
        return checkpoints / "last.ckpt"
    found = sorted(checkpoints.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def load_model(model: str) -> LoadedModel:
    """Load the encoder that ``model`` refers to, with its own sentence-transformers module stack.

    Args:
        model: One of: a Hub id or the embedded ``sentence-transformers/all-MiniLM-L6-v2``; a local Hugging
            Face or sentence-transformers model directory; a losslab run directory (its exported ``model/``,
            else its newest ``checkpoints/*.ckpt``, ``last.ckpt`` first); a Lightning ``.ckpt`` file.

    Returns:
        The encoder, filed under the revision actually loaded: a Hub model's commit hash; for a local
        directory (the embedded model too) a hash of its files, never the official revision of a model it
        may be a copy of; for a checkpoint its name and step.

    Raises:
        NotAModelError: If ``model`` is none of these, or its module stack cannot be represented.
        CheckpointMismatchError: If a checkpoint's weights do not fit its encoder configuration.
    """
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix != ".ckpt":
            raise NotAModelError(f"{path} is a file but not a Lightning checkpoint (.ckpt)")
        return _from_checkpoint(path)
    if path.is_dir():
        if (path / "model" / "config.json").is_file():
            loaded = _from_model_dir(path / "model", run_model_name(path))
            loaded.provenance = _run_provenance(path)
            return loaded
        if (path / "config.json").is_file():
            return _from_model_dir(path, f"local/{path.name}")
        checkpoint = _latest_checkpoint(path)
        if checkpoint is not None:
            return _from_checkpoint(checkpoint)
        raise NotAModelError(
            f"{path} is not a model: expected config.json, a run directory with model/ or checkpoints/*.ckpt"
        )
    name = DEFAULT_MODEL if model == "all-MiniLM-L6-v2" else model
    encoder = _encoder(model_name_or_path=name)
    source = encoder.source
    revision = source.commit if source.commit is not None else content_revision(source.local_dir)
    return LoadedModel(encoder, name if "/" in name else f"hub/{name}", revision)
