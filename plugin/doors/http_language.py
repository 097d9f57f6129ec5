"""The page's language for Gradio's own texts (ASGI middleware).

Gradio words its components' own texts ("Drop Image Here", "Click to Upload", status and table
buttons) in the browser's language, once, as it draws them. The app's language is the page's
instead: the one its address asks for (`?lang=en`, what the language switch loads) or the app's
own. So the page's HTML gets, first in its head, a script that tells Gradio's i18n that language
(`navigator.language`) before any of Gradio's scripts runs. Nothing else in any response changes.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["PageLanguage", "language_script"]


def language_script(default: str, languages: Iterable[str]) -> bytes:
    """The script: the address's `lang` if it is one of `languages`, else `default`."""
    known = "|".join(languages)
    return (
        "<script>(function () { var asked = new URLSearchParams(location.search).get('lang');"
        f" var lang = /^({known})$/.test(asked || '') ? asked : '{default}';"
        " try { Object.defineProperty(Navigator.prototype, 'language', {configurable: true, get: function () { return lang; }});"
        " Object.defineProperty(Navigator.prototype, 'languages', {configurable: true, get: function () { return [lang]; }}); }"
        " catch (e) {} document.documentElement.lang = lang; })();</script>"
    ).encode("ascii")


class PageLanguage:
    """Put `script` first in the head of the app's page (`GET /`, HTML); pass everything else through."""

    def __init__(self, app, script: bytes) -> None:
        self.app = app
        self.script = script

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") != "GET" or scope.get("path") not in ("/", ""):
            await self.app(scope, receive, send)
            return
        start: dict = {}
        body: list[bytes] = []

        async def hold(message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                return
            if message["type"] != "http.response.body":
                await send(message)
                return
            body.append(message.get("body", b""))
            if message.get("more_body"):
                return
            await send_page(b"".join(body))

        async def send_page(page: bytes) -> None:
            headers = [(name, value) for name, value in start.get("headers", []) if name.lower() != b"content-length"]
            html = any(name.lower() == b"content-type" and value.startswith(b"text/html") for name, value in headers)
            if html and start.get("status") == 200 and b"<head>" in page:
                page = page.replace(b"<head>", b"<head>" + self.script, 1)
            await send({**start, "headers": headers + [(b"content-length", str(len(page)).encode())]})
            await send({"type": "http.response.body", "body": page})

        await self.app(scope, receive, hold)
