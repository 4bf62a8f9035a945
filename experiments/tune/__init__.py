"""``losslab tune``: per-loss hyperparameter search with Optuna at an equal budget, then a multi-seed final stage."""
