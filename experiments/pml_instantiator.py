"""Build pytorch-metric-learning objects from configs, so that untyped PML arguments still fail in one line."""

from __future__ import annotations

import importlib
import inspect
from typing import Any, TypeVar

from jsonargparse import Namespace, add_instantiator
from pytorch_metric_learning.distances import BaseDistance
from pytorch_metric_learning.reducers import BaseReducer
from pytorch_metric_learning.regularizers import BaseRegularizer
from pytorch_metric_learning.utils.module_with_records import ModuleWithRecords

PMLObject = TypeVar("PMLObject", bound=ModuleWithRecords)

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
# The object-valued arguments PML's base classes take through **kwargs, untyped: their types here.
OBJECT_ARGUMENTS: dict[str, type[ModuleWithRecords]] = {
    "distance": BaseDistance,
    "reducer": BaseReducer,
    "embedding_regularizer": BaseRegularizer,
    "weight_regularizer": BaseRegularizer,
}


def _reason(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _build_object(owner: str, name: str, value: Any) -> Any:
    """A PML distance/reducer/regulariser from a ``{class_path, init_args}`` spec or a class path."""
    expected = OBJECT_ARGUMENTS[name]
    if value is None or isinstance(value, expected):
        return value
    spec = {"class_path": value} if isinstance(value, str) else value
    if isinstance(spec, Namespace):  # how a spec arrives once jsonargparse stops building specs in untyped arguments
        spec = spec.as_dict()
    if not (isinstance(spec, dict) and isinstance(spec.get("class_path"), str)):
        raise ValueError(
            f"{owner}: {name} must be a PML {expected.__name__} given as {{class_path: ..., init_args: {{...}}}}, "
            f"got {value!r}"
        )
    module_name, _, class_name = spec["class_path"].rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:
        raise ValueError(
            f"{owner}: {name} class_path {spec['class_path']!r} cannot be imported ({_reason(err)})"
        ) from None
    if not (isinstance(cls, type) and issubclass(cls, expected)):
        raise ValueError(f"{owner}: {name} must be a PML {expected.__name__}, got {spec['class_path']}")
    return instantiate_pml(cls, **(spec.get("init_args") or {}))


def instantiate_pml(class_type: type[PMLObject], *args: Any, **kwargs: Any) -> PMLObject:
    """Instantiator (for jsonargparse) of PML classes: losses, miners, distances, reducers, regularisers.

    PML's constructors leave their arguments untyped. The Lightning CLI (which parses nested classes with
    ``fail_untyped=False``) therefore turns a required one such as ArcFace's ``num_classes`` into an
    optional ``None``, which would surface as a torch ``TypeError`` deep inside PML: this refuses it
    first, by name. The object-valued ``distance``, ``reducer`` and regularisers reach PML as they were
    written (jsonargparse builds ``{class_path, init_args}`` specs in untyped arguments today, with a
    deprecation warning, and will stop in v5): a spec or a class path is built here, anything else is
    refused. Any other ``TypeError`` of a constructor becomes one line naming the class.

    Args:
        class_type: The PML class named by the config's ``class_path``.
        *args: Positional arguments (jsonargparse passes none for config classes).
        **kwargs: The config's ``init_args``.

    Returns:
        The instance.

    Raises:
        ValueError: A required argument is unset, an object argument is not a PML object or spec, or the
            constructor rejects the arguments.
    """
    owner = class_type.__name__
    params = list(inspect.signature(class_type.__init__).parameters.values())[1 + len(args) :]
    missing = [p.name for p in params if p.kind in _NAMED and p.default is p.empty and kwargs.get(p.name) is None]
    if missing:
        raise ValueError(
            f"{owner} needs {', '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} in its init_args "
            "(a loss with class proxies/weights takes the data's num_classes and the encoder's embedding_size)"
        )
    kwargs = {name: _build_object(owner, name, v) if name in OBJECT_ARGUMENTS else v for name, v in kwargs.items()}
    try:
        return class_type(*args, **kwargs)
    except TypeError as err:
        given = ", ".join(f"{name}={value!r}" for name, value in kwargs.items() if value is not None)
        raise ValueError(f"{owner}({given}) could not be built: {_reason(err)}") from err


def register_pml_instantiator() -> None:
    """Use :func:`instantiate_pml` for every PML class jsonargparse builds (idempotent)."""
    add_instantiator(instantiate_pml, ModuleWithRecords, subclasses=True)
