"""Top-level URLs: pages, the REST API and its docs, the workbench, health and callbacks."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.accounts.staff_views import staff_sign_in
from apps.content.console import cp_party_of
from apps.core.favicon import favicon
from apps.core.views import healthz
from apps.marketing.views import channel_apply_view
from apps.settlement.views import partner_of, party_statement_urls

admin.site.site_header = "CarrierHub 运营工作台"
admin.site.site_title = "CarrierHub"
admin.site.index_title = "工作台"

api_v1 = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.orders.api.urls")),
    path("", include("apps.payments.api.urls")),
    path("developer/", include("apps.gateway.api.portal_urls")),
    path("", include("apps.fulfilment.api.urls")),
    path("me/line/", include("apps.mobile.api_urls")),
    path("", include("apps.enterprise.api.urls")),
    path("", include("apps.content.api.urls")),
    path("", include("apps.marketing.api.urls")),
]

urlpatterns = [
    path("", include("apps.catalog.urls")),
    path("", include("apps.service.urls")),
    path("", include("apps.orders.urls")),
    path("", include("apps.fulfilment.urls")),
    path("", include("apps.content.urls")),
    path("", include("apps.simcards.urls")),
    # Channels apply as developer-portal companies (marketing cannot read the portal).
    path("channel/apply/", channel_apply_view(partner_of=partner_of), name="channel-apply"),
    path("", include("apps.marketing.urls")),
    path("enterprise/bulk/", include("apps.enterprise.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("my/line/", include("apps.mobile.urls")),
    path("wechat/", include("apps.wechat.urls")),
    path("my/addresses/", include("apps.accounts.my_urls")),
    # Settlement: partners' statements (the CP console mounts party_statement_urls the same way).
    path("developer/statements/", include("apps.settlement.developer_urls")),
    # The CP console's statements (content owns /cp/; settlement serves the pages).
    path(
        "cp/statements/",
        include(party_statement_urls(kind="cp", party_of=cp_party_of, prefix="cp-")),
    ),
    path("developer/", include("apps.gateway.portal.urls")),
    path("carrier/", include("apps.carrier.urls")),
    path("payments/", include("apps.payments.urls")),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    # Password and authenticator code: the admin's own password-only form is never served.
    path("admin/login/", staff_sign_in, name="staff-sign-in"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("apps.gateway.urls")),
    path("", include("apps.gateway.capability_urls")),
    path("", include("apps.analytics.urls")),
]
if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(
            rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

handler404 = "apps.core.views.page_not_found"
handler500 = "apps.core.views.server_error"
