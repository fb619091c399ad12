"""The workbench site: Django's admin with a home page per role and the analytics pages.

The home page shows, for each workbench role the staff member holds (every role for a
superuser), that role's to-dos and key figures from ``apps.core.workbench``, and links to the
chart pages the role may open. The model pages below keep Django's permissions.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import Role
from apps.analytics import admin_policy, views
from apps.analytics.charts import PAGES
from apps.analytics.roles import user_roles
from apps.core import workbench


class WorkbenchSite(admin.AdminSite):
    site_header = _("CarrierHub workbench")
    site_title = "CarrierHub"
    index_title = _("Today")
    index_template = "admin/workbench_index.html"

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Register as Django does, then give each new list the workbench's list policy."""
        super().register(model_or_iterable, admin_class, **options)
        models = (
            model_or_iterable
            if isinstance(model_or_iterable, (list, tuple))
            else [model_or_iterable]
        )
        for model in models:
            if model in self._registry:  # Django skips swapped models (auth.User)
                admin_policy.productise(model, self._registry[model])

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        roles = user_roles(request.user)
        labels = dict(Role.choices)
        sections = [
            {
                "role": role,
                "label": labels[role],
                "todos": workbench.todos_for(role),
                "figures": workbench.figures_for(role),
                "pages": [p for p in PAGES.values() if role in p.roles],
            }
            for role in roles
        ]
        return super().index(request, {"sections": sections, **(extra_context or {})})

    def get_urls(self) -> list[URLResolver | URLPattern]:
        own = [
            path(
                "analytics/<slug:slug>/",
                self.admin_view(self._page),
                name="analytics_page",
            )
        ]
        return own + super().get_urls()

    def _page(self, request: HttpRequest, slug: str) -> HttpResponse:
        return views.chart_page(request, slug=slug, context=self.each_context(request))
