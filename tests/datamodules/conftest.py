"""Fixtures shared by the DataModule tests."""

import pytest

from lightning_modules.encoders.hf_encoder import HFEncoder


@pytest.fixture
def encode_calls(monkeypatch):
    """Counts the teacher forward passes (HFEncoder.encode calls)."""
    calls = []
    original = HFEncoder.encode

    def counting(self, sentences, batch_size=64):
        calls.append(len(sentences))
        return original(self, sentences, batch_size)

    monkeypatch.setattr(HFEncoder, "encode", counting)
    return calls
