"""Idempotency-Key and clientCorrelator for capability calls, over ``apps.core.idempotency``.

The first call under a key claims it (a committed row), runs, and stores its answer (status and
body, refusals included); a repeat with the same body gets that answer back, with a different
body 409 CONFLICT, and while the first is still running 409 as well. A call that fails
unexpectedly (an exception, not a refusal) gives its key back so the partner can retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from apps.core.errors import Conflict, IdempotencyConflict
from apps.core.idempotency import idempotency_claim, idempotency_complete
from apps.core.models import IdempotencyRecord
from apps.gateway.errors import CapabilityError

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


@dataclass
class IdempotentCall:
    scope: str
    key: str
    replay: Response | None = None

    @classmethod
    def begin(
        cls,
        *,
        request: Request | HttpRequest,
        data: dict[str, Any],
        app_id: int,
        capability: str,
        correlator: str | None = None,
    ) -> IdempotentCall | None:
        """Claim the call's key (the header's, else the body's ``correlator``); None when the
        call carries none (it simply runs)."""
        key = request.headers.get(HEADER) or correlator or ""
        if not key:
            return None
        key = str(key)
        if len(key) > MAX_KEY_LENGTH:
            raise CapabilityError(
                400, "INVALID_ARGUMENT", _("The idempotency key is longer than 128 characters.")
            )
        scope = f"gw:{app_id}:{capability}"
        target = getattr(request, "_request", request).get_full_path()  # DRF's or Django's
        payload = {"target": target, "body": data}
        try:
            first = idempotency_claim(scope=scope, key=key, payload=payload)
        except IdempotencyConflict as exc:
            raise CapabilityError(
                409,
                "CONFLICT",
                _("This idempotency key was already used with a different request."),
            ) from exc
        except Conflict as exc:
            raise CapabilityError(
                409,
                "CONFLICT",
                _("The first request with this idempotency key is still being processed."),
            ) from exc
        call = cls(scope=scope, key=key)
        if first is not None:
            call.replay = Response(first["body"], status=first["status"])
            call.replay["Idempotent-Replayed"] = "true"
        return call

    def finish(self, status: int, body: Any) -> None:
        """Keep the answer for repeats."""
        # DRF's encoder, so that a replay reads like the first answer (decimals as numbers).
        stored = json.loads(json.dumps(body, cls=JSONEncoder))
        idempotency_complete(
            scope=self.scope, key=self.key, response={"status": status, "body": stored}
        )

    def abandon(self) -> None:
        """Give the key back after an unexpected failure."""
        IdempotencyRecord.objects.filter(
            scope=self.scope, key=self.key, response__isnull=True
        ).delete()
