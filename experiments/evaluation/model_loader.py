"""Load an :class:`HFEncoder` from any model reference the ``eval`` command accepts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from core.model_resolution import DEFAULT_MODEL, resolve_model_name_or_path
from experiments.evaluation.errors import CheckpointMismatchError, NotAModelError
from lightning_modules.encoders.hf_encoder import HFEncoder

_ENCODER_ARGS = ("model_name_or_path", "pooling", "normalize", "max_seq_length")


@dataclass
class LoadedModel:
    """An encoder plus the MTEB name and revision its results are filed under."""

    encoder: HFEncoder
    name: str
    revision: str


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def sentence_transformers_settings(path: Path) -> dict[str, Any]:
    """Pooling, normalisation and length of a sentence-transformers model directory (legacy or v6 layout)."""
    modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
    settings: dict[str, Any] = {"normalize": any(m["type"].endswith("Normalize") for m in modules)}
    pooling_dirs = [m["path"] for m in modules if m["type"].endswith("Pooling")]
    pooling = _read_json(path / pooling_dirs[0] / "config.json") if pooling_dirs else {}
    if "pooling_mode" in pooling:
        settings["pooling"] = pooling["pooling_mode"]
    else:
        flags = {
            "pooling_mode_cls_token": "cls",
            "pooling_mode_max_tokens": "max",
            "pooling_mode_lasttoken": "lasttoken",
        }
        settings["pooling"] = next((mode for key, mode in flags.items() if pooling.get(key)), "mean")
    length = _read_json(path / "sentence_bert_config.json").get("max_seq_length")
    length = length or _read_json(path / "tokenizer_config.json").get("model_max_length")
    if isinstance(length, int) and length < 100_000:  # tokenizers store a huge sentinel when unset
        settings["max_seq_length"] = length
    return settings


def _from_model_dir(path: Path, name: str, revision: str) -> LoadedModel:
    settings = sentence_transformers_settings(path) if (path / "modules.json").is_file() else {}
    return LoadedModel(HFEncoder(str(path), **settings), name, revision)


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
    encoder = HFEncoder(**_encoder_config(checkpoint.get("hyper_parameters") or {}, path))
    state = {k.removeprefix("encoder."): v for k, v in checkpoint["state_dict"].items() if k.startswith("encoder.")}
    if not state:
        raise CheckpointMismatchError(f"checkpoint from a different encoder: {path} has no 'encoder.' weights")
    try:
        encoder.load_state_dict(state, strict=True)
    except RuntimeError as err:
        detail = str(err).strip().splitlines()[1].strip() if len(str(err).strip().splitlines()) > 1 else str(err)
        raise CheckpointMismatchError(f"checkpoint from a different encoder: {path}: {detail}") from err
    run_dir = path.parent.parent if path.parent.name == "checkpoints" else path.parent
    return LoadedModel(encoder, f"losslab/{run_dir.name}", f"{path.stem}-step{checkpoint.get('global_step', 0)}")


def _latest_checkpoint(run_dir: Path) -> Path | None:
    checkpoints = run_dir / "checkpoints"
    if (checkpoints / "last.ckpt").is_file():
        return checkpoints / "last.ckpt"
    found = sorted(checkpoints.glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def load_model(model: str) -> LoadedModel:
    """Load the encoder that ``model`` refers to.

    Args:
        model: One of: a Hub id or the embedded ``sentence-transformers/all-MiniLM-L6-v2``; a local Hugging
            Face or sentence-transformers model directory; a losslab run directory (its exported ``model/``,
            else its newest ``checkpoints/*.ckpt``, ``last.ckpt`` first); a Lightning ``.ckpt`` file.

    Raises:
        NotAModelError: If ``model`` is none of these.
        CheckpointMismatchError: If a checkpoint's weights do not fit its encoder configuration.
    """
    path = Path(model).expanduser()
    if path.is_file():
        if path.suffix != ".ckpt":
            raise NotAModelError(f"{path} is a file but not a Lightning checkpoint (.ckpt)")
        return _from_checkpoint(path)
    if path.is_dir():
        if (path / "model" / "config.json").is_file():
            return _from_model_dir(path / "model", f"losslab/{path.name}", "final")
        if (path / "config.json").is_file():
            return _from_model_dir(path, f"local/{path.name}", "local")
        checkpoint = _latest_checkpoint(path)
        if checkpoint is not None:
            return _from_checkpoint(checkpoint)
        raise NotAModelError(
            f"{path} is not a model: expected config.json, a run directory with model/ or checkpoints/*.ckpt"
        )
    name = DEFAULT_MODEL if model == "all-MiniLM-L6-v2" else model
    try:
        resolved = resolve_model_name_or_path(name)
    except FileNotFoundError as err:
        raise NotAModelError(str(err)) from err
    if Path(resolved).is_dir():
        return _from_model_dir(Path(resolved), name if "/" in name else f"local/{name}", _known_revision(name))
    try:
        return LoadedModel(HFEncoder(name), name if "/" in name else f"hub/{name}", _known_revision(name))
    except OSError as err:
        raise NotAModelError(f"cannot load model {name!r}: not a local path, and not loadable from the Hub") from err


def _known_revision(name: str) -> str:
    """MTEB's registered revision of a public model (results then match the leaderboard's), else ``main``."""
    import mteb

    try:
        return mteb.get_model_meta(name).revision or "main"
    except (KeyError, ValueError):
        return "main"
