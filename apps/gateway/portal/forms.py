"""Developer-portal page forms; the domain checks (licence, URLs, CIDRs) stay in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.gateway.capabilities_catalog import Capability
from apps.gateway.models import Environment
from apps.gateway.portal.validators import split_lines


class CompanyForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    licence_number = forms.CharField(
        label=_("Unified social credit code"),
        max_length=24,
        help_text=_("The 18 characters on the business licence."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    contact_name = forms.CharField(label=_("Contact name"), max_length=60)
    contact_phone = forms.CharField(
        label=_("Contact mobile number"),
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    contact_email = forms.CharField(
        label=_("Contact e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class LinesField(forms.CharField):
    """A textarea of entries, one per line (commas also separate), cleaned to a list."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false"})

    def to_python(self, value: object) -> list[str]:  # type: ignore[override]
        return split_lines(str(value or ""))

    def prepare_value(self, value: object) -> object:
        return "\n".join(value) if isinstance(value, list) else value


class AppForm(forms.Form):
    name = forms.CharField(label=_("App name"), max_length=100)
    description = forms.CharField(
        label=_("Description"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    callback_urls = LinesField(
        label=_("Callback URLs"),
        required=False,
        help_text=_("One per line, https (http only to 127.0.0.1 or localhost). At most 5."),
    )
    ip_allowlist = LinesField(
        label=_("IP allow-list"),
        required=False,
        help_text=_("Addresses or CIDR networks, one per line. Empty allows any address."),
    )


class CredentialForm(forms.Form):
    environment = forms.ChoiceField(choices=Environment.choices)


class ReasonForm(forms.Form):
    """The workbench's rejection reason (approval needs none)."""

    reason = forms.CharField(
        label=_("Reason (shown to the partner)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class UsageForm(forms.Form):
    granularity = forms.ChoiceField(
        label=_("By"),
        choices=[("day", _("Day")), ("hour", _("Hour"))],
        required=False,
    )
    periods = forms.IntegerField(label=_("Periods"), min_value=1, max_value=168, required=False)
    capability = forms.ChoiceField(
        label=_("Capability"), choices=[("", _("All")), *Capability.choices], required=False
    )
    environment = forms.ChoiceField(
        label=_("Environment"), choices=[("", _("All")), *Environment.choices], required=False
    )
