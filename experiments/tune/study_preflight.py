"""Checks a study against its losses and data before any trial: arguments, formats, the objective."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass

from experiments.grid.cell_config_parser import CellConfigParser
from experiments.tune.study_runs import loss_args
from experiments.tune.study_spec import LossEntry, StudySpec
from lightning_modules.evaluators import evaluator_for

LOSS_ARGS = "model.loss.init_args."


@dataclass(frozen=True)
class LossPlan:
    """What the pre-flight learnt about one loss of the study.

    Args:
        label: The loss's label in the study.
        loss: Its class name.
        dataset: The data it trains on.
        objective: The validation metric searched on (``val/<name>``).
        higher_is_better: The objective's direction.
    """

    label: str
    loss: str
    dataset: str
    objective: str
    higher_is_better: bool


def _loss_class(class_path: str) -> type:
    module, _, name = class_path.rpartition(".")
    return getattr(importlib.import_module(module or "lightning_modules.losses"), name)


def _check_loss_arguments(spec: StudySpec, loss: LossEntry, class_path: str) -> None:
    cls = _loss_class(class_path)
    accepted = [name for name in inspect.signature(cls).parameters if name not in ("self", "args", "kwargs")]
    for parameter in spec.search_space(loss):
        if parameter.key.startswith(LOSS_ARGS):
            argument = parameter.key.removeprefix(LOSS_ARGS).split(".")[0]
            if argument not in accepted:
                raise ValueError(
                    f"study {spec.name}: loss {loss.label} ({cls.__name__}) has no argument {argument!r} to search "
                    f"({parameter.key}); its arguments: {', '.join(accepted) or 'none'}"
                )


def _check_objective(spec: StudySpec, objective: str) -> None:
    given = spec.objective
    if given is None or given == objective:
        return
    if not given.startswith("val/") or "mteb" in given or given.startswith("test"):
        raise ValueError(
            f"study {spec.name}: objective {given!r} is not a validation metric: the search may only see "
            f"validation data (test and MTEB scores are for the final stage); use {objective}"
        )
    raise ValueError(
        f"study {spec.name}: objective {given!r}; the search optimises the data's primary validation metric, "
        f"{objective} (what checkpoints select on)"
    )


def preflight(spec: StudySpec, extra: Sequence[str] = (), parser: CellConfigParser | None = None) -> list[LossPlan]:
    """Check every loss of ``spec`` as its trials will run: arguments, loss/data fit, the objective.

    Args:
        spec: The study.
        extra: ``losslab fit`` arguments added to every run (smoke-run limits, another model).
        parser: A parser to reuse.

    Returns:
        One plan per loss, in the spec's order.

    Raises:
        ValueError: One line naming the loss and the problem (for an unknown argument: the valid ones).
    """
    parser = parser or CellConfigParser()
    plans = []
    for loss in spec.losses:
        examples = {p.key: p.example for p in spec.search_space(loss)}
        base = parser.parse([*loss_args(spec, loss, {}, spec.search_seed), *extra])
        _check_loss_arguments(spec, loss, base.model.loss.class_path)
        try:
            config = parser.parse([*loss_args(spec, loss, examples, spec.search_seed), *extra])
            loss_name, dataset = parser.check(config)
            val_format = parser.build(config)[1].val_format
        except ValueError as err:
            raise ValueError(f"study {spec.name}: loss {loss.label}: {err}") from None
        if val_format is None:
            raise ValueError(f"study {spec.name}: loss {loss.label}: the data has no validation split to search on")
        evaluator = evaluator_for(val_format)
        objective = f"val/{evaluator.primary_metric}"
        _check_objective(spec, objective)
        plans.append(LossPlan(loss.label, loss_name, dataset, objective, evaluator.higher_is_better))
    return plans
