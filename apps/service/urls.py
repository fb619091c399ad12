"""Customer-service pages: /help/, /my/points/, /my/invoices/, /my/tickets/, an order's invoice."""

from django.urls import path

from apps.service import views

app_name = "service"

urlpatterns = [
    path("help/", views.help_centre, name="help"),
    path("my/points/", views.points, name="points"),
    path("my/invoices/", views.invoice_list, name="invoices"),
    path("my/invoices/<int:invoice_id>/pdf/", views.invoice_download, name="invoice-pdf"),
    path("orders/<str:number>/invoice/", views.invoice_request, name="invoice-request"),
    path("my/tickets/", views.ticket_list, name="tickets"),
    path("my/tickets/<int:ticket_id>/", views.ticket_detail, name="ticket"),
    path("my/tickets/<int:ticket_id>/close/", views.ticket_close, name="ticket-close"),
]
