"""Knobs and faults: the latency, errors, timeouts and lost responses every carrier call may meet.

Global knobs live in one row (``Knobs``, pk=1); each of the 31 provincial BOSS endpoints may
override the fault knobs for itself (``Knobs.province_knobs``); a caller may override them for
one request with ``X-Sandbox-Latency-Ms: <int>`` and ``X-Sandbox-Fault: error|timeout|lost|none``.
"""

from __future__ import annotations

import copy
import enum
import functools
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from apps.sandbox.errors import SandboxError, error_response, invalid_argument, not_found
from apps.sandbox.jsonapi import require_api_key
from apps.sandbox.models import KNOB_FIELDS, MAX_LATENCY_MS, Knobs
from apps.sandbox.provinces import PROVINCE_KNOBS, PROVINCES

P = ParamSpec("P")


class Fault(enum.StrEnum):
    ERROR = "error"
    TIMEOUT = "timeout"
    LOST = "lost"


@dataclass(frozen=True)
class FaultPlan:
    """What will go wrong with one call: a delay first, then at most one fault."""

    latency_ms: int
    fault: Fault | None
    hang_ms: int


def knobs_get() -> Knobs:
    """The knobs row, created with defaults on first use (one query once it exists)."""
    knobs, _ = Knobs.objects.get_or_create(pk=1)
    return knobs


def knobs_as_dict(knobs: Knobs) -> dict[str, Any]:
    return {name: getattr(knobs, name) for name in KNOB_FIELDS}


def _coerce_knob(field: models.Field[Any, Any], value: Any) -> Any:
    """Check the JSON type of one knob; ranges are left to the model's validators."""
    # bool is an int in Python, but ``true`` is no latency.
    if isinstance(field, models.BooleanField):
        ok = isinstance(value, bool)
    elif isinstance(field, models.FloatField):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif isinstance(field, models.IntegerField):
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, str)
    if not ok:
        raise invalid_argument(f"{field.name}: wrong type {type(value).__name__}.")
    return value


def _apply_checked(knobs: Knobs, changes: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    """Set ``changes`` on ``knobs`` after checking names, types and ranges (unsaved)."""
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise invalid_argument(f"Unknown knobs: {', '.join(unknown)}.")
    for name, value in changes.items():
        field = Knobs._meta.get_field(name)
        assert isinstance(field, models.Field)
        setattr(knobs, name, _coerce_knob(field, value))
    # The API speaks English; the pages show the same validators' messages in Chinese.
    with translation.override("en"):
        try:
            knobs.full_clean()
        except ValidationError as exc:
            problems = "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items()
            )
            raise invalid_argument(problems) from None


def knobs_update(*, changes: Mapping[str, Any]) -> Knobs:
    """Apply a partial set of knob values after checking names, types and ranges."""
    knobs = knobs_get()
    _apply_checked(knobs, changes, KNOB_FIELDS)
    knobs.save()
    return knobs


def _province_checked(province: str) -> str:
    if province not in PROVINCES:
        raise not_found(f"No provincial BOSS {province!r}.")
    return province


def province_knobs_get(*, province: str) -> dict[str, Any]:
    """The fault knobs ``province``'s BOSS uses now (its overrides over the global ones)."""
    return province_knobs_effective(knobs=knobs_get(), province=_province_checked(province))


def province_knobs_update(*, province: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Override fault knobs for one provincial BOSS (partial; checked like the global ones);
    an empty ``changes`` clears the province's overrides. Returns what the province now uses."""
    _province_checked(province)
    knobs = knobs_get()
    overrides = {**knobs.province_knobs.get(province, {}), **changes} if changes else {}
    _apply_checked(copy.copy(knobs), overrides, PROVINCE_KNOBS)  # checked on a copy, unsaved
    knobs.province_knobs = {**knobs.province_knobs, province: overrides}
    if not overrides:
        del knobs.province_knobs[province]
    knobs.save(update_fields=["province_knobs", "updated_at"])
    return province_knobs_effective(knobs=knobs, province=province)


def province_knobs_effective(*, knobs: Knobs, province: str | None) -> dict[str, Any]:
    """The fault knobs a call to ``province``'s BOSS meets (the global ones when ``None``)."""
    values = {name: getattr(knobs, name) for name in PROVINCE_KNOBS}
    return values | (knobs.province_knobs.get(province, {}) if province else {})


def knobs_reset() -> Knobs:
    """Put every knob back to its default."""
    defaults = {name: Knobs._meta.get_field(name).get_default() for name in KNOB_FIELDS}  # type: ignore[union-attr]
    defaults["province_knobs"] = {}
    defaults["bill_differences"] = {}
    knobs, _ = Knobs.objects.update_or_create(pk=1, defaults=defaults)
    return knobs


def fault_plan(
    *, headers: Mapping[str, str], knobs: Knobs, province: str | None = None
) -> FaultPlan:
    """Decide one call's fate from its override headers, else from the knobs' rates (those of
    ``province``'s BOSS where it overrides them)."""
    values = province_knobs_effective(knobs=knobs, province=province)
    latency_ms = values["latency_ms"]
    raw_latency = headers.get("X-Sandbox-Latency-Ms")
    if raw_latency is not None:
        if (
            not (raw_latency.isascii() and raw_latency.isdigit())
            or int(raw_latency) > MAX_LATENCY_MS
        ):
            raise invalid_argument(f"X-Sandbox-Latency-Ms must be 0..{MAX_LATENCY_MS}.")
        latency_ms = int(raw_latency)

    fault: Fault | None = None
    raw_fault = headers.get("X-Sandbox-Fault")
    if raw_fault is not None:
        if raw_fault != "none" and raw_fault not in {f.value for f in Fault}:
            raise invalid_argument("X-Sandbox-Fault must be error, timeout, lost or none.")
        fault = None if raw_fault == "none" else Fault(raw_fault)
    else:
        # Independent draws, so each rate means what it says on its own. Not security-relevant.
        for candidate, rate in (
            (Fault.ERROR, values["error_rate"]),
            (Fault.TIMEOUT, values["timeout_rate"]),
            (Fault.LOST, values["lost_response_rate"]),
        ):
            if rate > 0 and random.random() < rate:  # noqa: S311
                fault = candidate
                break
    return FaultPlan(latency_ms=latency_ms, fault=fault, hang_ms=values["hang_ms"])


def carrier_endpoint(
    view: Callable[Concatenate[HttpRequest, Knobs, P], HttpResponse],
) -> Callable[Concatenate[HttpRequest, P], HttpResponse]:
    """Guard a ``/carrier/v1`` view with the API key and play the planned fault around it.

    The key is checked before any fault so that nobody without it can tie up threads. The view
    gets the knobs read here, so one call costs one knobs query. Under
    ``/carrier/v1/provinces/<province>/`` the URL's ``province`` picks that BOSS's knobs (the
    view itself does not see it).
    """

    @functools.wraps(view)
    def wrapper(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        province = cast(str | None, kwargs.pop("province", None))
        try:
            require_api_key(request)
            if province is not None:
                _province_checked(province)
            knobs = knobs_get()
            plan = fault_plan(headers=request.headers, knobs=knobs, province=province)
        except SandboxError as exc:
            return exc.as_response()
        if plan.latency_ms:
            time.sleep(plan.latency_ms / 1000)
        if plan.fault is Fault.ERROR:
            return error_response(503, "UNAVAILABLE", "The carrier network is unavailable.")
        if plan.fault is Fault.TIMEOUT:
            time.sleep(plan.hang_ms / 1000)
            return error_response(504, "TIMEOUT", "The carrier network timed out.")
        try:
            response = view(request, knobs, *args, **kwargs)
        except SandboxError as exc:
            response = exc.as_response()
        if plan.fault is Fault.LOST:
            # The request took effect; the answer arrives after the caller has given up.
            time.sleep(plan.hang_ms / 1000)
        return response

    return wrapper
