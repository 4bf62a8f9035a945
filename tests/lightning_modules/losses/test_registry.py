"""The registry lists every concrete loss, and every loss keeps the class-level contract."""

import importlib
import inspect
import pkgutil

import pytest
from torch import nn

import lightning_modules.losses as losses_pkg
from core.batch_formats import BatchFormat, BatchSampling
from lightning_modules.losses import LOSSES
from lightning_modules.losses.base import EmbeddingLoss
from lightning_modules.losses.batch_triplet import BatchTripletLoss
from lightning_modules.losses.wrapper_loss import WrapperLoss

ABSTRACT = {EmbeddingLoss, BatchTripletLoss, WrapperLoss}


def _all_loss_classes() -> set[type]:
    found = set()
    for info in pkgutil.iter_modules(losses_pkg.__path__):
        module = importlib.import_module(f"{losses_pkg.__name__}.{info.name}")
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, EmbeddingLoss) and obj.__module__ == module.__name__:
                found.add(obj)
    return found - ABSTRACT


def test_registry_lists_every_concrete_loss() -> None:
    assert set(LOSSES) == _all_loss_classes()


@pytest.mark.parametrize("cls", LOSSES, ids=lambda c: c.__name__)
def test_class_contract(cls: type[EmbeddingLoss]) -> None:
    assert getattr(losses_pkg, cls.__name__) is cls
    assert inspect.getdoc(cls), "the docstring feeds --help and the loss table"
    if isinstance(cls.accepts, frozenset):
        assert cls.accepts and all(isinstance(f, BatchFormat) for f in cls.accepts)
        assert isinstance(cls.sampling, BatchSampling)
    # Wrapper losses declare accepts/sampling as properties that follow the wrapped loss.
    else:
        assert isinstance(cls.accepts, property) and isinstance(cls.sampling, property)
    if cls.__init__ is nn.Module.__init__:
        return  # no options at all
    signature = inspect.signature(cls.__init__)
    assert not any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()), "no **kwargs"
