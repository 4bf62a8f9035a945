"""Search-space entries of a study spec: ``{log_uniform: [lo, hi]}``, ``{uniform: [lo, hi]}``, ``{choices: [...]}``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

Kind = Literal["log_uniform", "uniform", "int_uniform", "choices"]
KINDS: tuple[Kind, ...] = ("log_uniform", "uniform", "int_uniform", "choices")


@dataclass(frozen=True)
class SearchParameter:
    """One searched argument: a dotted ``losslab fit`` key and the range Optuna samples it from.

    Args:
        key: Dotted CLI key, e.g. ``model.optimizer.init_args.lr`` or ``model.loss.init_args.margin``.
        kind: ``log_uniform`` / ``uniform`` (floats), ``int_uniform`` (integers) or ``choices``.
        values: ``(low, high)`` for the ranges, the options for ``choices``.
    """

    key: str
    kind: Kind
    values: tuple[Any, ...]

    @classmethod
    def parse(cls, key: str, raw: Any, what: str) -> SearchParameter:
        """Read ``{kind: values}``.

        Raises:
            ValueError: One line naming ``what`` and what was expected.
        """
        expected = "a mapping with one of " + ", ".join(f"{k}: [...]" for k in KINDS)
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in KINDS:
            raise ValueError(f"{what}: {key}: {raw!r}; expected {expected}")
        kind, values = next(iter(raw.items()))
        if not isinstance(values, list) or not values:
            raise ValueError(f"{what}: {key}: {kind} needs a non-empty list, got {values!r}")
        if kind != "choices":
            if len(values) != 2 or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
                raise ValueError(f"{what}: {key}: {kind} needs [low, high] numbers, got {values!r}")
            low, high = values
            if not low < high or (kind == "log_uniform" and low <= 0):
                need = "0 < low < high" if kind == "log_uniform" else "low < high"
                raise ValueError(f"{what}: {key}: {kind} {values!r}; expected {need}")
            if kind == "int_uniform" and not all(float(v).is_integer() for v in values):
                raise ValueError(f"{what}: {key}: int_uniform needs integer bounds, got {values!r}")
        elif len(set(map(repr, values))) != len(values):
            raise ValueError(f"{what}: {key}: choices {values!r} repeat a value")
        return cls(key.removeprefix("--"), kind, tuple(values))

    @property
    def distribution(self) -> BaseDistribution:
        """The Optuna distribution the sampler draws from."""
        if self.kind == "choices":
            return CategoricalDistribution(list(self.values))
        low, high = self.values
        if self.kind == "int_uniform":
            return IntDistribution(int(low), int(high))
        return FloatDistribution(float(low), float(high), log=self.kind == "log_uniform")

    @property
    def example(self) -> Any:
        """A value inside the range (the geometric or arithmetic middle, the first choice): for pre-flight checks."""
        if self.kind == "choices":
            return self.values[0]
        low, high = self.values
        if self.kind == "log_uniform":
            return math.sqrt(low * high)
        middle = (low + high) / 2
        return int(middle) if self.kind == "int_uniform" else middle
