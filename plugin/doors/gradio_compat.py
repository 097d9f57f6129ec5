"""The one place the web app relies on Gradio's private parts (checked against Gradio 6.31).

Gradio adds its own layers (its CORS middleware, Brotli) in front of whatever middleware an app
passes it, and its CORS layer answers a preflight itself, so a guard passed the public way never
sees it. The guards that decide whether a request is answered at all must come first, so the app
is made here, as Gradio's own `App` whose outermost layers are ours, and handed to
`Blocks.launch(_app=...)` (Gradio then adds its routes and layers to it as usual).

A call put in Gradio's queue keeps its data there after its request is answered; whether its
event is still there is read from the queue's own table of events.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.middleware import Middleware

__all__ = ["app_guarded_by", "event_waiting"]


def app_guarded_by(guards: Sequence[Middleware], **fastapi_options: Any):
    """A Gradio `App` (a FastAPI app) with `guards` in front of every layer Gradio adds.

    Args:
        guards: ASGI middleware, outermost first (as Starlette's `middleware=` lists them).
        **fastapi_options: FastAPI's own options (routes, middleware, ...), as `launch(app_kwargs=)` takes.
    """
    from gradio.routes import App, ORJSONResponse

    class GuardedApp(App):
        def build_middleware_stack(self):
            stack = super().build_middleware_stack()
            for cls, args, kwargs in reversed(guards):
                stack = cls(stack, *args, **kwargs)
            return stack

    return GuardedApp(**{"default_response_class": ORJSONResponse, **fastapi_options})


def event_waiting(app, event_id: str) -> bool:
    """Whether the event is still in the Gradio app's queue (waiting or running)."""
    try:
        return event_id in app.get_blocks()._queue.event_ids_to_events
    except AttributeError:  # not a Gradio app, or one without a queue
        return False
