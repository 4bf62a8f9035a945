"""Callbacks used by the losslab CLI."""

from experiments.callbacks.primary_metric_checkpoint import PrimaryMetricCheckpoint

__all__ = ["PrimaryMetricCheckpoint"]
