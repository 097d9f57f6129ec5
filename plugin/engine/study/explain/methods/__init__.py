"""The explanation methods, one module each, in one table: `METHODS`.

Each module declares one `ExplanationMethod`: its name, what it needs from the model (gradients,
which Keras gives, and onnxruntime at the last feature map before a linear head; a layer's activations, which onnxruntime gives too; or only scores of
masked photos, which any backend gives), and a function from an `ExplainContext` to a map (any
grid size, values 0..1, rows top to bottom). Adding a method is adding a module and a line below
(or `register(...)`, as a test does); every door lists the methods from this table.

    gradcam     Selvaraju et al. 2017: channel weights = mean gradient         gradients
    gradcam++   Chattopadhyay et al. 2018: weights from positive gradients     gradients
    layercam    Jiang et al. 2021: each cell weighted by its own positive gradient   gradients
    scorecam    Wang et al. 2020: weights = how much each channel, as a mask, keeps the score   activations
    eigencam    Muhammad & Yeasin 2020: the activations' first principal component (no class)  activations
    occlusion   Zeiler & Fergus 2014: how much a sliding grey patch lowers the score   scores
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from plugin.errors import InvalidInputError

__all__ = ["ExplanationMethod", "METHODS", "NEEDS", "register", "unregister", "get_method"]

NEEDS = ("gradients", "activations", "scores")
"""What a method asks of the model, from most to least: gradients need Keras, or a linear head after
the last feature map (`plugin.engine.inference.onnx.head`)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class ExplanationMethod:
    """One way of making a heat map.

    Attributes:
        name: the name callers pass as `method=`.
        title: how pages name it (a proper name, the same in every language).
        needs: one of `NEEDS`.
        compute: the map for an `ExplainContext`: a 2-D array, values 0..1.
        class_specific: False where the map ignores the class (Eigen-CAM).
        uses_layer: whether the map is made from a feature-map layer (the CAM family) rather
            than from the photo's pixels (occlusion).
        citation: the paper, as pages cite it.
    """

    name: str
    title: str
    needs: str
    compute: Callable[..., np.ndarray]
    class_specific: bool = True
    uses_layer: bool = True
    citation: str = ""


METHODS: dict[str, ExplanationMethod] = {}


def register(method: ExplanationMethod) -> ExplanationMethod:
    """Add a method to the table (every door then offers it)."""
    if method.needs not in NEEDS:
        raise ValueError(f"Expected needs to be one of {list(NEEDS)}. Received: {method.needs!r}")
    METHODS[method.name] = method
    return method


def unregister(name: str) -> None:
    """Take a method out of the table."""
    METHODS.pop(name, None)


def get_method(name) -> ExplanationMethod:
    """The method called `name`, or an error that lists the methods."""
    if isinstance(name, str) and name in METHODS:
        return METHODS[name]
    raise InvalidInputError(f"Expected method to be one of {list(METHODS)}. Received: {str(name)[:40]!r}",
                            key="explain_method", value=str(name)[:40], methods=", ".join(METHODS))


def _load() -> None:
    from plugin.engine.study.explain.methods import eigencam, gradcam, gradcam_plus_plus, layercam, occlusion, scorecam

    for module in (gradcam, gradcam_plus_plus, scorecam, eigencam, layercam, occlusion):
        register(module.METHOD)


_load()
