"""The modules after pooling (sentence-transformers' ``Dense`` and ``Normalize``), as trainable torch modules."""

from __future__ import annotations

import importlib
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lightning_modules.encoders.module_stack import DenseSpec, HeadSpec, NormalizeSpec


def _activation(dotted: str) -> nn.Module:
    """Instantiate a ``torch.nn`` module class named by its dotted path (never arbitrary code)."""
    module_name, _, class_name = dotted.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name, None) if dotted.startswith("torch.") else None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"activation_function {dotted!r} is not a torch.nn module class")
    return cls()


class DenseLayer(nn.Module):
    """``activation(linear(x))``, plus ``x`` (projected when the sizes differ) with ``use_residual``.

    Parameter names equal sentence-transformers' ``Dense`` (``linear.*``, ``residual.weight``), so weights
    move between the two with ``load_state_dict``.

    Args:
        spec: The module's settings.
    """

    def __init__(self, spec: DenseSpec) -> None:
        super().__init__()
        self.spec = spec
        self.linear = nn.Linear(spec.in_features, spec.out_features, bias=spec.bias)
        self.activation_function = _activation(spec.activation_function)
        if spec.use_residual and spec.in_features != spec.out_features:
            self.residual = nn.Linear(spec.in_features, spec.out_features, bias=False)

    @classmethod
    def from_folder(cls, spec: DenseSpec) -> DenseLayer:
        """Build the layer and load its weights from ``spec.path`` (``model.safetensors`` or ``pytorch_model.bin``)."""
        layer = cls(spec)
        safetensors_file, torch_file = spec.path / "model.safetensors", spec.path / "pytorch_model.bin"
        if safetensors_file.is_file():
            from safetensors.torch import load_file

            state = load_file(str(safetensors_file))
        elif torch_file.is_file():
            state = torch.load(torch_file, map_location="cpu", weights_only=True)
        else:
            raise FileNotFoundError(f"Dense module {spec.path} has no model.safetensors or pytorch_model.bin")
        layer.load_state_dict(state, strict=True)
        return layer

    def forward(self, x: Tensor) -> Tensor:
        """Project ``(B, in_features)`` to ``(B, out_features)``."""
        out = self.activation_function(self.linear(x))
        if self.spec.use_residual:
            out = out + (self.residual(x) if hasattr(self, "residual") else x)
        return out


class L2Normalize(nn.Module):
    """Unit-length rows, as sentence-transformers' ``Normalize``."""

    spec = NormalizeSpec()

    def forward(self, x: Tensor) -> Tensor:
        """L2-normalise each row."""
        return F.normalize(x, p=2, dim=-1)


class EmbeddingHead(nn.Module):
    """The Dense / Normalize modules applied, in order, to the pooled embedding.

    Args:
        layers: The modules (``DenseLayer`` or ``L2Normalize``).
    """

    def __init__(self, layers: Sequence[nn.Module] = ()) -> None:
        super().__init__()
        self.layers = nn.ModuleList(layers)

    @classmethod
    def from_specs(cls, specs: Sequence[HeadSpec], load_weights: bool = True) -> EmbeddingHead:
        """Build the head a module stack describes (Dense weights from their folders when ``load_weights``)."""
        layers: list[nn.Module] = []
        for spec in specs:
            if isinstance(spec, NormalizeSpec):
                layers.append(L2Normalize())
            else:
                layers.append(DenseLayer.from_folder(spec) if load_weights else DenseLayer(spec))
        return cls(layers)

    @property
    def specs(self) -> tuple[HeadSpec, ...]:
        """The modules' settings, in order (for export)."""
        return tuple(layer.spec for layer in self.layers)  # type: ignore[misc]

    @property
    def normalize(self) -> bool:
        """Whether the output is L2-normalised (the last module is a Normalize)."""
        return bool(self.layers) and isinstance(self.layers[-1], L2Normalize)

    def output_dim(self, input_dim: int) -> int:
        """The embedding size after the head, for a pooled input of ``input_dim``."""
        dims = [layer.spec.out_features for layer in self.layers if isinstance(layer, DenseLayer)]
        return dims[-1] if dims else input_dim

    def forward(self, x: Tensor) -> Tensor:
        """Apply every module in order."""
        for layer in self.layers:
            x = layer(x)
        return x
