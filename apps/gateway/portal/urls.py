"""Developer-portal pages under /developer/."""

from django.urls import path

from apps.gateway.portal import views

app_name = "gateway-portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("register/", views.register, name="register"),
    path("apps/new/", views.app_new, name="app-new"),
    path("apps/<int:app_id>/", views.app_detail, name="app"),
    path("apps/<int:app_id>/edit/", views.app_edit, name="app-edit"),
    path("apps/<int:app_id>/production/", views.app_production, name="app-production"),
    path("apps/<int:app_id>/credentials/", views.credential_new, name="credential-new"),
    path(
        "apps/<int:app_id>/credentials/<int:credential_id>/rotate/",
        views.credential_rotate,
        name="credential-rotate",
    ),
    path(
        "apps/<int:app_id>/credentials/<int:credential_id>/revoke/",
        views.credential_revoke,
        name="credential-revoke",
    ),
    path("secret/", views.secret, name="secret"),
    path("apps/<int:app_id>/packages/", views.packages, name="packages"),
    path("apps/<int:app_id>/packages/subscribe/", views.subscribe, name="subscribe"),
    path("apps/<int:app_id>/packages/unsubscribe/", views.unsubscribe, name="unsubscribe"),
    path("apps/<int:app_id>/usage/", views.usage, name="usage"),
]
