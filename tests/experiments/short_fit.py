"""Trainer overrides for the few-step CLI fits the tests run on the tiny model."""


def short_fit(steps: int, val_every: int | None = None) -> list[str]:
    """``--trainer.*`` flags: ``steps`` steps, validation on 2 batches every ``val_every`` steps, log every step."""
    return [
        "--trainer.max_steps",
        str(steps),
        "--trainer.limit_val_batches",
        "2",
        "--trainer.val_check_interval",
        str(val_every or steps),
        "--trainer.log_every_n_steps",
        "1",
    ]
