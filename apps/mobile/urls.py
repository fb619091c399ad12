"""Line pages, under /my/line/."""

from django.urls import path

from apps.mobile import views

app_name = "line"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("usage/", views.usage, name="usage"),
    path("bills/", views.bills, name="bills"),
    path("offers/", views.offers, name="offers"),
    path("offers/<str:kind>/<str:code>/", views.confirm, name="confirm"),
    path("requests/", views.requests, name="requests"),
    path("requests/<int:request_id>/", views.request_detail, name="request"),
]
