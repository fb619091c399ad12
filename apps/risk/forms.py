"""Workbench forms for risk: list CSV import, rule versions and their moves, backtests, cases."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.risk.cases import refunds_refused
from apps.risk.events import Kind, Outcome
from apps.risk.models import Case

KIND_CHOICES = [(k.value, k.value) for k in Kind]


class ListImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("Columns: action, dimension, value, reason[, expires_at]")
    )


class RuleVersionForm(forms.Form):
    code = forms.SlugField(label=_("code"), max_length=60)
    description = forms.CharField(label=_("description"), max_length=200, required=False)
    kinds = forms.MultipleChoiceField(
        label=_("kinds"), choices=KIND_CHOICES, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("none: every kind"),
    )  # fmt: skip
    expression = forms.CharField(label=_("expression"), widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(label=_("outcome"), choices=[(o.value, o.value) for o in Outcome])
    reason_code = forms.CharField(label=_("reason code"), max_length=64)
    why = forms.CharField(label=_("why"), max_length=200)


class RuleMoveForm(forms.Form):
    to = forms.ChoiceField(
        label=_("move to"),
        choices=[("shadow", _("shadow")), ("active", _("active")), ("retired", _("retired"))],
    )
    why = forms.CharField(label=_("why"), max_length=200)


class BacktestForm(forms.Form):
    start = forms.DateTimeField(label=_("from"))
    end = forms.DateTimeField(label=_("to"))

    @classmethod
    def initial_range(cls) -> dict[str, object]:
        now = timezone.localtime()
        return {
            "start": (now - timedelta(days=7)).strftime("%Y-%m-%d %H:%M"),
            "end": now.strftime("%Y-%m-%d %H:%M"),
        }


class CaseForm(forms.ModelForm):
    """The case page; ``may_issue_refunds`` is set per request by the admin."""

    may_issue_refunds = False

    class Meta:
        model = Case
        fields = ["assignee", "notes", "outcome"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        outcome = cleaned.get("outcome") or ""
        if refunds_refused(self.instance, outcome, may_issue_refunds=self.may_issue_refunds):
            self.add_error(
                "outcome",
                _(
                    "Closing a case as refunds issued refunds its payments: only a user who "
                    "may approve refunds may choose it."
                ),
            )
        return cleaned
