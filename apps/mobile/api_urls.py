"""Line API routes under /api/v1/me/line/."""

from django.urls import path

from apps.mobile import api

app_name = "line-api"

urlpatterns = [
    path("", api.LineApi.as_view(), name="line"),
    path("usage/", api.LineUsageApi.as_view(), name="usage"),
    path("bills/<str:month>/", api.LineBillApi.as_view(), name="bill"),
    path("offers/", api.LineOffersApi.as_view(), name="offers"),
    path("requests/", api.LineRequestsApi.as_view(), name="requests"),
    path("requests/<int:request_id>/", api.LineRequestApi.as_view(), name="request"),
]
