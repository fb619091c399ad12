"""Developer-portal API: the portal's pages as REST, one view per resource, calling services."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.serializers import ErrorSerializer
from apps.gateway.api import portal_serializers as s
from apps.gateway.portal import access, selectors, services
from apps.gateway.portal.errors import PartnerNotRegistered
from apps.gateway.portal.usage import usage_report
from apps.gateway.services import IssuedCredential

_E = OpenApiResponse(ErrorSerializer)
TAG = "developer"


def _user_id(request: Any) -> int:
    """The signed-in user's id (``IsAuthenticated`` has run)."""
    return cast(int, request.user.pk)


def _issued(issued: IssuedCredential) -> Response:
    """A new secret: answered once, never cached."""
    response = Response(s.IssuedCredentialOutput(issued).data, status=status.HTTP_201_CREATED)
    response["Cache-Control"] = "no-store"
    return response


def _app_detail(user_id: int, app_id: int) -> dict[str, Any]:
    app = selectors.app_of(user_id=user_id, app_id=app_id)
    body = dict(s.AppOutput(app).data)
    body["credentials"] = s.CredentialOutput(
        selectors.credentials_of(app_id=app.pk), many=True
    ).data
    body["subscriptions"] = s.SubscriptionOutput(
        selectors.subscriptions_of(app_id=app.pk), many=True
    ).data
    return body


class PortalApi(APIView):
    permission_classes = [permissions.IsAuthenticated]


class PartnerApi(PortalApi):
    @extend_schema(
        tags=[TAG], summary="Your company's registration", responses={200: s.PartnerOutput, 404: _E}
    )
    def get(self, request: Request) -> Response:
        partner = selectors.partner_of(user_id=_user_id(request))
        if partner is None:
            raise PartnerNotRegistered()
        return Response(s.PartnerOutput(partner).data)

    @extend_schema(
        tags=[TAG],
        summary="Register your company for review (or resubmit a rejected registration)",
        request=s.CompanyInput,
        responses={201: s.PartnerOutput, 400: _E, 409: _E},
    )
    def post(self, request: Request) -> Response:
        data = s.CompanyInput(data=request.data)
        data.is_valid(raise_exception=True)
        partner = services.partner_register(user_id=_user_id(request), **data.validated_data)
        return Response(s.PartnerOutput(partner).data, status=status.HTTP_201_CREATED)


class AppsApi(PortalApi):
    @extend_schema(
        tags=[TAG], summary="Your company's apps", responses={200: s.AppOutput(many=True)}
    )
    def get(self, request: Request) -> Response:
        apps = selectors.apps_of(user_id=_user_id(request))
        return Response(s.AppOutput(apps, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Create an app; its sandbox credential's secret is in this answer only",
        request=s.AppInput,
        responses={201: s.AppCreatedOutput, 400: _E, 403: _E, 404: _E, 409: _E},
    )
    def post(self, request: Request) -> Response:
        data = s.AppInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = services.app_create(user_id=_user_id(request), **data.validated_data)
        body = {"app": created.app, "credential": created.credential}
        response = Response(s.AppCreatedOutput(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


class AppApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="An app with its credentials (never their secrets) and subscriptions",
        responses={200: s.AppDetailOutput, 404: _E},
    )
    def get(self, request: Request, app_id: int) -> Response:
        return Response(_app_detail(_user_id(request), app_id))

    @extend_schema(
        tags=[TAG],
        summary="Replace an app's name, description, callback URLs and IP allow-list",
        request=s.AppInput,
        responses={200: s.AppDetailOutput, 400: _E, 404: _E, 409: _E},
    )
    def put(self, request: Request, app_id: int) -> Response:
        data = s.AppInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.app_update(user_id=_user_id(request), app_id=app_id, **data.validated_data)
        return Response(_app_detail(_user_id(request), app_id))


class ProductionRequestApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="Ask for production access; an operator reviews it",
        request=None,
        responses={200: s.AppDetailOutput, 403: _E, 404: _E, 409: _E},
    )
    def post(self, request: Request, app_id: int) -> Response:
        services.app_production_request(user_id=_user_id(request), app_id=app_id)
        return Response(_app_detail(_user_id(request), app_id))


class CredentialsApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="Issue a credential (at most two active per environment); the secret is shown once",
        request=s.CredentialInput,
        responses={201: s.IssuedCredentialOutput, 403: _E, 404: _E, 409: _E},
    )
    def post(self, request: Request, app_id: int) -> Response:
        data = s.CredentialInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = access.app_credential_issue(
            user_id=_user_id(request), app_id=app_id, **data.validated_data
        )
        return _issued(issued)


class CredentialRotateApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="Issue a successor; the old credential expires 24 hours later",
        request=None,
        responses={201: s.IssuedCredentialOutput, 404: _E, 409: _E},
    )
    def post(self, request: Request, app_id: int, credential_id: int) -> Response:
        issued = access.app_credential_rotate(
            user_id=_user_id(request), app_id=app_id, credential_id=credential_id
        )
        return _issued(issued)


class CredentialRevokeApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="Revoke a credential at once",
        request=None,
        responses={200: s.RevokedOutput, 404: _E},
    )
    def post(self, request: Request, app_id: int, credential_id: int) -> Response:
        revoked = access.app_credential_revoke(
            user_id=_user_id(request), app_id=app_id, credential_id=credential_id
        )
        return Response(s.RevokedOutput({"revoked": revoked}).data)


class PackagesApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="Capability packages on offer",
        responses={200: s.PackageOutput(many=True)},
    )
    def get(self, request: Request) -> Response:
        return Response(s.PackageOutput(selectors.packages_offered(), many=True).data)


class SubscriptionsApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="An app's subscriptions with the quota used and left this period",
        responses={200: s.SubscriptionOutput(many=True), 404: _E},
    )
    def get(self, request: Request, app_id: int) -> Response:
        app = selectors.app_of(user_id=_user_id(request), app_id=app_id)
        rows = selectors.subscriptions_of(app_id=app.pk)
        return Response(s.SubscriptionOutput(rows, many=True).data)

    @extend_schema(
        tags=[TAG],
        summary="Subscribe an app to a package (repeating it changes nothing)",
        request=s.SubscribeInput,
        responses={201: s.SubscribedOutput, 403: _E, 404: _E, 409: _E},
    )
    def post(self, request: Request, app_id: int) -> Response:
        data = s.SubscribeInput(data=request.data)
        data.is_valid(raise_exception=True)
        subscription_id = access.app_subscribe(
            user_id=_user_id(request), app_id=app_id, package_code=data.validated_data["package"]
        )
        body = s.SubscribedOutput({"subscription_id": subscription_id}).data
        return Response(body, status=status.HTTP_201_CREATED)


class SubscriptionApi(PortalApi):
    @extend_schema(
        tags=[TAG], summary="Unsubscribe an app from a package now", responses={204: None, 404: _E}
    )
    def delete(self, request: Request, app_id: int, package_code: str) -> Response:
        access.app_unsubscribe(user_id=_user_id(request), app_id=app_id, package_code=package_code)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UsageApi(PortalApi):
    @extend_schema(
        tags=[TAG],
        summary="Calls, errors and latency of an app per hour or day (Asia/Shanghai)",
        parameters=[s.UsageQuery],
        responses={200: s.UsageOutput, 400: _E, 404: _E},
    )
    def get(self, request: Request, app_id: int) -> Response:
        query = s.UsageQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        app = selectors.app_of(user_id=_user_id(request), app_id=app_id)
        params = query.validated_data
        granularity = params["granularity"]
        report = usage_report(
            app_ids=[app.pk],
            granularity=granularity,
            periods=params.get("periods") or (14 if granularity == "day" else 24),
            capability=params.get("capability"),
            environment=params.get("environment"),
        )
        return Response(s.UsageOutput(report).data)
