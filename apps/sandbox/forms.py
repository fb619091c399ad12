"""Forms of the sandbox's pages: the knobs editor and the inbox's number field."""

from __future__ import annotations

from django import forms

from apps.sandbox.errors import SandboxError
from apps.sandbox.models import KNOB_FIELDS, Knobs
from apps.sandbox.subscribers import msisdn_normalize


class KnobsForm(forms.ModelForm):
    """Every knob; ranges come from the model's validators, as for ``PUT /sandbox/knobs``."""

    class Meta:
        model = Knobs
        fields = KNOB_FIELDS
        widgets = {
            name: forms.NumberInput(attrs={"step": "0.01", "min": "0", "max": "1"})
            for name in ("error_rate", "timeout_rate", "lost_response_rate")
        }


class InboxForm(forms.Form):
    to = forms.CharField(
        label="手机号",
        required=False,
        max_length=32,
        widget=forms.TextInput(
            attrs={"placeholder": "13800138000", "inputmode": "tel", "autocomplete": "tel"}
        ),
    )

    def clean_to(self) -> str | None:
        raw = self.cleaned_data["to"].strip()
        if not raw:
            return None
        try:
            return msisdn_normalize(raw)
        except SandboxError:
            # Chinese punctuation is right in Chinese text.
            message = "请输入 11 位手机号，例如 13800138000。"
            raise forms.ValidationError(message) from None
