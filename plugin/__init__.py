"""CNN Study Lab: classify images with classic CNNs, study their architecture, make reports.

The engine behind every door (Python, tool calls, MCP, web app). Importing it builds no model,
downloads nothing and starts nothing; TensorFlow is imported when a model is first built.

    >>> import plugin
    >>> plugin.list_models()["models"][0]["name"]
    'VGG16'
    >>> plugin.classify_image("dog.jpg", models=["VGG16", "ResNet50"])  # doctest: +SKIP
"""

from plugin.architecture import describe_architecture
from plugin.classify import classify_image, classify_images
from plugin.compare import compare_models
from plugin.config import configure, get_settings
from plugin.errors import (
    AccessDeniedError,
    ImageError,
    InvalidInputError,
    PluginError,
    RenderError,
    UnknownModelError,
    UnsafeModelFileError,
    WeightsUnavailableError,
)
from plugin.registry import list_models
from plugin.reports import render_report

__all__ = [
    "list_models",
    "classify_image",
    "classify_images",
    "describe_architecture",
    "compare_models",
    "render_report",
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
]
