"""Accounts API routes under /api/v1/."""

from django.urls import path

from apps.accounts.api import views

app_name = "accounts-api"

urlpatterns = [
    path("auth/otp/", views.OtpRequestApi.as_view(), name="otp"),
    path("auth/sign-in/", views.SignInApi.as_view(), name="sign-in"),
    path("auth/sign-out/", views.SignOutApi.as_view(), name="sign-out"),
    path("me/", views.MeApi.as_view(), name="me"),
    path("me/real-name/", views.RealNameApi.as_view(), name="real-name"),
]
