"""Web users are strangers to each other: each page session has its own folder in the output
folder, named by a keyed hash of the identity its browser keeps (not guessable), and its events run
with that folder, and no other, readable."""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import os
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from plugin import words
from plugin.config import SESSIONS, get_settings, granted_roots

__all__ = ["SESSIONS", "SHARED", "GALLERY", "SECRET", "remember_identity", "session_folder", "session_dir", "in_session",
           "set_single_user", "single_user"]

SHARED = "shared"
GALLERY = "gallery"
SECRET = secrets.token_bytes(32)
"""This process's key, where the kept one cannot be read (and for the names of served copies)."""
log = logging.getLogger(__name__)


_IDENTITIES: OrderedDict[str, str] = OrderedDict()
"""Gradio session id -> the page's identity, which its browser keeps (a reload is a new session)."""
_IDENTITIES_LOCK = threading.Lock()
_MAX_IDENTITIES = 10_000
_IDENTITY = re.compile(r"[A-Za-z0-9_-]{32,64}")
_single_user = False


def set_single_user(local: bool) -> None:
    """Whether the app serves only this computer (localhost, no share link): its one user then also
    sees the reports the command line wrote into the output folder."""
    global _single_user
    _single_user = bool(local)


def single_user() -> bool:
    return _single_user


def remember_identity(identity: str | None, request: gr.Request | None) -> str:
    """As a page loads: tie its session to the identity its browser keeps (a new one, unguessable,
    for a new browser), so that after a reload it finds its folder, and its reports, again."""
    if not isinstance(identity, str) or not _IDENTITY.fullmatch(identity):
        identity = secrets.token_urlsafe(32)
    key = getattr(request, "session_hash", None)
    if key:
        with _IDENTITIES_LOCK:
            _IDENTITIES[key] = identity
            _IDENTITIES.move_to_end(key)
            while len(_IDENTITIES) > _MAX_IDENTITIES:
                _IDENTITIES.popitem(last=False)
    return identity


def session_folder(request: gr.Request | None) -> str:
    """This page's folder, relative to the output folder: named by a keyed hash of the identity its
    browser keeps (or, before the page has told it, of Gradio's session id), so it cannot be
    guessed from outside."""
    session = getattr(request, "session_hash", None) or "no-session"
    with _IDENTITIES_LOCK:
        key = _IDENTITIES.get(session, session)
    return f"{SESSIONS}/{hmac.new(_secret(), key.encode('utf-8'), hashlib.sha256).hexdigest()[:32]}"


@functools.cache
def _secret() -> bytes:
    """The key of the folders' names: kept in the sessions folder (owner-only), so a page's folder
    is the same after the app restarts; a fresh one where it cannot be kept."""
    path = get_settings().output_dir / SESSIONS / ".key"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(handle, "wb") as out:
            out.write(secrets.token_bytes(32))
    except FileExistsError:
        pass
    except OSError:
        return SECRET
    try:
        key = path.read_bytes()
    except OSError:
        return SECRET
    return key if len(key) == 32 else SECRET


def in_session(function: Callable[..., Any]) -> Callable[..., Any]:
    """`function`, run with its page session's folder granted for reading (`granted_roots`) when
    Gradio passes it a request: a session reads its own uploads and models, never another's."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        values = (*args, *kwargs.values())
        request = next((value for value in values if isinstance(value, gr.Request)), None)
        try:
            if request is None:
                return function(*args, **kwargs)
            with granted_roots(session_dir(request)):
                return function(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # the boundary: the page gets a sentence, never a message with the server's paths
            log.exception("%s failed", function.__name__)
            lang = next((value for value in values if isinstance(value, str) and value in words.LANGUAGES), words.default_lang())
            raise gr.Error(words.section("ui", lang)["unexpected"].format(kind=type(exc).__name__), print_exception=False) from exc

    return run


def session_dir(request: gr.Request | None, *parts: str) -> Path:
    folder = get_settings().output_dir.joinpath(session_folder(request), *parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder
