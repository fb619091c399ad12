"""The official account's server endpoint (/wechat/mp/) and the OAuth sign-in that binds a
follower's openid to a number proved by SMS code (/wechat/oauth/, /wechat/bind/)."""

from __future__ import annotations

import logging
import secrets
from xml.parsers.expat import ExpatError

from django.conf import settings
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods
from wechatpy import create_reply, parse_message
from wechatpy.exceptions import InvalidSignatureException, WeChatException
from wechatpy.utils import check_signature

from apps.accounts import services as accounts
from apps.accounts.errors import AccountDisabled
from apps.accounts.forms import SignInForm
from apps.accounts.models import User
from apps.accounts.selectors import wechat_user_for_openid
from apps.accounts.validators import mask_phone
from apps.core.errors import DomainError
from apps.core.http import client_ip
from apps.wechat import replies
from apps.wechat.client import mp_oauth
from apps.wechat.errors import BadMessage, BadSignature, OAuthFailed
from apps.wechat.services import message_first_time

logger = logging.getLogger(__name__)
SESSION_OPENID = "wechat_openid"
SESSION_STATE = "wechat_oauth_state"
_CODE_ERRORS = {"OTP_NOT_REQUESTED", "OTP_EXPIRED", "OTP_INVALID", "OTP_ATTEMPTS_EXCEEDED",
                "OTP_ALREADY_USED"}  # fmt: skip


def _refused(exc: DomainError) -> JsonResponse:
    return JsonResponse(exc.as_body(), status=exc.http_status)


def _reply_text(message: object) -> str | None:
    """The answer to one pushed message or event, or None for what needs no answer."""
    openid = message.source  # type: ignore[attr-defined]
    kind = getattr(message, "type", "")
    event = getattr(message, "event", "")
    if kind == "event" and event == "subscribe":
        return replies.welcome(openid)
    if kind == "event" and event == "click":
        return replies.click_reply(openid, message.key)  # type: ignore[attr-defined]
    if kind == "text":
        return replies.text_reply(openid, message.content)  # type: ignore[attr-defined]
    return None


@csrf_exempt
@require_http_methods(["GET", "POST"])
def mp_endpoint(request: HttpRequest) -> HttpResponse:
    """WeChat's server URL: GET verifies the URL (echoes ``echostr``), POST delivers messages
    and events. A wrong signature is refused (403) before anything is read; a message pushed
    again (WeChat retries) is answered ``success`` and not processed again."""
    try:
        check_signature(
            settings.WECHAT_MP_TOKEN, request.GET.get("signature", ""),
            request.GET.get("timestamp", ""), request.GET.get("nonce", ""),
        )  # fmt: skip
    except InvalidSignatureException:
        return _refused(BadSignature())
    if request.method == "GET":
        return HttpResponse(request.GET.get("echostr", ""), content_type="text/plain")
    try:
        message = parse_message(request.body)
    except (ExpatError, TypeError, KeyError, AttributeError):
        return _refused(BadMessage())
    if not message_first_time(message):
        return HttpResponse("success", content_type="text/plain")
    text = _reply_text(message)
    if text is None:
        return HttpResponse("success", content_type="text/plain")
    return HttpResponse(create_reply(text, message).render(), content_type="application/xml")


def _callback_url(request: HttpRequest) -> str:
    return f"{settings.WECHAT_MP_SITE_URL.rstrip('/')}{reverse('wechat:oauth-callback')}"


@require_GET
def oauth_start(request: HttpRequest) -> HttpResponse:
    """Send the browser to WeChat's authorize page (snsapi_base: the openid, silently)."""
    state = secrets.token_urlsafe(16)
    request.session[SESSION_STATE] = state
    return redirect(mp_oauth(redirect_uri=_callback_url(request), state=state).authorize_url)


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Exchange the code for the openid. A bound follower is signed in; an unbound one goes on
    to prove a number by SMS code."""
    state = request.session.pop(SESSION_STATE, None)
    code = request.GET.get("code", "")
    if not code or not state or not secrets.compare_digest(state, request.GET.get("state", "")):
        return _refused(OAuthFailed(details={"reason": "state"}))
    try:
        openid = mp_oauth(redirect_uri=_callback_url(request)).fetch_access_token(code)["openid"]
    except WeChatException as exc:
        logger.info("wechat oauth code refused: %s", exc)
        return _refused(OAuthFailed(details={"reason": "code"}))
    request.session[SESSION_OPENID] = openid
    user_id = wechat_user_for_openid(openid=openid)
    if user_id is not None:
        user = User.objects.get(pk=user_id)
        if not user.is_active:
            return _refused(AccountDisabled())
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("wechat:bound")
    return redirect("wechat:bind")


@require_http_methods(["GET", "POST"])
def bind(request: HttpRequest) -> HttpResponse:
    """Prove the number by SMS code (accounts' OTP), then bind the session's openid to it.
    A number bound to another WeChat account is rebound only when ``rebind`` is ticked."""
    openid = request.session.get(SESSION_OPENID)
    if not openid:
        return redirect("wechat:oauth")
    form = SignInForm(request.POST or None)
    code_sent, status, ask_rebind = False, 200, False
    if request.method == "POST" and form.is_valid():
        phone, code = form.cleaned_data["phone"], form.cleaned_data["code"]
        try:
            if request.POST.get("action") == "send":
                issued = accounts.otp_request(phone=phone, ip=client_ip(request))
                code_sent = True
                form.add_error(None, _("A code was sent to %(phone)s.") % {
                    "phone": mask_phone(issued.phone)})  # fmt: skip
            elif not code:
                form.add_error("code", _("Enter the code from the SMS."))
                code_sent = True
            else:
                rebind = request.POST.get("rebind") == "1"
                # Refused bindings are refused before the code is spent.
                accounts.wechat_bind_precheck(phone=phone, openid=openid, rebind=rebind)
                signed_in = accounts.otp_sign_in(phone=phone, code=code)
                accounts.wechat_bind(user_id=signed_in.user_id, openid=openid, rebind=rebind)
                login(request, User.objects.get(pk=signed_in.user_id),
                      backend="django.contrib.auth.backends.ModelBackend")  # fmt: skip
                return redirect("wechat:bound")
        except DomainError as exc:
            field = "code" if exc.code in _CODE_ERRORS else "phone"
            ask_rebind = exc.code == "WECHAT_ALREADY_BOUND"
            form.add_error(None if ask_rebind else field, exc.message)
            code_sent = field == "code"
            status = exc.http_status
    elif request.method == "POST":
        status = 400
    context = {"form": form, "code_sent": code_sent, "ask_rebind": ask_rebind,
               "sandbox_inbox_url": settings.SANDBOX_INBOX_URL}  # fmt: skip
    return render(request, "wechat/bind.html", context, status=status)


@require_GET
def bound(request: HttpRequest) -> HttpResponse:
    return render(request, "wechat/bound.html", {"openid": request.session.get(SESSION_OPENID)})
