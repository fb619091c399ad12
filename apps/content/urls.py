"""Content pages: the subscriber's content, the hosted pay page and the CP console."""

from django.urls import path

from apps.content import console, views

app_name = "content"

urlpatterns = [
    path("my/content/", views.my_content, name="mine"),
    path("my/content/<int:product_id>/", views.item, name="item"),
    path("my/content/<int:product_id>/chapters/<int:number>/", views.chapter, name="chapter"),
    path("my/content/<int:product_id>/cancel/", views.subscription_cancel, name="cancel"),
    path("my/content/<int:product_id>/plan/", views.plan_change, name="plan"),
    path("my/content/<int:product_id>/trial/", views.trial_start, name="trial"),
    path("my/content/<int:product_id>/complain/", views.complain, name="complain"),
    path("content/media/<str:token>/", views.media, name="media"),
    path("pay/content/<str:charge_id>/", views.pay, name="pay"),
    path("cp/", console.home, name="cp-home"),
    path("cp/products/new/", console.product_new, name="cp-product-new"),
    path("cp/products/<int:product_id>/price/", console.price_change, name="cp-price"),
    path(
        "cp/products/<int:product_id>/price-points/new/",
        console.price_point_new,
        name="cp-price-point-new",
    ),
    path(
        "cp/price-points/<int:price_point_id>/active/",
        console.price_point_active,
        name="cp-price-point-active",
    ),
    path("cp/keys/new/", console.key_new, name="cp-key-new"),
    path("cp/keys/rotate/", console.key_rotate, name="cp-key-rotate"),
]
