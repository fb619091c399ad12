"""The workbench's registry of to-dos and key figures: every app registers its own, the home
page (``apps.analytics``) shows those of the signed-in staff member's roles.

It lives in the kernel so that any app can register without importing the top layer: an app
calls ``register_todo`` / ``register_figure`` in its ``AppConfig.ready()``. ``roles`` are the
role group names (``apps.accounts.models.Role`` values: ``operator``, ``finance``, ``risk``,
``cp_reviewer``, ``partner_reviewer``); a superuser sees everything. A count must be cheap (an
indexed ``count()`` over a status, or a read of a rollup): it runs on the home page, cached for
``COUNT_CACHE_SECONDS``. See docs/workbench.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache

COUNT_CACHE_SECONDS = 30
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Todo:
    """Work waiting for someone: how many, and the page where it is done."""

    key: str
    label: Any  # str or a lazy translation
    count: Callable[[], int]
    url: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Figure:
    """One of the day's key figures; ``money`` marks a value in fen."""

    key: str
    label: Any
    value: Callable[[], int]
    roles: frozenset[str]
    url: str = ""
    money: bool = False


@dataclass(frozen=True)
class Shown:
    """A to-do or figure as shown: its value now (None when reading it failed)."""

    key: str
    label: Any
    value: int | None
    url: str
    money: bool = False


_todos: dict[str, Todo] = {}
_figures: dict[str, Figure] = {}


def register_todo(
    key: str, label: Any, count: Callable[[], int], url: str, roles: Iterable[str]
) -> None:
    """Register (or replace, so that a reload is harmless) the to-do ``key``.

    ``url`` is a path (the filtered change list, usually); ``roles`` who sees it.
    """
    _todos[key] = Todo(key=key, label=label, count=count, url=url, roles=frozenset(roles))


def register_figure(
    key: str,
    label: Any,
    value: Callable[[], int],
    roles: Iterable[str],
    *,
    url: str = "",
    money: bool = False,
) -> None:
    """Register (or replace) the key figure ``key``; ``value`` reads today's number."""
    _figures[key] = Figure(
        key=key, label=label, value=value, roles=frozenset(roles), url=url, money=money
    )


def todos() -> list[Todo]:
    return list(_todos.values())


def figures() -> list[Figure]:
    return list(_figures.values())


def _cached(kind: str, key: str, read: Callable[[], int]) -> int | None:
    cache_key = f"workbench:{kind}:{key}"
    value = cache.get(cache_key)
    if value is None:
        try:
            value = int(read())
        except Exception:  # one broken count must not take the home page down
            logger.exception("workbench %s %s failed", kind, key)
            return None
        cache.set(cache_key, value, COUNT_CACHE_SECONDS)
    return int(value)


def todos_for(role: str) -> list[Shown]:
    """The to-dos of one role, in registration order, with their counts."""
    return [
        Shown(key=t.key, label=t.label, value=_cached("todo", t.key, t.count), url=t.url)
        for t in _todos.values()
        if role in t.roles
    ]


def figures_for(role: str) -> list[Shown]:
    """The key figures of one role, in registration order, with today's values."""
    return [
        Shown(
            key=f.key,
            label=f.label,
            value=_cached("figure", f.key, f.value),
            url=f.url,
            money=f.money,
        )
        for f in _figures.values()
        if role in f.roles
    ]
