"""What the official account answers: the text for a follower's message or event.

Keywords and the menu keys BALANCE / DATA read the bound number's line through ``apps.mobile``
(the carrier's balance and data left, as on /my/line/); an unbound follower gets the link that
binds the number. Every answer is a plain text reply.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.accounts.selectors import wechat_user_for_openid
from apps.carrier.errors import CarrierUnavailable
from apps.core.errors import DomainError
from apps.core.money import format_fen
from apps.mobile.selectors import line_info, line_usage
from apps.wechat.models import MenuButton

BALANCE_KEY = "BALANCE"
DATA_KEY = "DATA"
KEYWORDS = {"话费": BALANCE_KEY, "余额": BALANCE_KEY, "流量": DATA_KEY}


def bind_url() -> str:
    return f"{settings.WECHAT_MP_SITE_URL.rstrip('/')}{reverse('wechat:oauth')}"


def _bind_hint() -> str:
    return _("Bind your mobile number first: %(url)s") % {"url": bind_url()}


def welcome(openid: str) -> str:
    text = _("Welcome to CarrierHub! Send 话费 for your balance or 流量 for your data left.")
    if wechat_user_for_openid(openid=openid) is None:
        text = f"{text}\n{_bind_hint()}"
    return text


def line_reply(openid: str, key: str) -> str:
    """The balance (``BALANCE``) or the data left (``DATA``) of the follower's bound number."""
    user_id = wechat_user_for_openid(openid=openid)
    if user_id is None:
        return _bind_hint()
    try:
        if key == BALANCE_KEY:
            info = line_info(user_id=user_id)
            return _("Balance of %(msisdn)s: %(amount)s.") % {
                "msisdn": info.msisdn, "amount": format_fen(info.balance_fen or 0),
            }  # fmt: skip
        usage = line_usage(user_id=user_id)
        return _("Data left on %(msisdn)s: %(left)d MB of %(total)d MB.") % {
            "msisdn": usage.msisdn, "left": usage.remaining_mb, "total": usage.total_mb,
        }  # fmt: skip
    except CarrierUnavailable:
        return _("The carrier cannot be reached right now; please try again later.")
    except DomainError as exc:
        return exc.message


def text_reply(openid: str, content: str) -> str:
    key = KEYWORDS.get(content.strip())
    if key is not None:
        return line_reply(openid, key)
    return _("Send 话费 for your balance or 流量 for your data left.")


def click_reply(openid: str, key: str) -> str:
    if key in (BALANCE_KEY, DATA_KEY):
        return line_reply(openid, key)
    button = MenuButton.objects.filter(kind=MenuButton.Kind.CLICK, key=key).first()
    if button is None or not button.reply_text:
        return _("Send 话费 for your balance or 流量 for your data left.")
    return button.reply_text
