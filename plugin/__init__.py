"""CNN Study Lab: classify images with classic CNNs, study their architecture, make reports.

The engine behind every door (Python, tool calls, MCP, web app, command line). Importing it builds
no model, downloads nothing and starts nothing, and loads no part of the project: each name
below is imported when first used (a plugin host such as `llm` imports `plugin.doors.llm_plugin` on
every command), and TensorFlow when a model is first built.

The package is split by layer, each importing only the layers below it:

    plugin.doors          tools, MCP, web app, command line: a call to plugin.api plus a view
    plugin.api            the public functions below, joining the layers for a caller
    plugin.render         diagrams, charts and report pages, from results
    plugin.engine         the computing, in layers of its own (each imports only those below):
        study             classify, explain, the preprocessing experiment, compare, evaluate, fine-tune
        architecture      layer facts, multiply-adds, stages, structure (data)
        inference         runners (Keras, ONNX Runtime), the model cache, preprocessing, batches
        models            the registry, weights, model files, the zoo, the Keras compatibility module
        intake            images, paths, URLs and archives, checked
    plugin.errors, plugin.config, plugin.limits, plugin.words, plugin.files   shared by all

    >>> import plugin
    >>> plugin.list_models()["models"][0]["name"]
    'VGG16'
    >>> plugin.classify_image("dog.jpg", models=["VGG16", "ResNet50"])  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the names as the type checker sees them; at run time __getattr__ imports them
    from plugin.api import (
        REPORT_OPTIONS,
        classify_image,
        classify_images,
        compare_explanations,
        compare_models,
        compare_preprocessing,
        describe_architecture,
        evaluate,
        explain_image,
        explanation_methods,
        fine_tune,
        list_models,
        look_inside,
        make_report,
        render_report,
        report_kinds,
        show,
        study_image,
    )
    from plugin.config import configure, get_settings
    from plugin.errors import (
        AccessDeniedError,
        ImageError,
        InvalidInputError,
        LimitExceededError,
        PluginError,
        RenderError,
        UnknownModelError,
        UnsafeModelFileError,
        WeightsUnavailableError,
    )

__all__ = [
    "list_models",
    "classify_image",
    "classify_images",
    "study_image",
    "explain_image",
    "compare_explanations",
    "explanation_methods",
    "compare_preprocessing",
    "evaluate",
    "fine_tune",
    "describe_architecture",
    "compare_models",
    "look_inside",
    "render_report",
    "make_report",
    "report_kinds",
    "show",
    "REPORT_OPTIONS",
    "configure",
    "get_settings",
    "PluginError",
    "InvalidInputError",
    "ImageError",
    "AccessDeniedError",
    "UnknownModelError",
    "WeightsUnavailableError",
    "UnsafeModelFileError",
    "RenderError",
    "LimitExceededError",
]
_PARTS = ("api", "config", "errors", "limits", "words", "engine", "render", "doors")
_HOMES = ("plugin.config", "plugin.errors", "plugin.api")  # light ones first: plugin.api loads the engine's modules


def __getattr__(name: str):
    """The public names, each imported from its module the first time it is used (PEP 562)."""
    if name in _PARTS:  # `plugin.api.x` works as before, without `import plugin.api` first
        return importlib.import_module(f"plugin.{name}")
    if name in __all__:
        for home in _HOMES:
            module = importlib.import_module(home)
            if hasattr(module, name):
                globals()[name] = value = getattr(module, name)
                return value
    raise AttributeError(f"module 'plugin' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
