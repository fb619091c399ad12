"""The official account's work: deduplicating pushed messages, sending template messages and
syncing the custom menu through wechatpy (pointed at ``WECHAT_MP_API_BASE``)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from wechatpy.messages import BaseMessage

from apps.core.redis import get_redis
from apps.wechat.client import mp_client
from apps.wechat.models import MenuButton

logger = logging.getLogger(__name__)

# WeChat retries a push three times within 15 s; a day covers that with room to spare.
SEEN_TTL_SECONDS = 24 * 3600
SENT_TTL_SECONDS = 7 * 24 * 3600


def message_first_time(message: BaseMessage) -> bool:
    """True once per pushed message: by ``MsgId`` for messages, by sender and create time for
    events (which carry no id), as WeChat's documentation says to deduplicate."""
    msg_id = getattr(message, "id", None)
    ident = str(msg_id) if msg_id else f"{message.source}:{message.time}:{message.type}"
    return bool(get_redis().set(f"wechat:seen:{ident}", 1, nx=True, ex=SEEN_TTL_SECONDS))


def template_send(*, kind: str, openid: str, data: dict[str, str], url: str, key: str) -> bool:
    """Send one template message (``kind`` names the template in ``WECHAT_MP_TEMPLATES``); a
    ``key`` already sent is skipped, so a redelivered task does not message twice. Returns
    whether it was sent now."""
    redis = get_redis()
    marker = f"wechat:tpl:{key}"
    if redis.exists(marker):
        return False
    body = {name: {"value": value} for name, value in data.items()}
    mp_client().message.send_template(openid, settings.WECHAT_MP_TEMPLATES[kind], body, url=url)
    redis.set(marker, 1, ex=SENT_TTL_SECONDS)
    return True


def _button(row: MenuButton, children: list[MenuButton]) -> dict[str, Any]:
    if row.kind == MenuButton.Kind.GROUP:
        return {"name": row.name, "sub_button": [_button(c, []) for c in children[:5]]}
    if row.kind == MenuButton.Kind.VIEW:
        return {"type": "view", "name": row.name, "url": row.url}
    return {"type": "click", "name": row.name, "key": row.key}


def menu_definition() -> dict[str, Any]:
    """The menu as WeChat's menu/create takes it: the first three top-level buttons in order,
    a group with its first five children."""
    rows = list(MenuButton.objects.all())
    top = [row for row in rows if row.parent_id is None][:3]
    return {"button": [_button(row, [c for c in rows if c.parent_id == row.pk]) for row in top]}


def menu_sync() -> dict[str, Any]:
    """Publish the workbench's menu to WeChat; returns what was sent."""
    menu = menu_definition()
    mp_client().menu.create(menu)
    logger.info("wechat menu synced: %d buttons", len(menu["button"]))
    return menu
