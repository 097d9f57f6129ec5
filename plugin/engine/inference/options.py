"""How a model is asked to run, as one object: `RunOptions`, built and checked once where a call
enters the engine (`plugin.api`), then handed down whole.

Its rules live here: which backends and precisions can run together (`check_backend`,
`check_precision`) and the one refusal of random weights (`refuse_untrained`, which
`RunOptions.require_trained` raises where the caller did not consent to random weights).
"""

from __future__ import annotations

import dataclasses

from plugin.engine.inference.preprocessing import check_resize
from plugin.engine.results import ClassNames, PathInput, WeightsByModel
from plugin.errors import InvalidInputError
from plugin.limits import BACKENDS, DEFAULT_BACKEND, DEFAULT_PRECISION, PRECISIONS

__all__ = ["RunOptions", "check_backend", "check_precision", "refuse_untrained"]

RUN_ANYWAY = "Pass allow_random_weights=True to run anyway."
"""What a refusal of random weights advises, unless its caller words it otherwise."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class RunOptions:
    """The weights, model file, preprocessing, backend and precision a study runs with.

    Built once at the API boundary; the backend and the precision are checked (and None read as
    the default) when it is made, so an engine function never checks them again.

    Attributes:
        weights: "imagenet", "random" or None, a weights file, or a dict of these by model name.
        allow_random_weights: consent to random weights, whose answers mean nothing.
        model_path: a model file of one's own, used instead of registry models.
        class_names: the model file's class names, by output index.
        preprocessing: a preprocessing mode overriding the model's own, or None.
        backend: "auto", "onnx" or "keras".
        precision: "float32" or "int8".
        resize: "crop" (each model's evaluation protocol), "whole" (the photo squashed), or None:
            each model's own way (crop for registry models; see `plugin.limits.RESIZES`).
    """

    weights: WeightsByModel = "imagenet"
    allow_random_weights: bool = False
    model_path: PathInput | None = None
    class_names: ClassNames = None
    preprocessing: str | None = None
    backend: str = DEFAULT_BACKEND
    precision: str = DEFAULT_PRECISION
    resize: str | None = None

    def __post_init__(self) -> None:
        check_resize(self.resize)
        backend = check_backend(self.backend, model_file=self.model_file)
        object.__setattr__(self, "backend", backend)
        object.__setattr__(self, "precision", check_precision(self.precision, backend=backend, model_file=self.model_file))

    @property
    def model_file(self) -> bool:
        """Whether a model file of one's own runs instead of registry models."""
        return self.model_path is not None

    def require_trained(self, purpose: str, received: str, *, untrained: bool, advice: str = RUN_ANYWAY) -> None:
        """Refuse random weights (`untrained`) unless `allow_random_weights` consents to them.

        Args:
            purpose: what trained weights are expected for ("to evaluate").
            received: what random weights would give ("random weights, whose accuracy means nothing").
            untrained: whether the weights asked for are random.
            advice: how to go on.
        """
        if untrained and not self.allow_random_weights:
            raise refuse_untrained(purpose, received, advice)


def refuse_untrained(purpose: str, received: str, advice: str = "", *, key: str = "random_not_allowed",
                     **params: str) -> InvalidInputError:
    """The error that refuses random weights where trained ones are expected (its `key` and
    `params` name the sentence in the words catalogue)."""
    return InvalidInputError(f"Expected trained weights {purpose}. Received: {received}.{f' {advice}' if advice else ''}",
                             key=key, **params)


def check_precision(precision, *, backend: str = DEFAULT_BACKEND, untrained: bool = False, model_file: bool = False,
                    model: str | None = None) -> str:
    """Return `precision` if it is one of `PRECISIONS` (None: the default) and can run as asked:
    int8 runs on onnxruntime (not backend "keras"), for registry models with trained weights."""
    if precision is None:
        return DEFAULT_PRECISION
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise InvalidInputError(f"Expected precision to be one of {list(PRECISIONS)}. Received: {str(precision)[:40]!r}",
                                key="precision", value=str(precision)[:40])
    if precision == "int8":
        if backend == "keras":
            raise InvalidInputError("Expected backend='auto' or 'onnx' with precision='int8', which runs on onnxruntime. "
                                    "Received: backend='keras'.", key="int8_keras")
        if model_file:
            raise InvalidInputError("Expected registry models with precision='int8'. Received: a model file, which runs "
                                    "on Keras in float32.", key="int8_model_file")
        if untrained:
            raise refuse_untrained(f"with precision='int8'{f' for {model}' if model else ''}",
                                   "random weights, which have nothing to agree with", key="int8_random")
    return precision


def check_backend(backend, *, model_file: bool = False) -> str:
    """Return `backend` if it is one of `BACKENDS` (None: the default); refuse anything else, and
    "onnx" for a model file of one's own (`model_file`), which only Keras runs."""
    if backend is None:
        return DEFAULT_BACKEND
    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InvalidInputError(f"Expected backend to be one of {list(BACKENDS)}. Received: {str(backend)[:40]!r}",
                                key="backend", value=str(backend)[:40])
    if model_file and backend == "onnx":
        raise InvalidInputError("Expected registry models with backend='onnx'. Received: a model file, which runs on "
                                "Keras; use backend='auto' or 'keras'.", key="onnx_model_file")
    return backend
