"""The API's JSON parser: a body-size and nesting-depth limit before Python's recursive decoder."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser
from rest_framework.utils import json

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("The request body is too large.")
    default_code = "PAYLOAD_TOO_LARGE"


def json_too_deep(text: str, *, max_depth: int) -> bool:
    """Whether brackets outside strings nest deeper than ``max_depth`` (no recursion)."""
    depth = 0
    for bracket in _BRACKET.findall(_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        if depth > max_depth:
            return True
    return False


class LimitedJSONParser(JSONParser):
    """DRF's JSON parser that refuses more than JSON_MAX_BODY_BYTES (413) and more than
    JSON_MAX_DEPTH levels of nesting (400) instead of running into a RecursionError (500)."""

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.JSON_MAX_BODY_BYTES
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(_("The body is not valid UTF-8.")) from exc
        if json_too_deep(text, max_depth=settings.JSON_MAX_DEPTH):
            raise exceptions.ParseError(_("The JSON body is nested too deeply."))
        try:
            return json.loads(text, parse_constant=json.strict_constant if self.strict else None)
        except ValueError as exc:
            raise exceptions.ParseError(_("The body is not valid JSON.")) from exc
