from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import CommitInfo, HfApi

from experiments.hub.push_command import main
from lightning_modules.encoders.hf_encoder import HFEncoder

try:  # the HTTP client huggingface_hub raises its errors with: httpx2 from huggingface_hub 2, httpx before
    import httpx2 as httpx
except ImportError:
    import httpx


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("runs") / "cosent-s42"
    HFEncoder(str(tiny_model_dir)).save_sentence_transformer(run / "model")
    (run / "metrics.json").write_text("{}")  # run files beside the model are not uploaded
    return run


@pytest.fixture
def online(monkeypatch):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


@pytest.fixture
def fake_hub(monkeypatch, online):
    calls = {}

    def create_repo(self, repo_id, **kwargs):
        calls["create_repo"] = (repo_id, kwargs)

    def create_commit(self, repo_id, operations, **kwargs):
        calls["create_commit"] = (repo_id, list(operations), kwargs)
        url = f"https://huggingface.co/{repo_id}/commit/abc"
        return CommitInfo(commit_url=url, commit_message="m", commit_description="", oid="abc")

    monkeypatch.setattr(HfApi, "create_repo", create_repo)
    monkeypatch.setattr(HfApi, "create_commit", create_commit)
    return calls


def test_offline_is_one_clear_error(run_dir, monkeypatch, capsys):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    assert main([str(run_dir), "me/model"]) == 2
    err = capsys.readouterr().err
    assert err == "losslab push: error: the Hugging Face Hub is offline (HF_HUB_OFFLINE is set); unset it to push\n"


def test_uploads_the_exported_model_with_its_card_in_one_commit(run_dir, fake_hub, capsys):
    assert main([str(run_dir), "me/minilm-cosent", "--private"]) == 0
    assert "https://huggingface.co/me/minilm-cosent/commit/abc" in capsys.readouterr().out
    assert fake_hub["create_repo"] == ("me/minilm-cosent", {"repo_type": "model", "private": True, "exist_ok": True})
    repo_id, operations, kwargs = fake_hub["create_commit"]
    assert repo_id == "me/minilm-cosent" and kwargs["commit_message"] == "losslab: upload cosent-s42"
    model_files = sorted(
        p.relative_to(run_dir / "model").as_posix() for p in (run_dir / "model").rglob("*") if p.is_file()
    )
    assert sorted(op.path_in_repo for op in operations) == model_files
    assert {"modules.json", "1_Pooling/config.json", "model.safetensors", "README.md"} <= set(model_files)
    readme = next(op for op in operations if op.path_in_repo == "README.md").path_or_fileobj
    assert b'SentenceTransformer("me/minilm-cosent")' in readme
    assert "sentence_transformers_model_id" in (run_dir / "model" / "README.md").read_text()  # run dir untouched


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{tmp}", "me/model"], "holds no exported sentence-transformers model"),
        (["{run}", "not-a-repo-id"], "repo_id must look like 'user/name'"),
    ],
)
def test_bad_input_is_one_clear_error(run_dir, tmp_path, online, capsys, args, message):
    argv = [a.format(tmp=tmp_path, run=run_dir) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_hub_refusal_is_one_clear_error(run_dir, monkeypatch, online, capsys):
    def refuse(self, repo_id, **kwargs):
        response = httpx.Response(403, request=httpx.Request("POST", "https://huggingface.co/api/repos/create"))
        raise huggingface_hub.errors.HfHubHTTPError(
            "403 Forbidden: you cannot write to me/model\ndetails", response=response
        )

    monkeypatch.setattr(HfApi, "create_repo", refuse)
    assert main([str(run_dir), "me/model"]) == 2
    assert capsys.readouterr().err == (
        "losslab push: error: the Hub refused the upload to me/model: 403 Forbidden: you cannot write to me/model\n"
    )
