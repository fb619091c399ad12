"""The carrier API's one error body, ``{"status", "code", "message"}``, and its exception."""

from __future__ import annotations

from typing import Any

from django.http import JsonResponse


def error_response(status: int, code: str, message: str) -> JsonResponse:
    """A JSON error with the body every refusal of the sandbox shares."""
    body: dict[str, Any] = {"status": status, "code": code, "message": message}
    return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})


class SandboxError(Exception):
    """A refusal the carrier gives on purpose; views turn it into ``error_response``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def as_response(self) -> JsonResponse:
        return error_response(self.status, self.code, self.message)


def invalid_argument(message: str) -> SandboxError:
    return SandboxError(400, "INVALID_ARGUMENT", message)


def not_found(message: str = "Not found.", code: str = "NOT_FOUND") -> SandboxError:
    return SandboxError(404, code, message)
