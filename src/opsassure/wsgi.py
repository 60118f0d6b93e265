"""The WSGI entry point (gunicorn ``opsassure.wsgi:application``).

Two Django handlers share one process: the full one for everything people use, and a lean
one for the machine endpoints in ``settings.LEAN_PATH_PREFIXES`` (alert ingest: thousands of
requests a second). The lean handler runs ``settings.LEAN_MIDDLEWARE`` — request id, body
limit, metrics, language — instead of all fourteen middlewares; sessions, CSRF, auth, messages,
HTMX and static files do nothing for a webhook that authenticates by its URL token, yet cost
CPU on every request. Same views, same URL patterns, same error answers.

Why a subclass: Django builds one middleware chain per handler from ``settings.MIDDLEWARE``
and has no per-route middleware; this is the smallest way to get a second chain.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsassure.settings")


class LeanHandler(WSGIHandler):
    """A WSGI handler whose middleware chain is ``settings.LEAN_MIDDLEWARE`` (plain
    synchronous middlewares without view/template/exception hooks)."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(settings.LEAN_MIDDLEWARE):
            handler = convert_exception_to_response(import_string(path)(handler))
        self._middleware_chain = handler


full_application = get_wsgi_application()
lean_application = LeanHandler()
_LEAN_PREFIXES = tuple(settings.LEAN_PATH_PREFIXES)


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO", "").startswith(_LEAN_PREFIXES):
        return lean_application(environ, start_response)
    return full_application(environ, start_response)
