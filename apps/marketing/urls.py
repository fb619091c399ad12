"""Marketing pages: /campaigns/<id>/ and /my/coupons/."""

from django.urls import path

from apps.marketing import views

app_name = "marketing"

urlpatterns = [
    path("campaigns/<int:campaign_id>/", views.campaign, name="campaign"),
    path("campaigns/<int:campaign_id>/claim/<int:batch_id>/", views.claim, name="claim"),
    path("my/coupons/", views.my_coupons, name="my-coupons"),
    path("channel/", views.channel_console, name="channel-console"),
    path("channel/qr/<slug:code>.<str:fmt>", views.channel_qr, name="channel-qr"),
]
