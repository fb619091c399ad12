"""Account pages."""

from django.urls import path

from apps.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("profile/", views.profile, name="profile"),
    path("logout/", views.sign_out, name="logout"),
]
