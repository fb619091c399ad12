"""A hello-world WSGI app without Django: the most a Python WSGI server serves on this machine."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

BODY = b"hello from a plain WSGI app\n"


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))])
    return [BODY]
