"""The Optuna side of a study: its storage, one Optuna study per loss, samplers and pruners."""

from __future__ import annotations

import optuna
from optuna.pruners import BasePruner, MedianPruner, NopPruner, ThresholdPruner
from optuna.samplers import BaseSampler, RandomSampler, TPESampler
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend

from experiments.tune.study_layout import StudyLayout
from experiments.tune.study_preflight import LossPlan
from experiments.tune.study_spec import StudySpec


def open_storage(spec: StudySpec, layout: StudyLayout) -> BaseStorage:
    """SQLite in the study directory (default), or Optuna's journal file for machines sharing a filesystem."""
    path = layout.storage_file(spec.storage)
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.storage == "journal":
        return JournalStorage(JournalFileBackend(str(path)))
    # A generous timeout: workers on a busy machine wait for SQLite's write lock instead of failing.
    return RDBStorage(f"sqlite:///{path.resolve()}", engine_kwargs={"connect_args": {"timeout": 60}})


def sampler_for(spec: StudySpec, loss_index: int, trials_so_far: int) -> BaseSampler:
    """The sampler that draws a loss's next trial, seeded by the loss and the number of trials it already has.

    A sampler made for each draw, not one per process: two workers (or a resumed worker) holding samplers
    with the same seed would repeat the same random draws; seeded by the trial count, draw ``n`` of a loss
    is the same with one worker, after a resume, or whichever worker makes it.
    """
    seed = spec.sampler_seed + 1_000_003 * loss_index + trials_so_far
    if spec.sampler == "tpe":
        return TPESampler(seed=seed, **spec.sampler_args)
    return RandomSampler(seed=seed)


def _pruner(spec: StudySpec) -> BasePruner:
    if spec.pruner == "median":
        return MedianPruner(**spec.pruner_args)
    if spec.pruner == "threshold":
        return ThresholdPruner(**spec.pruner_args)
    return NopPruner()


def study_name(spec: StudySpec, label: str) -> str:
    """The Optuna study of one loss: ``<study>.<loss label>``."""
    return f"{spec.name}.{label}"


def loss_studies(spec: StudySpec, storage: BaseStorage, plans: list[LossPlan]) -> dict[str, optuna.Study]:
    """Loss label -> its Optuna study (created on first use, loaded afterwards), with sampler and pruner."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return {
        plan.label: optuna.create_study(
            storage=storage,
            study_name=study_name(spec, plan.label),
            direction="maximize" if plan.higher_is_better else "minimize",
            sampler=sampler_for(spec, index, 0),
            pruner=_pruner(spec),
            load_if_exists=True,
        )
        for index, plan in enumerate(plans)
    }
