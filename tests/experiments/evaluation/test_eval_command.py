import shutil
from pathlib import Path

import huggingface_hub
import mteb
import pytest
import torch
from sentence_transformers import SentenceTransformer

from core.model_resolution import embedded_model_path
from experiments.cli import CONFIG_DIR, main
from experiments.evaluation.errors import CheckpointMismatchError, NotAModelError, ResultExistsError, UnknownTaskError
from experiments.evaluation.eval_command import evaluate_model
from experiments.evaluation.local_tasks import LocalSTSTask
from experiments.evaluation.model_loader import content_revision, load_model
from experiments.evaluation.model_meta import run_model_name
from experiments.evaluation.mteb_runner import run_mteb
from lightning_modules.encoders.hf_encoder import HFEncoder
from lightning_modules.encoders.module_stack import read_module_stack
from tests.experiments.short_fit import short_fit
from tests.sentence_transformer_models import make_sentence_transformer
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
    revision = content_revision(tiny_model_dir)
    assert (tmp_path / "out" / f"local__{tiny_model_dir.name}" / revision / "LocalSTS-tiny_sts.json").is_file()
    assert set(scores) == {"LocalSTS-tiny_sts"}


def test_results_are_never_overwritten_silently(tiny_model_dir, sts_csv, tmp_path):
    out = tmp_path / "out"
    evaluate_model(str(tiny_model_dir), [str(sts_csv)], str(out))
    written = sorted(p for p in out.rglob("*") if p.is_file())
    before = {p: p.stat().st_mtime_ns for p in written}
    with pytest.raises(ResultExistsError, match="LocalSTS-tiny_sts.json already exists"):
        evaluate_model(str(tiny_model_dir), [str(sts_csv)], str(out))
    assert {p: p.stat().st_mtime_ns for p in written} == before
    evaluate_model(str(tiny_model_dir), [str(sts_csv)], str(out), overwrite=True)
    assert all(p.stat().st_mtime_ns != before[p] for p in written if p.suffix in (".json", ".csv"))


def test_eval_command_refuses_existing_results_until_overwrite_is_given(tiny_model_dir, sts_csv, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["eval", "--model", str(tiny_model_dir), "--tasks", str(sts_csv), "--output-dir", str(out)]
    assert main(args) == 0
    result = next(out.rglob("LocalSTS-tiny_sts.json"))
    written = result.stat().st_mtime_ns
    capsys.readouterr()
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "LocalSTS-tiny_sts.json already exists" in err[0] and "overwrite" in err[0]
    assert result.stat().st_mtime_ns == written
    assert main([*args, "--overwrite"]) == 0
    assert result.stat().st_mtime_ns != written


def test_revision_is_the_content_that_was_loaded(tiny_model_dir, tmp_path):
    copy = Path(shutil.copytree(tiny_model_dir, tmp_path / "copy"))
    assert content_revision(copy) == content_revision(tiny_model_dir)
    (copy / "README.md").write_text("a model card does not change the model")
    assert content_revision(copy) == content_revision(tiny_model_dir)
    (copy / "config.json").write_text((copy / "config.json").read_text() + " ")
    assert content_revision(copy) != content_revision(tiny_model_dir)


def test_embedded_model_is_not_filed_under_the_official_hub_revision():
    loaded = load_model("sentence-transformers/all-MiniLM-L6-v2")
    assert loaded.name == "sentence-transformers/all-MiniLM-L6-v2"
    # A copy from a PyPI package: its own content hash, not MTEB's registered Hub commit.
    assert loaded.revision == content_revision(embedded_model_path())
    assert loaded.revision != mteb.get_model_meta(loaded.name).revision


def test_hub_model_is_filed_under_the_commit_it_loaded(st_model_dir, tmp_path, monkeypatch):
    commit = "0123456789abcdef0123456789abcdef01234567"
    snapshot = Path(shutil.copytree(st_model_dir, tmp_path / "hub" / "snapshots" / commit))
    calls = []

    def fake_snapshot_download(repo_id, revision=None, **kwargs):
        calls.append((repo_id, revision))
        return str(snapshot)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot_download)
    loaded = load_model("org/cls-model")
    assert (loaded.name, loaded.revision) == ("org/cls-model", commit)
    assert calls == [("org/cls-model", None)]
    assert loaded.encoder.pooling == "cls"


def test_run_directory_with_exported_model(tiny_model_dir, tmp_path):
    encoder = HFEncoder(str(tiny_model_dir), pooling="max", normalize=False, max_seq_length=24)
    torch.nn.init.constant_(encoder.transformer.pooler.dense.bias, 0.5)
    encoder.save_sentence_transformer(tmp_path / "run-1" / "model")
    loaded = load_model(str(tmp_path / "run-1"))
    assert (loaded.name, loaded.revision) == (
        run_model_name(tmp_path / "run-1"),
        content_revision(tmp_path / "run-1" / "model"),
    )
    assert loaded.name == f"losslab/{tmp_path.name}-run-1"
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
    assert (loaded.name, loaded.revision) == (run_model_name(tmp_path / "run-2"), "epoch=0-step5")
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


# MTEB computes these with numpy/scikit-learn in float64 from embeddings that differ from
# sentence-transformers' by the float32 rounding of other batch paddings (<= 1e-6 here). The "pearson" and
# "spearman" entries score with the model's own similarity in torch float32 and are not compared.
COMPARED_SCORES = ("main_score", "cosine_spearman", "cosine_pearson", "euclidean_spearman", "manhattan_spearman")


def _mteb_on_sentence_transformer(model_dir, csv_path):
    result = mteb.evaluate(
        SentenceTransformer(str(model_dir), device="cpu"),
        [LocalSTSTask(csv_path)],
        cache=None,
        co2_tracker=False,
        show_progress_bar=False,
        encode_kwargs={"batch_size": 32},
    )
    return result.task_results[0].scores["test"][0]


def _assert_same_scores(ours, theirs):
    for key in COMPARED_SCORES:
        assert ours[key] == pytest.approx(theirs[key], abs=1e-6), key


@pytest.fixture(scope="module")
def task_type_prompt_model(spread_model_dir, tmp_path_factory):
    # MTEB picks a prompt named after the task type ("STS") over the model's default prompt.
    return make_sentence_transformer(
        tmp_path_factory.mktemp("st_prompt") / "model",
        spread_model_dir,
        pooling="mean",
        include_prompt=False,
        prompts={"STS": "compare these: ", "query": "query: "},
        default_prompt_name="query",
    )


@pytest.mark.parametrize("model", ["st_model_dir", "task_type_prompt_model"])
def test_eval_gives_the_mteb_scores_of_the_sentence_transformers_model(model, stsb_subset, request):
    model_dir = request.getfixturevalue(model)
    ours = evaluate_model(str(model_dir), [str(stsb_subset)])["LocalSTS-stsb_head"].scores["test"][0]
    _assert_same_scores(ours, _mteb_on_sentence_transformer(model_dir, stsb_subset))


def test_prompt_choice_is_visible_in_the_score(task_type_prompt_model, stsb_subset):
    # Picking the default prompt instead of the task-type prompt would change the score (the test above
    # could not pass with the wrong prompt).
    loaded = load_model(str(task_type_prompt_model))
    loaded.encoder.prompts = {"query": "query: "}
    scores = run_mteb(loaded.encoder, [str(stsb_subset)], None, "local/x", "r")
    right = evaluate_model(str(task_type_prompt_model), [str(stsb_subset)])
    assert abs(scores["LocalSTS-stsb_head"].main_score - right["LocalSTS-stsb_head"].main_score) > 0.1


def test_trained_cls_model_is_evaluated_like_mteb_on_its_export(st_model_dir, stsb_subset, tmp_path):
    run_dir = tmp_path / "run"
    args = [
        "fit",
        "--config",
        str(CONFIG_DIR / "quickstart.yaml"),
        "--model.encoder.init_args.model_name_or_path",
        str(st_model_dir),
        *("--model.encoder.init_args.pooling", "auto", "--model.encoder.init_args.normalize", "auto"),
        *("--model.encoder.init_args.max_seq_length", "20"),  # the model's own (linked to the DataModule)
        *("--run_dir", str(run_dir), "--evaluation.tasks", "[]", "--wandb.mode", "disabled"),
        *short_fit(3),
    ]
    assert main(args) == 0
    exported = run_dir / "model"
    original, trained = read_module_stack(st_model_dir), read_module_stack(exported)
    assert (trained.pooling, [type(m) for m in trained.head], trained.prompts, trained.default_prompt_name) == (
        "cls",
        [type(m) for m in original.head],
        original.prompts,
        "query",
    )
    before = SentenceTransformer(str(st_model_dir), device="cpu").encode(["a man sings"])
    after = SentenceTransformer(str(exported), device="cpu").encode(["a man sings"])
    assert abs(before - after).max() > 1e-4  # it was trained
    ours = evaluate_model(str(run_dir), [str(stsb_subset)])["LocalSTS-stsb_head"].scores["test"][0]
    _assert_same_scores(ours, _mteb_on_sentence_transformer(exported, stsb_subset))


def test_same_named_csv_files_keep_both_results(tiny_model_dir, sts_csv, tmp_path):
    first, second = tmp_path / "a" / "headlines.csv", tmp_path / "b" / "headlines.csv"
    for target, rows in ((first, 12), (second, 8)):
        target.parent.mkdir()
        target.write_text("".join(sts_csv.read_text().splitlines(keepends=True)[: rows + 1]))
    scores = evaluate_model(str(tiny_model_dir), [str(first), str(second)], str(tmp_path / "out"))
    assert set(scores) == {"LocalSTS-a-headlines", "LocalSTS-b-headlines"}
    assert scores["LocalSTS-a-headlines"].main_score != scores["LocalSTS-b-headlines"].main_score
    on_disk = sorted(p.name for p in (tmp_path / "out").rglob("LocalSTS-*"))
    assert on_disk == ["LocalSTS-a-headlines.csv", "LocalSTS-a-headlines.json"] + [
        "LocalSTS-b-headlines.csv",
        "LocalSTS-b-headlines.json",
    ]
