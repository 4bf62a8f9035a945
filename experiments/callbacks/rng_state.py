"""The global random-number generators, saved in every checkpoint and restored on resume."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch
from pytorch_lightning.callbacks import Callback


class RNGState(Callback):
    """Saves Python's, NumPy's, torch's (and CUDA's) global RNG states with each checkpoint.

    Lightning restores model, optimizer, scheduler, loop progress and DataModule state, but not the global
    generators, so dropout would draw other masks after a resume. Restored while the checkpoint is loaded,
    before the first resumed step; the DataModule's loaders draw from their own generators, so nothing
    consumes the global ones between the saved step and the next.
    """

    def state_dict(self) -> dict[str, Any]:
        """The generators' states now."""
        kind, keys, position, has_gauss, gauss = np.random.get_state()
        state: dict[str, Any] = {
            "python": random.getstate(),
            # Plain numbers: Lightning loads checkpoints with weights_only=True, which refuses NumPy arrays.
            "numpy": [kind, keys.tolist(), position, has_gauss, gauss],
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Put the generators back where the checkpoint left them."""
        random.setstate(state_dict["python"])
        kind, keys, position, has_gauss, gauss = state_dict["numpy"]
        np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), position, has_gauss, gauss))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
