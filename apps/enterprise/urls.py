"""Enterprise bulk distribution pages, under /enterprise/bulk/."""

from django.urls import path

from apps.enterprise import views

app_name = "bulk"

urlpatterns = [
    path("", views.batch_list, name="list"),
    path("<str:batch_no>/", views.batch_detail, name="detail"),
    path("<str:batch_no>/results.csv", views.batch_results, name="results"),
    path("<str:batch_no>/retry/", views.batch_retry, name="retry"),
]
