"""Build pytorch-metric-learning objects from configs, so that an unset required argument fails in one line."""

from __future__ import annotations

import inspect
from typing import Any, TypeVar

from jsonargparse import add_instantiator
from pytorch_metric_learning.utils.module_with_records import ModuleWithRecords

PMLObject = TypeVar("PMLObject", bound=ModuleWithRecords)

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def instantiate_pml(class_type: type[PMLObject], *args: Any, **kwargs: Any) -> PMLObject:
    """Instantiator (for jsonargparse) of PML classes: losses, miners, distances, reducers, regularisers.

    PML's constructors leave their arguments untyped, so the Lightning CLI (which parses nested classes
    with ``fail_untyped=False``) turns a required one such as ArcFace's ``num_classes`` into an optional
    ``None``, and a missing value would surface as a torch ``TypeError`` deep inside PML. This refuses it
    first, by name; any other ``TypeError`` of the constructor is re-raised as one line naming the class.

    Args:
        class_type: The PML class named by the config's ``class_path``.
        *args: Positional arguments (jsonargparse passes none for config classes).
        **kwargs: The config's ``init_args``.

    Returns:
        The instance.

    Raises:
        ValueError: A required argument is unset, or the constructor rejects the arguments' types.
    """
    params = list(inspect.signature(class_type.__init__).parameters.values())[1 + len(args) :]
    missing = [p.name for p in params if p.kind in _NAMED and p.default is p.empty and kwargs.get(p.name) is None]
    if missing:
        raise ValueError(
            f"{class_type.__name__} needs {', '.join(missing)}: set {'them' if len(missing) > 1 else 'it'} in its "
            "init_args (a loss with class proxies/weights takes the data's num_classes and the encoder's "
            "embedding_size)"
        )
    try:
        return class_type(*args, **kwargs)
    except TypeError as err:
        given = ", ".join(f"{name}={value!r}" for name, value in kwargs.items() if value is not None)
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{class_type.__name__}({given}) could not be built: {reason}") from err


def register_pml_instantiator() -> None:
    """Use :func:`instantiate_pml` for every PML class jsonargparse builds (idempotent)."""
    add_instantiator(instantiate_pml, ModuleWithRecords, subclasses=True)
