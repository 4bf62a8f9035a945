"""A study spec: a grid whose loss axis carries search spaces, an equal trial budget and a seeded search.

``experiments/studies/<name>.yaml``::

    name: triplet_variants_tuned
    base: [../configs/data/banking77.yaml]
    overrides: {trainer.max_epochs: 1}
    search:                                   # shared by every loss
      model.optimizer.init_args.lr: {log_uniform: [5.0e-6, 1.0e-4]}
    losses:
      - label: batch_hard
        config: ../configs/loss/batch_hard_triplet.yaml
        search: {model.loss.init_args.margin: {uniform: [0.1, 2.0]}}
    trials_per_loss: 8                        # the same budget for every loss
    sampler: {name: tpe, seed: 0}
    pruner: {name: median, n_startup_trials: 2, n_warmup_steps: 1}
    seeds: [1, 2, 3, 4, 5]                    # final stage: each loss's best configuration, rerun
    evaluation_tasks: [Banking77Classification, STSBenchmark]
    primary_metric: Banking77Classification   # ranking of the final report
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from experiments.grid.grid_spec import AVERAGE
from experiments.grid.spec_fields import as_label, as_list, as_overrides, config_path, resolve_named_file
from experiments.launchers.slurm_options import SlurmOptions
from experiments.tune.search_space import SearchParameter

STUDIES_DIR = Path(__file__).resolve().parents[1] / "studies"
SamplerName = Literal["tpe", "random"]
PrunerName = Literal["median", "threshold", "none"]
StorageKind = Literal["sqlite", "journal"]
DEFAULT_STARTUP_TRIALS = 4
_PRUNER_ARGS = {"median": {"n_startup_trials", "n_warmup_steps"}, "threshold": {"lower", "upper"}, "none": set()}


@dataclass(frozen=True)
class LossEntry:
    """One loss of a study: its config, its own search space (beside the shared one)."""

    label: str
    configs: tuple[Path, ...]
    overrides: dict[str, Any]
    search: tuple[SearchParameter, ...]


@dataclass(frozen=True)
class StudySpec:
    """A per-loss hyperparameter study with an equal budget, and the multi-seed final stage.

    Args:
        name: Study name: ``runs/<name>``, the W&B group, ``reports/<name>``.
        path: The spec file.
        base_configs: Config files every run starts from (after ``defaults.yaml``).
        losses: The compared losses.
        search: Parameters searched for every loss.
        trials_per_loss: Finished (complete or pruned) trials per loss: the same budget for every loss.
        max_failed_trials: Trials failed by an error after which a loss stops being searched (reported);
            trials interrupted by their worker's death do not count.
        sampler: ``tpe`` (default) or ``random``, seeded by ``sampler_seed``, the loss's position and its
            number of trials so far.
        sampler_seed: Seed of the samplers.
        sampler_args: TPE's arguments (``n_startup_trials``: random trials before TPE models the results,
            default 4 here, against Optuna's 10, so that TPE guides half of an 8-trial budget).
        pruner: ``median`` (on the validation curve), ``threshold`` or ``none``, with ``pruner_args``.
        pruner_args: Optuna arguments of the pruner (``n_startup_trials``, ``n_warmup_steps``; ``lower``/``upper``).
        search_seed: Seed of every trial (initialisation, data order); the final stage uses ``seeds``.
        seeds: Seeds of the final stage.
        evaluation_tasks: MTEB tasks of the final stage (never of the trials).
        primary_metric: Ranking column of the report: a task or ``average``.
        overrides: Dotted overrides of every run.
        storage: ``sqlite`` (``runs/<name>/optuna.db``) or ``journal`` (Optuna's journal file, for several
            machines sharing a filesystem).
        objective: The validation metric searched on (``None``: the data's primary validation metric, which
            is the only one allowed).
        slurm: How workers are submitted with ``--launcher slurm``.
        description: What the study compares.
    """

    name: str
    path: Path
    base_configs: tuple[Path, ...]
    losses: tuple[LossEntry, ...]
    search: tuple[SearchParameter, ...]
    trials_per_loss: int
    max_failed_trials: int = 3
    sampler: SamplerName = "tpe"
    sampler_seed: int = 0
    sampler_args: dict[str, Any] = field(default_factory=lambda: {"n_startup_trials": DEFAULT_STARTUP_TRIALS})
    pruner: PrunerName = "median"
    pruner_args: dict[str, Any] = field(default_factory=dict)
    search_seed: int = 0
    seeds: tuple[int, ...] = (1, 2, 3, 4, 5)
    evaluation_tasks: tuple[str, ...] = ()
    primary_metric: str = AVERAGE
    overrides: dict[str, Any] = field(default_factory=dict)
    storage: StorageKind = "sqlite"
    objective: str | None = None
    slurm: SlurmOptions = field(default_factory=SlurmOptions)
    description: str = ""

    def search_space(self, loss: LossEntry) -> tuple[SearchParameter, ...]:
        """The shared parameters, then the loss's own (a loss's entry wins on the same key)."""
        own = {p.key for p in loss.search}
        return tuple(p for p in self.search if p.key not in own) + loss.search

    @classmethod
    def from_yaml(cls, path: str | Path) -> StudySpec:
        """Read and validate a study spec (the file alone: arguments are checked against the losses later).

        Raises:
            ValueError: One line naming the key and what was expected.
        """
        path = Path(path).resolve()
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        where = str(path)
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a mapping with name, losses, trials_per_loss, seeds")
        internal = {"path", "base_configs", "sampler_seed", "sampler_args", "pruner_args"}
        known = set(cls.__dataclass_fields__) - internal | {"base"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}; expected some of {sorted(known)}")
        losses = tuple(_loss(path, item) for item in as_list(raw.get("losses"), f"{where}: losses"))
        labels = [loss.label for loss in losses]
        if not losses or len(set(labels)) != len(labels):
            raise ValueError(f"{where}: losses {labels}: expected a non-empty list of distinct labels")
        budget = _positive(raw.get("trials_per_loss"), f"{where}: trials_per_loss (one budget for every loss)")
        sampler, sampler_args = _named(raw.get("sampler", {"name": "tpe"}), {"tpe", "random"}, f"{where}: sampler")
        allowed = {"seed", "n_startup_trials"} if sampler == "tpe" else {"seed"}
        if set(sampler_args) - allowed:
            raise ValueError(f"{where}: sampler {sampler} accepts {sorted(allowed)}, got {sorted(sampler_args)}")
        startup = sampler_args.get("n_startup_trials", DEFAULT_STARTUP_TRIALS)
        if sampler == "tpe" and not (isinstance(startup, int) and startup >= 0):
            raise ValueError(f"{where}: sampler n_startup_trials={startup!r}; expected an integer >= 0")
        pruner, pruner_args = _named(raw.get("pruner", {"name": "median"}), set(_PRUNER_ARGS), f"{where}: pruner")
        if set(pruner_args) - _PRUNER_ARGS[pruner]:
            accepted = sorted(_PRUNER_ARGS[pruner])
            raise ValueError(f"{where}: pruner {pruner} accepts {accepted}, got {sorted(pruner_args)}")
        seeds = tuple(as_list(raw.get("seeds", [1, 2, 3, 4, 5]), f"{where}: seeds"))
        if not seeds or not all(isinstance(s, int) for s in seeds) or len(set(seeds)) != len(seeds):
            raise ValueError(f"{where}: seeds={seeds!r}; expected a non-empty list of distinct integers")
        tasks = tuple(str(t) for t in as_list(raw.get("evaluation_tasks", []), f"{where}: evaluation_tasks"))
        primary = str(raw.get("primary_metric", AVERAGE))
        if primary != AVERAGE and primary not in tasks:
            raise ValueError(f"{where}: primary_metric={primary!r}; expected 'average' or one of {list(tasks)}")
        storage = raw.get("storage", "sqlite")
        if storage not in ("sqlite", "journal"):
            raise ValueError(f"{where}: storage={storage!r}; expected sqlite or journal")
        return cls(
            name=as_label(raw.get("name"), f"{where}: name"),
            path=path,
            base_configs=tuple(config_path(path, c) for c in as_list(raw.get("base", []), f"{where}: base")),
            losses=losses,
            search=_search(raw.get("search"), f"{where}: search"),
            trials_per_loss=budget,
            max_failed_trials=_positive(raw.get("max_failed_trials", 3), f"{where}: max_failed_trials"),
            sampler=sampler,
            sampler_seed=int(sampler_args.get("seed", 0)),
            sampler_args={"n_startup_trials": startup} if sampler == "tpe" else {},
            pruner=pruner,
            pruner_args=pruner_args,
            search_seed=int(raw.get("search_seed", 0)),
            seeds=seeds,
            evaluation_tasks=tasks,
            primary_metric=primary,
            overrides=as_overrides(raw.get("overrides"), f"{where}: overrides"),
            storage=storage,
            objective=None if raw.get("objective") is None else str(raw["objective"]),
            slurm=SlurmOptions.from_mapping(raw.get("slurm"), f"{where}: slurm"),
            description=str(raw.get("description", "")).strip(),
        )


def resolve_study_path(spec: str) -> Path:
    """A study spec file path, or the name of a built-in study (``experiments/studies/<name>.yaml``)."""
    return resolve_named_file(spec, STUDIES_DIR, "study")


def _positive(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what}={value!r}: expected a positive integer")
    return value


def _named(raw: Any, names: set[str], what: str) -> tuple[Any, dict[str, Any]]:
    if not isinstance(raw, dict) or raw.get("name") not in names:
        raise ValueError(f"{what}: {raw!r}; expected a mapping with name: one of {sorted(names)}")
    return raw["name"], {k: v for k, v in raw.items() if k != "name"}


def _search(raw: Any, what: str) -> tuple[SearchParameter, ...]:
    return tuple(SearchParameter.parse(key, value, what) for key, value in as_overrides(raw, what).items())


def _loss(spec_path: Path, raw: Any) -> LossEntry:
    what = f"{spec_path}: loss {raw!r}"
    if not isinstance(raw, dict) or "label" not in raw or not set(raw) <= {"label", "config", "overrides", "search"}:
        raise ValueError(f"{what}: expected a mapping with label, config and optionally overrides and search")
    label = as_label(raw["label"], what)
    configs = raw.get("config", [])
    configs = configs if isinstance(configs, list) else [configs]
    if not configs:
        raise ValueError(f"{spec_path}: loss {label}: expected a loss config file")
    return LossEntry(
        label=label,
        configs=tuple(config_path(spec_path, c) for c in configs),
        overrides=as_overrides(raw.get("overrides"), f"{spec_path}: loss {label}: overrides"),
        search=_search(raw.get("search"), f"{spec_path}: loss {label}: search"),
    )
