"""The catalog: categories, product types, products and SKUs, stock, shelves, banners, pages."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DIGITAL = "digital", _("Digital content")
    ELECTRONIC = "electronic", _("Electronic goods")
    PHYSICAL = "physical", _("Physical goods")


class Category(models.Model):
    """A node of the category tree. ``path`` (``electronic/data``) finds a subtree in one query."""

    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=64)
    name_en = models.CharField(_("English name"), max_length=64, blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sort = models.PositiveIntegerField(_("display order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class ProductType(models.Model):
    """What a product is (data pack, phone, game...) and the attributes it must declare.

    ``attribute_schema`` is a list of ``{"key", "label", "type": "str"|"int"|"choice",
    "choices"?: [...], "required": bool, "unit"?: str}``; English mode reads the optional
    ``label_en``, ``unit_en`` and ``choice_labels_en`` (value → English words).
    """

    code = models.SlugField(max_length=32, unique=True, verbose_name=_("code"))
    name = models.CharField(_("name"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    attribute_schema = models.JSONField(default=list, blank=True)
    # Electronic goods delivered to a phone number ask the buyer for it on the product page.
    needs_recipient_number = models.BooleanField(
        default=False, verbose_name=_("needs recipient number")
    )

    class Meta:
        verbose_name = _("product type")
        verbose_name_plural = _("product types")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")
        ARCHIVED = "archived", _("Archived")

    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="products", verbose_name=_("category")
    )
    product_type = models.ForeignKey(ProductType, on_delete=models.PROTECT, related_name="products")
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, editable=False)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=120, blank=True)
    subtitle = models.CharField(_("subtitle"), max_length=200, blank=True)
    # Shown in English mode; empty falls back to the Chinese subtitle.
    subtitle_en = models.CharField(
        _("English subtitle"), max_length=200, blank=True, default="", db_default=""
    )
    description = models.TextField(_("description (HTML)"), blank=True)
    # None: the platform sells it; otherwise the content provider who owns it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+", verbose_name=_("owner"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    on_shelf_at = models.DateTimeField(_("on shelf from"), null=True, blank=True)
    off_shelf_at = models.DateTimeField(_("off shelf from"), null=True, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    per_user_limit = models.PositiveIntegerField(_("limit per user"), null=True, blank=True)
    image = models.ImageField(_("image"), upload_to="products/%Y/%m/", blank=True)
    thumbnail = models.ImageField(upload_to="products/thumbs/%Y/%m/", blank=True, editable=False)
    # Denormalised for listing, sorting and filtering without joining SKUs.
    min_price_fen = models.BigIntegerField(_("from price (fen)"), default=0, editable=False)
    in_stock = models.BooleanField(_("in stock"), default=True, editable=False)
    sales_count = models.PositiveIntegerField(_("sales"), default=0)
    # Search: segmented Chinese and lower-cased English terms; the vector is computed by the
    # database from them, so a bulk load only has to write the terms.
    search_terms_a = models.TextField(default="", blank=True, editable=False)
    search_terms_b = models.TextField(default="", blank=True, editable=False)
    search_text = models.TextField(default="", blank=True, editable=False)
    search_vector = models.GeneratedField(
        expression=SearchVector("search_terms_a", weight="A", config="simple")
        + SearchVector("search_terms_b", weight="B", config="simple"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        indexes = [
            GinIndex(fields=["search_vector"], name="catalog_product_search_gin"),
            GinIndex(
                fields=["search_text"], name="catalog_product_trgm_gin", opclasses=["gin_trgm_ops"]
            ),
            models.Index(
                fields=["category", "-sales_count"],
                name="catalog_product_cat_sales",
                condition=Q(status="published"),
            ),
            models.Index(fields=["status", "-created_at"], name="catalog_product_status_new"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(off_shelf_at__isnull=True)
                | Q(on_shelf_at__isnull=True)
                | Q(off_shelf_at__gt=F("on_shelf_at")),
                name="catalog_product_shelf_window",
            ),
            models.CheckConstraint(condition=Q(min_price_fen__gte=0), name="catalog_product_price"),
        ]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    def is_on_shelf(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and (self.on_shelf_at is None or self.on_shelf_at <= now)
            and (self.off_shelf_at is None or self.off_shelf_at > now)
        )


class Sku(models.Model):
    """A sellable variant with its price and, for physical goods, its stock."""

    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="skus", verbose_name=_("product")
    )
    code = models.CharField(_("SKU code"), max_length=64, unique=True)
    name = models.CharField(_("variant"), max_length=120)
    # Shown in English mode; empty falls back to the Chinese name. A database default keeps
    # the bulk loader's COPY working.
    name_en = models.CharField(
        _("English variant"), max_length=120, blank=True, default="", db_default=""
    )
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    price_fen = models.BigIntegerField(_("price (fen)"))
    list_price_fen = models.BigIntegerField(_("list price (fen)"))
    tracks_stock = models.BooleanField(_("tracks stock"), default=False)
    stock_on_hand = models.IntegerField(_("stock on hand"), default=0)
    stock_reserved = models.IntegerField(_("stock reserved"), default=0)
    low_stock_threshold = models.IntegerField(_("low stock at"), default=5)
    is_active = models.BooleanField(_("active"), default=True)
    sort = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["sort", "price_fen", "id"]
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        constraints = [
            models.CheckConstraint(condition=Q(price_fen__gte=0), name="catalog_sku_price"),
            models.CheckConstraint(
                condition=Q(list_price_fen__gte=F("price_fen")), name="catalog_sku_list_price"
            ),
            models.CheckConstraint(
                condition=Q(stock_reserved__gte=0) & Q(stock_reserved__lte=F("stock_on_hand")),
                name="catalog_sku_stock_never_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product.name} · {self.name}"

    def display_name(self, language: str) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    @property
    def stock_available(self) -> int:
        return self.stock_on_hand - self.stock_reserved

    @property
    def is_low_stock(self) -> bool:
        return self.tracks_stock and self.stock_available <= self.low_stock_threshold


class StockReservation(models.Model):
    """Stock held for a checkout until it is paid (committed) or released."""

    class Status(models.TextChoices):
        HELD = "held", _("Held")
        COMMITTED = "committed", _("Committed")
        RELEASED = "released", _("Released")

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=64, help_text="Who holds it, e.g. order:123")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.HELD)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sku", "reference"], name="catalog_reservation_once"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="catalog_reservation_qty"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.sku_id}×{self.quantity} {self.status}"


class Scheduled(models.Model):
    """Something shown between two times, in an order."""

    sort = models.PositiveIntegerField(_("display order"), default=0)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        abstract = True


class Shelf(Scheduled):
    """A curated, ordered row of products on the home page or a category page."""

    class Placement(models.TextChoices):
        HOME = "home", _("Home page")
        CATEGORY = "category", _("Category page")

    title = models.CharField(_("title"), max_length=64)
    title_en = models.CharField(_("English title"), max_length=64, blank=True)
    placement = models.CharField(_("placement"), max_length=16, choices=Placement.choices)
    category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shelves",
        verbose_name=_("category"),
    )

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("shelf")
        verbose_name_plural = _("shelves")

    def __str__(self) -> str:
        return self.title


class ShelfItem(models.Model):
    shelf = models.ForeignKey(Shelf, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    sort = models.PositiveIntegerField(_("display order"), default=0)

    class Meta:
        ordering = ["sort", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shelf", "product"], name="catalog_shelf_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.shelf_id}:{self.product_id}"


class Banner(Scheduled):
    title = models.CharField(_("title"), max_length=64)
    title_en = models.CharField(_("English title"), max_length=64, blank=True)
    subtitle = models.CharField(_("subtitle"), max_length=120, blank=True)
    image = models.ImageField(_("image"), upload_to="banners/", blank=True)
    link = models.CharField(
        _("link"), max_length=255, help_text=_("A path on this site, e.g. /c/data/")
    )
    colour = models.CharField(_("background colour"), max_length=7, default="#0071c5")

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("banner")
        verbose_name_plural = _("banners")

    def __str__(self) -> str:
        return self.title


class PortalPage(models.Model):
    """An operator-written page (help, terms, campaign) at /p/<slug>/."""

    slug = models.SlugField(_("slug"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("body (HTML)"))
    is_published = models.BooleanField(_("published"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("portal page")
        verbose_name_plural = _("portal pages")

    def __str__(self) -> str:
        return self.title
