"""The error type of problems found before training (configuration, data, incompatible choices)."""


class SetupError(ValueError):
    """A configuration or data problem found before training starts; ``losslab`` reports it as one line.

    Raised from constructors and Lightning ``setup``/``prepare_data`` hooks, so a plain ``Trainer.fit``
    fails on the same problems, with the same message, as ``losslab fit``.
    """
