"""The workbench's main screens in Chinese: every model and list column translated, and no
model named by a generic word that labels fields elsewhere (the order model once read 排序)."""

import re
from collections import defaultdict

from django.contrib import admin
from django.contrib.admin.utils import label_for_field
from django.utils import translation

CJK = re.compile(r"[\u4e00-\u9fff]")
LOCAL = "apps."
# The screens operators and finance open every day; the others follow as they are reworked.
MAIN_SCREENS = {
    "catalog.Category", "catalog.Product", "catalog.Sku", "catalog.Shelf", "catalog.Banner",
    "orders.Order", "ledger.Journal", "ledger.LedgerAccount", "core.AuditEvent",
    "service.Invoice", "service.Ticket", "service.FaqEntry",
    "gateway.App", "gateway.Credential", "gateway.Subscription",
}  # fmt: skip
ABBREVIATIONS = {"ID", "SKU"}


def _local_admins():
    return [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model.__module__.startswith(LOCAL) and not model.__module__.startswith("apps.sandbox")
    ]


def _main_admins():
    return [(m, a) for m, a in _local_admins() if m._meta.label in MAIN_SCREENS]


def test_every_model_and_list_column_of_the_workbench_is_in_chinese():
    missing = []
    with translation.override("zh-hans"):
        for model, model_admin in _main_admins():
            meta = model._meta
            for text in (meta.verbose_name, meta.verbose_name_plural, meta.app_config.verbose_name):
                if not CJK.search(str(text)) and str(text) not in ABBREVIATIONS:
                    missing.append(f"{meta.label}: {text}")
            for name in list(model_admin.list_display) + [
                f if isinstance(f, str) else "" for f in model_admin.list_filter
            ]:
                if not name or name == "__str__":
                    continue
                label = str(label_for_field(name, model, model_admin))
                if not CJK.search(label) and label not in ABBREVIATIONS:
                    missing.append(f"{meta.label}.{name}: {label!r}")
    assert missing == []


def test_no_model_is_named_by_a_generic_field_label():
    """A word that labels fields on two or more models (名称, 类型, 排序...) is not a model's name."""
    with translation.override("zh-hans"):
        models_by_label = defaultdict(set)
        for model, _admin in _local_admins():
            for field in model._meta.get_fields():
                # A relation is labelled by the model it points to: that is the same meaning.
                if field.is_relation or not hasattr(field, "verbose_name"):
                    continue
                models_by_label[str(field.verbose_name)].add(model._meta.label)
        generic = {label for label, models in models_by_label.items() if len(models) >= 2}
        names = defaultdict(list)
        for model, _admin in _main_admins():
            names[str(model._meta.verbose_name)].append(model._meta.label)
    clashes = {name: labels for name, labels in names.items() if name in generic}
    duplicates = {name: labels for name, labels in names.items() if len(labels) > 1}
    assert (clashes, duplicates) == ({}, {})
