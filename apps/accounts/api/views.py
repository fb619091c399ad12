"""Accounts API: one view per operation, each calling one service or selector."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors, services
from apps.accounts.api import serializers as s
from apps.core.http import client_ip
from apps.core.serializers import ErrorSerializer

_ERRORS = {
    400: OpenApiResponse(ErrorSerializer),
    429: OpenApiResponse(ErrorSerializer),
    503: OpenApiResponse(ErrorSerializer),
}


def _user_id(request: Any) -> int:
    """The signed-in user's id (the view's permission check has run)."""
    return cast(int, request.user.pk)


class OtpRequestApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        tags=["auth"],
        summary="Send an SMS sign-in code",
        request=s.OtpRequestInput,
        responses={202: s.OtpRequestOutput, **_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.OtpRequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.otp_request(phone=data.validated_data["phone"], ip=client_ip(request))
        body = {
            "phone": issued.phone,
            "expires_in": settings.OTP_TTL_SECONDS,
            "resend_after": issued.resend_after_seconds,
        }
        return Response(s.OtpRequestOutput(body).data, status=status.HTTP_202_ACCEPTED)


class SignInApi(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[type] = []

    @extend_schema(
        tags=["auth"],
        summary="Sign in (or register) with an SMS code and get a bearer token",
        request=s.SignInInput,
        responses={200: s.SignInOutput, **_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = s.SignInInput(data=request.data)
        data.is_valid(raise_exception=True)
        signed_in = services.otp_sign_in(
            phone=data.validated_data["phone"], code=data.validated_data["code"]
        )
        token, record = services.api_token_issue(
            user_id=signed_in.user_id, name=data.validated_data["token_name"]
        )
        body = {
            "token": token,
            "expires_at": record.expires_at,
            "created": signed_in.created,
            "user": asdict(selectors.user_profile(user_id=signed_in.user_id)),
        }
        return Response(s.SignInOutput(body).data)


class SignOutApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        summary="Sign out: revoke the bearer token used, or end the session",
        request=None,
        responses={204: None},
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, str):
            services.api_token_revoke(token=request.auth)
        else:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["me"], summary="The signed-in user's profile", responses={200: s.ProfileOutput}
    )
    def get(self, request: Request) -> Response:
        profile = selectors.user_profile(user_id=_user_id(request))
        return Response(s.ProfileOutput(asdict(profile)).data)


class RealNameApi(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["me"],
        summary="Register the user's real-name identity",
        request=s.RealNameInput,
        responses={
            201: s.ProfileOutput,
            400: OpenApiResponse(ErrorSerializer),
            409: OpenApiResponse(ErrorSerializer),
        },
    )
    def post(self, request: Request) -> Response:
        data = s.RealNameInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.real_name_submit(user_id=_user_id(request), **data.validated_data)
        profile = selectors.user_profile(user_id=_user_id(request))
        return Response(s.ProfileOutput(asdict(profile)).data, status=status.HTTP_201_CREATED)
