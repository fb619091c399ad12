"""Workbench: the official account's custom menu, published to WeChat by an action."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from wechatpy.exceptions import WeChatException

from apps.wechat import services
from apps.wechat.models import MenuButton


@admin.register(MenuButton)
class MenuButtonAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "position", "kind", "key", "url"]
    list_filter = ["kind"]
    actions = ["sync_menu"]

    @admin.action(description=_("Publish the whole menu to WeChat"), permissions=["change"])
    def sync_menu(self, request: HttpRequest, queryset: QuerySet[MenuButton]) -> None:
        """The whole menu is published (WeChat replaces it at once), whatever rows are ticked."""
        try:
            menu = services.menu_sync()
        except (WeChatException, OSError) as exc:
            self.message_user(request, _("WeChat refused the menu: %s") % exc, messages.ERROR)
            return
        self.message_user(
            request, _("Menu published: %d buttons.") % len(menu["button"]), messages.SUCCESS
        )
