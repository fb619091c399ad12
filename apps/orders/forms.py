"""Checkout and payment forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

PAY_CHOICES = [
    ("alipay:page", _("Alipay (computer)")),
    ("alipay:wap", _("Alipay (phone)")),
    ("wechat:native", _("WeChat Pay (scan a QR code)")),
    ("wechat:h5", _("WeChat Pay (phone browser)")),
    ("unionpay:front", _("UnionPay card")),
    ("carrier_billing:", _("Phone bill (China Mobile)")),
]
# Offered only to a buyer whose WeChat openid is bound (docs/wechat.md).
JSAPI_CHOICE = ("wechat:jsapi", _("WeChat Pay (inside WeChat)"))


class CheckoutForm(forms.Form):
    checkout_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    points = forms.IntegerField(
        label=_("Points to use (1 point = ¥0.01)"), min_value=0, required=False
    )
    coupon = forms.CharField(label=_("Coupon code"), max_length=40, required=False)
    name = forms.CharField(label=_("Recipient"), max_length=30, required=False)
    phone = forms.CharField(label=_("Contact number"), max_length=20, required=False)
    province = forms.CharField(label=_("Province"), max_length=20, required=False)
    city = forms.CharField(label=_("City"), max_length=20, required=False)
    address = forms.CharField(label=_("Street address"), max_length=120, required=False)
    # A SIM card's owner, checked with the carrier (real-name registration).
    id_name = forms.CharField(
        label=_("Owner's name as on the ID card"), max_length=30, required=False
    )
    id_number = forms.CharField(label=_("Owner's ID number"), max_length=18, required=False)

    def __init__(
        self,
        *args: object,
        needs_shipping: bool = False,
        needs_real_name: bool = False,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.needs_shipping = needs_shipping
        for name in ("name", "phone", "province", "city", "address"):
            self.fields[name].required = needs_shipping
        for name in ("id_name", "id_number"):
            self.fields[name].required = needs_real_name


class PayForm(forms.Form):
    choice = forms.ChoiceField(choices=PAY_CHOICES)
    attempt = forms.CharField(max_length=40)
    # The SMS code risk control asked for (RISK_CHALLENGE_REQUIRED): same attempt, with the code.
    risk_code = forms.CharField(max_length=6, required=False)

    def __init__(self, *args: object, jsapi: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        if jsapi:
            field = self.fields["choice"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [JSAPI_CHOICE, *PAY_CHOICES]


def shipping_initial(*, user_id: int) -> dict[str, str]:
    """The checkout's address fields filled from the buyer's default address, if any."""
    from apps.accounts.selectors import addresses_for

    book = addresses_for(user_id=user_id)
    if not book:
        return {}
    a = book[0]
    return {"name": a.name, "phone": a.phone, "province": a.province, "city": a.city,
            "address": f"{a.district}{a.detail}"}  # fmt: skip
