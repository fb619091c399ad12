"""/api/v1/coupons/…"""

from django.urls import path

from apps.marketing.api import views

urlpatterns = [
    path("coupons/", views.CouponListApi.as_view(), name="coupons"),
    path("coupons/claim/", views.CouponClaimApi.as_view(), name="coupon-claim"),
]
