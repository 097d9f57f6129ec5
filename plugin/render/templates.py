"""The Jinja2 templates of the reports: found in `templates/` of a checkout, or `plugin/templates`
of an installed wheel; autoescaping on, undefined names an error."""

from __future__ import annotations

import functools
from pathlib import Path

import jinja2
from markupsafe import Markup

from plugin import words
from plugin.errors import RenderError
from plugin.render.pictures import FONT_FAMILY
from plugin.words.architecture import keras_shape

__all__ = ["template_dir", "template_environment"]


def template_dir() -> Path:
    """The templates folder: `templates/` of a checkout, or `plugin/templates` of an installed wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package.parent / "templates", package / "templates"):
        if (candidate / "base.html").is_file():
            return candidate
    raise RenderError(f"Expected the report templates beside the package. Received: none in "
                      f"{package.parent / 'templates'} or {package / 'templates'}.")


@functools.cache
def template_environment() -> jinja2.Environment:
    """The one Jinja2 environment every page and picture is rendered with."""
    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(template_dir()), autoescape=True,
                                     undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    # {{ name|md }}: escaped for Markdown as the web app escapes, and marked so autoescape does not escape it twice.
    environment.filters["md"] = lambda value: Markup(words.markdown_text(value))
    environment.filters["precision_text"] = words.precision_text  # {{ result|precision_text(lang) }}
    environment.filters["run_by"] = words.run_by
    environment.filters["keras_shape"] = keras_shape  # {{ row.output_shape|keras_shape }}: "(None, 224, 224, 3)", as Keras prints it
    environment.globals["percent"] = words.percent  # {{ percent(share) }}: "91.2%", "-" for None
    environment.globals["font_family"] = FONT_FAMILY
    return environment
