"""Seed the official account's custom menu (idempotent: keyed by name and parent); publish it
from the workbench (公众号菜单按钮 → 将整个菜单发布到微信)."""

from __future__ import annotations

from apps.wechat.models import MenuButton

# (name, kind, key, url, reply text, children)
MENU: list[tuple[str, str, str, str, str, list[tuple[str, str, str]]]] = [
    ("商城", "view", "", "http://127.0.0.1:8000/", "", []),
    ("我的", "group", "", "", "", [("查话费", "click", "BALANCE"), ("查流量", "click", "DATA")]),
    ("活动", "click", "PROMO", "", "本月充值满100元送10元话费，详情见商城首页。", []),
]


def seed_wechat_menu() -> int:
    """Create the menu buttons that are missing; returns how many were created."""
    created = 0
    for position, (name, kind, key, url, reply, children) in enumerate(MENU):
        top, made = MenuButton.objects.get_or_create(
            name=name, parent=None,
            defaults={"kind": kind, "key": key, "url": url, "reply_text": reply, "position": position},
        )  # fmt: skip
        created += made
        for child_position, (child, child_kind, child_key) in enumerate(children):
            _, made = MenuButton.objects.get_or_create(
                name=child, parent=top,
                defaults={"kind": child_kind, "key": child_key, "position": child_position},
            )  # fmt: skip
            created += made
    return created
