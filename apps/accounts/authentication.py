"""``Authorization: Bearer chk_…`` for apps; the web uses Django's session."""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from apps.accounts.current import request_user_remember
from apps.accounts.services import api_token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, str] | None:
        header = authentication.get_authorization_header(request).decode(errors="replace")
        parts = header.split()
        if not parts or parts[0] != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        user = api_token_authenticate(token=parts[1])
        if user is None:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        request_user_remember(user_id=user.pk, phone=user.phone)
        return user, parts[1]

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
