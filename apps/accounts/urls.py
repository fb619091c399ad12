"""Account pages."""

from django.urls import path

from apps.accounts import staff_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("profile/", views.profile, name="profile"),
    path("logout/", views.sign_out, name="logout"),
    path("staff/enrol/", staff_views.staff_enrol, name="staff-enrol"),
    path("staff/verify/", staff_views.staff_verify, name="staff-verify"),
]
