import pytest
import torch

from experiments.evaluation.errors import CheckpointMismatchError, NotAModelError, UnknownTaskError
from experiments.evaluation.eval_command import evaluate_model
from experiments.evaluation.model_loader import load_model
from lightning_modules.encoders.hf_encoder import HFEncoder
from tests.tiny_model import make_tiny_model


def _checkpoint(path, encoder, hparams_encoder, step=5):
    state = {f"encoder.{k}": v for k, v in encoder.state_dict().items()}
    state["loss.weight"] = torch.zeros(1)  # other modules' weights are ignored
    torch.save({"state_dict": state, "hyper_parameters": {"encoder": hparams_encoder}, "global_step": step}, path)
    return path


def _jsonargparse_config(model_dir):
    return {
        "class_path": "lightning_modules.encoders.hf_encoder.HFEncoder",
        "init_args": {
            "model_name_or_path": str(model_dir),
            "pooling": "cls",
            "normalize": False,
            "max_seq_length": 16,
        },
    }


def _same_weights(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def test_evaluates_a_model_directory(tiny_model_dir, sts_csv, tmp_path, capsys):
    scores = evaluate_model(str(tiny_model_dir), [str(sts_csv)], str(tmp_path / "out"))
    assert "LocalSTS-tiny_sts" in capsys.readouterr().out
    assert (tmp_path / "out" / f"local__{tiny_model_dir.name}" / "local" / "LocalSTS-tiny_sts.json").is_file()
    assert set(scores) == {"LocalSTS-tiny_sts"}


def test_run_directory_with_exported_model(tiny_model_dir, tmp_path):
    encoder = HFEncoder(str(tiny_model_dir), pooling="max", normalize=False, max_seq_length=24)
    torch.nn.init.constant_(encoder.transformer.pooler.dense.bias, 0.5)
    encoder.save_sentence_transformer(tmp_path / "run-1" / "model")
    loaded = load_model(str(tmp_path / "run-1"))
    assert (loaded.name, loaded.revision) == ("losslab/run-1", "final")
    enc = loaded.encoder
    assert (enc.pooling, enc.normalize, enc.max_seq_length) == ("max", False, 24)
    assert _same_weights(enc, encoder)


@pytest.mark.parametrize("as_object", [False, True], ids=["jsonargparse-dict", "encoder-object"])
def test_checkpoint_in_run_directory(tiny_model_dir, tmp_path, as_object):
    trained = HFEncoder(**_jsonargparse_config(tiny_model_dir)["init_args"])
    torch.nn.init.normal_(trained.transformer.embeddings.word_embeddings.weight)
    (tmp_path / "run-2" / "checkpoints").mkdir(parents=True)
    _checkpoint(
        tmp_path / "run-2" / "checkpoints" / "epoch=0.ckpt",
        trained,
        trained if as_object else _jsonargparse_config(tiny_model_dir),
    )
    loaded = load_model(str(tmp_path / "run-2"))
    assert (loaded.name, loaded.revision) == ("losslab/run-2", "epoch=0-step5")
    assert (loaded.encoder.pooling, loaded.encoder.normalize, loaded.encoder.max_seq_length) == (
        "cls",
        False,
        16,
    )
    assert _same_weights(loaded.encoder, trained)


def test_checkpoint_from_a_different_encoder(tiny_model_dir, tmp_path):
    other = HFEncoder(str(make_tiny_model(tmp_path / "wider", hidden_size=48)))
    ckpt = _checkpoint(tmp_path / "x.ckpt", other, _jsonargparse_config(tiny_model_dir))
    with pytest.raises(CheckpointMismatchError, match="checkpoint from a different encoder"):
        load_model(str(ckpt))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda p: p.joinpath("notes.txt").write_text("hi") and p / "notes.txt",
            "not a Lightning checkpoint",
        ),
        (lambda p: p.joinpath("bad.ckpt").write_text("garbage") and p / "bad.ckpt", "not a readable"),
        (lambda p: p, "is not a model"),
        (lambda p: p / "does" / "not" / "exist", "does not exist"),
    ],
    ids=["text-file", "corrupt-ckpt", "empty-dir", "missing-path"],
)
def test_not_a_model(tmp_path, make, message):
    with pytest.raises(NotAModelError, match=message):
        load_model(str(make(tmp_path)))


def test_bad_task_fails_before_loading_the_model(tmp_path):
    with pytest.raises(UnknownTaskError, match="did you mean"):
        evaluate_model(str(tmp_path / "never-loaded"), ["SICK-RR"])
