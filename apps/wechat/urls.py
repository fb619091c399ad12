"""The official account's pages, under /wechat/."""

from django.urls import path

from apps.wechat import views

app_name = "wechat"

urlpatterns = [
    path("mp/", views.mp_endpoint, name="mp"),
    path("oauth/", views.oauth_start, name="oauth"),
    path("oauth/callback/", views.oauth_callback, name="oauth-callback"),
    path("bind/", views.bind, name="bind"),
    path("bound/", views.bound, name="bound"),
]
