"""The user a request authenticated as, remembered for that request only.

Authentication reads the user row anyway; services further down the same request that need
the user's number (risk control's events) take it from here instead of reading the row again.
Cleared when a request starts and when it finishes (Django's signals), so a thread that serves
the next request, or a worker, never sees it; a different user id always reads the database.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

_user: ContextVar[tuple[int, str] | None] = ContextVar("accounts_request_user", default=None)


def request_user_remember(*, user_id: int, phone: str) -> None:
    """Remember the request's authenticated user (id and number)."""
    _user.set((user_id, phone))


def request_user_forget(**_signal: Any) -> None:
    """Forget it (connected to ``request_started`` and ``request_finished``)."""
    _user.set(None)


def request_user_phone(*, user_id: int) -> str | None:
    """The number of ``user_id`` if it is the request's authenticated user; None otherwise."""
    found = _user.get()
    return found[1] if found is not None and found[0] == user_id else None
