"""Callbacks of a losslab fit: checkpoints by the primary metric, and the end-of-run evaluation."""

from experiments.callbacks.last_checkpoint import LastCheckpoint
from experiments.callbacks.primary_metric_checkpoint import PrimaryMetricCheckpoint
from experiments.callbacks.rng_state import RNGState
from experiments.callbacks.run_finalizer import RunFinalizer

__all__ = ["LastCheckpoint", "PrimaryMetricCheckpoint", "RNGState", "RunFinalizer"]
