"""Page forms for signing in and real-name registration; domain checks stay in services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class SignInForm(forms.Form):
    phone = forms.CharField(
        label=_("Mobile number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "tel", "autocomplete": "tel", "placeholder": "13800138000"}
        ),
    )
    code = forms.CharField(
        label=_("SMS code"),
        max_length=6,
        required=False,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]*"}
        ),
    )


class RealNameForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=30)
    id_number = forms.CharField(
        label=_("Resident ID number"), min_length=18, max_length=18,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip
