"""Workbench: categories, products with SKUs and images, shelves, banners, pages; CSV/XLSX import."""

from __future__ import annotations

import os
from typing import Any

from django.contrib import admin, messages
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from import_export import fields, resources, widgets
from import_export.admin import ImportExportModelAdmin

from apps.catalog import services
from apps.catalog.models import (
    Banner,
    Category,
    PortalPage,
    Product,
    ProductType,
    Shelf,
    ShelfItem,
    Sku,
)
from apps.core.errors import DomainError
from apps.core.money import format_fen


class DeletionStalesPages:
    """Deleting in the workbench (one object or "delete selected") makes every cached catalog
    page stale, as every other catalog write does."""

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)  # type: ignore[misc]
        services.catalog_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        services.catalog_changed()


@admin.register(Category)
class CategoryAdmin(DeletionStalesPages, admin.ModelAdmin):
    list_display = ["name", "name_en", "slug", "path", "kind", "sort", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "name_en", "slug"]
    list_editable = ["sort", "is_active"]

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.category_refresh_paths(category_id=obj.pk)


@admin.register(ProductType)
class ProductTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "needs_recipient_number"]


class SkuInline(admin.TabularInline):
    model = Sku
    extra = 0
    fields = [
        "code",
        "name",
        "price_fen",
        "list_price_fen",
        "tracks_stock",
        "stock_on_hand",
        "stock_reserved",
        "low_stock_threshold",
        "is_active",
        "sort",
    ]
    readonly_fields = ["stock_reserved"]


def _skus_save(request: HttpRequest, formset: Any) -> None:
    """The SKU inline: new and deleted rows as Django saves them, edits through ``sku_update``."""
    formset.save(commit=False)  # sorts the rows into new, changed and deleted; writes nothing
    for sku in formset.deleted_objects:
        sku.delete()
    for sku in formset.new_objects:
        sku.save()
    for sku, changed in formset.changed_objects:
        changes = {name: getattr(sku, name) for name in changed}
        services.sku_update(sku_id=sku.pk, changes=changes, actor_id=request.user.pk)


class ProductResource(resources.ModelResource):
    """CSV/XLSX columns for products; rows that fail validation are reported, none are half-written."""

    category = fields.Field(
        attribute="category",
        column_name="category",
        widget=widgets.ForeignKeyWidget(Category, "slug"),
    )
    product_type = fields.Field(
        attribute="product_type",
        column_name="product_type",
        widget=widgets.ForeignKeyWidget(ProductType, "code"),
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "category",
            "product_type",
            "name",
            "name_en",
            "subtitle",
            "subtitle_en",
            "description",
            "status",
            "on_shelf_at",
            "off_shelf_at",
            "per_user_limit",
            "attributes",
        ]
        use_transactions = True
        skip_unchanged = True
        report_skipped = False
        clean_model_instances = True

    def before_save_instance(self, instance: Product, row: Any, **kwargs: Any) -> None:
        instance.kind = instance.product_type.kind
        instance.description = services.sanitize_description(instance.description)
        instance.attributes = services.validate_attributes(
            instance.product_type.attribute_schema, instance.attributes or {}
        )

    def do_instance_save(self, instance: Product, is_create: bool) -> None:
        if is_create:
            super().do_instance_save(instance, is_create)
            return
        changes = {name: getattr(instance, name) for name in self._meta.fields if name != "id"}
        services.product_update(product_id=instance.pk, changes=changes, actor_id=None)

    def after_save_instance(self, instance: Product, row: Any, **kwargs: Any) -> None:
        if not kwargs.get("dry_run"):
            services.product_refresh(product_id=instance.pk)


class SkuResource(resources.ModelResource):
    product = fields.Field(
        attribute="product",
        column_name="product_id",
        widget=widgets.ForeignKeyWidget(Product, "pk"),
    )

    class Meta:
        model = Sku
        import_id_fields = ["code"]
        clean_model_instances = True
        fields = [
            "code",
            "product",
            "name",
            "price_fen",
            "list_price_fen",
            "tracks_stock",
            "stock_on_hand",
            "low_stock_threshold",
            "is_active",
        ]
        use_transactions = True
        skip_unchanged = True

    def do_instance_save(self, instance: Sku, is_create: bool) -> None:
        if is_create:
            super().do_instance_save(instance, is_create)
            return
        changes = {name: getattr(instance, name) for name in self._meta.fields if name != "code"}
        services.sku_update(sku_id=instance.pk, changes=changes, actor_id=None)

    def after_save_instance(self, instance: Sku, row: Any, **kwargs: Any) -> None:
        if not kwargs.get("dry_run"):
            services.product_refresh(product_id=instance.product_id)


class LowStockFilter(admin.SimpleListFilter):
    title = _("stock")
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("low", _("Low stock")), ("out", _("Sold out"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "low":
            return queryset.filter(
                skus__tracks_stock=True,
                skus__stock_on_hand__lte=F("skus__stock_reserved") + F("skus__low_stock_threshold"),
            ).distinct()
        if self.value() == "out":
            return queryset.filter(in_stock=False)
        return queryset


@admin.register(Product)
class ProductAdmin(DeletionStalesPages, ImportExportModelAdmin):
    resource_classes = [ProductResource]
    list_display = [
        "name",
        "category",
        "kind",
        "status",
        "price",
        "in_stock",
        "sales_count",
        "owner",
        "updated_at",
    ]
    list_filter = ["status", "kind", "category", "in_stock", LowStockFilter]
    search_fields = ["name", "name_en"]
    list_select_related = ["category", "owner"]
    autocomplete_fields = ["owner"]
    inlines = [SkuInline]
    actions = ["publish", "unpublish"]
    readonly_fields = ["kind", "min_price_fen", "in_stock", "thumbnail", "created_at", "updated_at"]

    @admin.display(description=_("From price"), ordering="min_price_fen")
    def price(self, obj: Product) -> str:
        return format_fen(obj.min_price_fen)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.product_refresh(product_id=form.instance.pk)

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        obj.kind = obj.product_type.kind
        image = form.cleaned_data.get("image") if "image" in form.changed_data else None
        if not change:
            super().save_model(request, obj, form, change)
        else:
            changes = {name: getattr(obj, name) for name in form.changed_data if name != "image"}
            if changes:
                services.product_update(
                    product_id=obj.pk, changes=changes, actor_id=request.user.pk
                )
        if image:
            # The upload as it came; the service stores it in the sizes the pages need.
            image.seek(0)
            services.product_image_set(
                product_id=obj.pk, name=os.path.basename(image.name), content=image.read()
            )

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Sku:
            super().save_formset(request, form, formset, change)
            return
        _skus_save(request, formset)

    @admin.action(description=_("Publish selected products"), permissions=["change"])
    def publish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, Product.Status.PUBLISHED)

    @admin.action(description=_("Take selected products off sale"), permissions=["change"])
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self._set_status(request, queryset, Product.Status.ARCHIVED)

    def _set_status(self, request: HttpRequest, queryset: QuerySet[Product], status: str) -> None:
        ids = list(queryset.values_list("pk", flat=True))
        try:
            moved = services.products_status_set(
                product_ids=ids, status=status, actor_id=request.user.pk
            )
        except DomainError as exc:
            messages.error(request, str(exc.message))
            return
        messages.success(request, _("%(n)d products updated.") % {"n": moved})


@admin.register(Sku)
class SkuAdmin(DeletionStalesPages, ImportExportModelAdmin):
    resource_classes = [SkuResource]
    list_display = [
        "code",
        "product",
        "name",
        "price_fen",
        "stock_on_hand",
        "stock_reserved",
        "is_active",
    ]
    search_fields = ["code", "product__name"]
    list_select_related = ["product"]
    readonly_fields = ["stock_reserved"]

    def save_model(self, request: HttpRequest, obj: Sku, form: Any, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            services.product_refresh(product_id=obj.product_id)
            return
        changes = {name: getattr(obj, name) for name in form.changed_data}
        services.sku_update(sku_id=obj.pk, changes=changes, actor_id=request.user.pk)

    def delete_model(self, request: HttpRequest, obj: Sku) -> None:
        super().delete_model(request, obj)
        services.product_refresh(product_id=obj.product_id)  # its price and stock summary

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Sku]) -> None:
        product_ids = sorted(set(queryset.values_list("product_id", flat=True)))
        super().delete_queryset(request, queryset)
        for product_id in product_ids:
            services.product_refresh(product_id=product_id)


class ShelfItemInline(admin.TabularInline):
    model = ShelfItem
    extra = 1
    autocomplete_fields = ["product"]


class ScheduledAdmin(DeletionStalesPages, admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.catalog_changed()


@admin.register(Shelf)
class ShelfAdmin(ScheduledAdmin):
    list_display = ["title", "placement", "category", "sort", "starts_at", "ends_at", "is_active"]
    list_filter = ["placement", "is_active"]
    inlines = [ShelfItemInline]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.catalog_changed()


@admin.register(Banner)
class BannerAdmin(ScheduledAdmin):
    list_display = ["title", "link", "sort", "starts_at", "ends_at", "is_active"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "image" in form.changed_data and obj.image:
            with obj.image.open("rb") as upload:
                content = upload.read()
            services.banner_image_set(
                banner_id=obj.pk, name=os.path.basename(obj.image.name), content=content
            )


@admin.register(PortalPage)
class PortalPageAdmin(ScheduledAdmin):
    list_display = ["title", "slug", "is_published", "updated_at"]
    prepopulated_fields = {"slug": ["title"]}
