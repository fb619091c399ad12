"""The custom menu as operators edit it in the workbench, synced to WeChat by an admin action."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class MenuButton(models.Model):
    """One button of the official account's menu: up to three top-level buttons, each either
    a click (WeChat sends its ``key`` back as an event), a link, or a group of up to five."""

    class Kind(models.TextChoices):
        CLICK = "click", _("Click (reply in the chat)")
        VIEW = "view", _("Open a link")
        GROUP = "group", _("Sub-menu")

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children",
        verbose_name=_("parent"),
    )  # fmt: skip
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=16)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.CLICK)
    key = models.CharField(
        _("key"), max_length=64, blank=True,
        help_text=_("BALANCE and DATA reply with the bound number's balance and data left; "
                    "other keys reply with the text below."),
    )  # fmt: skip
    url = models.URLField(_("link"), blank=True)
    reply_text = models.TextField(_("reply text"), blank=True)

    objects: models.Manager[MenuButton] = models.Manager()

    class Meta:
        ordering = ["parent_id", "position", "pk"]
        verbose_name = _("WeChat menu button")
        verbose_name_plural = _("WeChat menu buttons")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="click") | ~Q(key=""), name="wechat_menu_click_has_key"
            ),
            models.CheckConstraint(
                condition=~Q(kind="view") | ~Q(url=""), name="wechat_menu_view_has_url"
            ),
        ]

    def __str__(self) -> str:
        return self.name
