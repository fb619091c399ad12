"""What every list of the workbench gets, whatever app registered it: no full-table count, an
estimated count past ``COUNT_CAP`` rows, a date-range filter (in place of Django's date
hierarchy) on its first date field, a search when the admin declared none, amounts in fen shown
in yuan, and, on a table of ``LARGE_TABLE`` rows or more, newest-first order unless the admin
chose one.

The workbench site applies it to each ModelAdmin when it is registered (``WorkbenchSite``), so
the apps' ``admin.py`` files stay as they are. An admin opts out of a piece by setting the
attribute itself (``paginator``, ``show_full_result_count``, a date field in ``list_filter``). Bulk actions
are confirmed in the browser (``analytics/workbench.js``, loaded by ``admin/base_site.html``).
"""

from __future__ import annotations

import json
import re
import time as time_module
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import admin
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import cached_property, lazy
from django.utils.translation import gettext_lazy as _

from apps.core.money import format_fen

COUNT_CAP = 10_000  # rows counted exactly; above, the planner's estimate (never a full scan)
LARGE_TABLE = 100_000  # rows (planner's estimate) from which a list is ordered by key by default
_LARGE_CHECK_SECONDS = 600
# A list without search gets the first two of these it has (none of them: its row id and party
# id, matched exactly); without filters, its flags and choice fields.
SEARCH_FIELDS = ("name", "title", "code", "slug", "capability", "phone", "number", "reference",
                 "merchant_id", "event", "file_name")  # fmt: skip
ID_SEARCH_FIELDS = ("pk", "party_id")
# An amount column's unit in its label: "售价（分）", "price (fen)".
_FEN_UNIT = re.compile(r"\s*[（(](?:分|fen)[)）]\s*$")
DATE_FIELDS = ("created_at", "requested_at", "date_joined", "occurred_at", "updated_at")


def _estimate(queryset: QuerySet[Any]) -> int:
    """The planner's row estimate for ``queryset`` (EXPLAIN, no execution)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    """Counts exactly up to ``COUNT_CAP`` rows (``COUNT(*)`` over ``LIMIT cap + 1``, cheap);
    a longer list gets the planner's estimate (at least cap + 1), so no page view counts a
    million rows. The last pages of such a list are reached by filtering, not by paging."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        capped = queryset.order_by()[: COUNT_CAP + 1].count()
        if capped <= COUNT_CAP:
            return capped
        return max(_estimate(queryset.order_by()), COUNT_CAP + 1)


class DateRangeFilter(admin.FieldListFilter):
    """From/to dates (Asia/Shanghai days, both included) on a date or date-time field."""

    template = "admin/analytics/date_range_filter.html"

    def __init__(self, field: Any, request: HttpRequest, params: dict[str, Any],
                 model: Any, model_admin: Any, field_path: str) -> None:  # fmt: skip
        self.param_start = f"{field_path}__range_start"
        self.param_end = f"{field_path}__range_end"
        super().__init__(field, request, params, model, model_admin, field_path)
        # FieldListFilter moved our parameters from ``params`` to ``used_parameters``.
        self.start = _parse_day(self.used_parameters.get(self.param_start))
        self.end = _parse_day(self.used_parameters.get(self.param_end))
        self.other_params = [
            (k, v) for k, values in request.GET.lists() for v in values
            if k not in (self.param_start, self.param_end)
        ]  # fmt: skip

    def expected_parameters(self) -> list[str | None]:
        return [self.param_start, self.param_end]

    def has_output(self) -> bool:
        return True

    def get_facet_counts(self, pk_attname: str, filtered_qs: QuerySet[Any]) -> dict[str, Any]:
        return {}  # a range has no facet counts

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        is_datetime = isinstance(self.field, models.DateTimeField)
        if self.start:
            low = _day_start(self.start) if is_datetime else self.start
            queryset = queryset.filter(**{f"{self.field_path}__gte": low})
        if self.end:
            high = (
                _day_start(self.end + timedelta(days=1))
                if is_datetime
                else self.end + timedelta(days=1)
            )
            queryset = queryset.filter(**{f"{self.field_path}__lt": high})
        return queryset

    def choices(self, changelist: Any) -> Iterator[Any]:
        yield {
            "selected": not (self.start or self.end),
            "query_string": changelist.get_query_string(remove=[self.param_start, self.param_end]),
            "display": _("All"),
        }


def _parse_day(value: Any) -> date | None:
    if isinstance(value, list):
        value = value[-1] if value else None
    if not value:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


_large_seen: dict[str, tuple[float, bool]] = {}


def _large(model: type[models.Model]) -> bool:
    """Whether the planner thinks ``model``'s table holds LARGE_TABLE rows or more (asked at
    most every ten minutes per process)."""
    table = model._meta.db_table
    seen = _large_seen.get(table)
    now = time_module.monotonic()
    if seen and now - seen[0] < _LARGE_CHECK_SECONDS:
        return seen[1]
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table])
        row = cursor.fetchone()
    large = bool(row and row[0] >= LARGE_TABLE)
    _large_seen[table] = (now, large)
    return large


def _date_field(model: type[models.Model]) -> str | None:
    names = {f.name for f in model._meta.get_fields() if isinstance(f, models.DateField)}
    return next((n for n in DATE_FIELDS if n in names), None)


def productise(model: type[models.Model], model_admin: admin.ModelAdmin[Any]) -> None:
    """Apply the workbench's list policy to one registered ModelAdmin (instance attributes)."""
    # Instance attributes (the stubs declare these as class variables): the class stays as is.
    target: Any = model_admin
    if "show_full_result_count" not in _declared(type(model_admin)):
        target.show_full_result_count = False
    if model_admin.paginator is Paginator:
        target.paginator = EstimatedCountPaginator
    if not model_admin.search_fields:
        names = {f.name for f in model._meta.get_fields() if isinstance(f, models.CharField)}
        fields = {f.name for f in model._meta.get_fields()} | {"pk"}
        # ``<id>__exact`` compares the id as text, so a search for words finds nothing, not a 500.
        target.search_fields = [n for n in SEARCH_FIELDS if n in names][:2] or [
            f"{n}__exact" for n in ID_SEARCH_FIELDS if n in fields
        ]
    if not model_admin.list_filter:
        target.list_filter = [
            f.name for f in model._meta.get_fields()
            if isinstance(f, models.BooleanField) or (isinstance(f, models.CharField) and f.choices)
        ][:4]  # fmt: skip
    # Amounts are stored in fen; a list shows them in yuan under the field's name without the
    # unit, sorted by the amount (an editable column stays as it is).
    target.list_display = [
        _yuan_column(model, name) if _is_fen_field(model, name, model_admin) else name
        for name in model_admin.list_display
    ]
    # Django's date hierarchy lists the distinct years/months of the whole filtered table (a
    # full scan on every page of a million-row list): the range filter takes its place.
    field = model_admin.date_hierarchy or _date_field(model)
    target.date_hierarchy = None
    filters: list[Any] = list(model_admin.list_filter)
    ranged = {f[0] for f in filters if isinstance(f, tuple) and f[1] is DateRangeFilter}
    if field and field not in ranged:
        target.list_filter = [*filters, (field, DateRangeFilter)]
    if not model_admin.ordering:
        # A model's default order (``sort, price_fen, id``, say) over a million rows is a full
        # sort per page; newest first walks the primary key. A column clicked still sorts.
        get_ordering = model_admin.get_ordering

        def ordering(request: HttpRequest) -> Any:
            return get_ordering(request) or (["-pk"] if _large(model) else [])

        target.get_ordering = ordering


def _is_fen_field(model: type[models.Model], name: Any, model_admin: Any) -> bool:
    if not (isinstance(name, str) and name.endswith("_fen")) or name in model_admin.list_editable:
        return False
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return isinstance(field, models.IntegerField)


def _yuan_column(model: type[models.Model], name: Any) -> Any:
    """A list column showing the fen field ``name`` in yuan (``¥5,999.00``)."""
    field: Any = model._meta.get_field(name)
    label = lazy(lambda: _FEN_UNIT.sub("", str(field.verbose_name)), str)()

    def column(obj: models.Model) -> str:
        value = getattr(obj, name)
        return "-" if value is None else format_fen(value)

    column.__name__ = name
    return admin.display(description=label, ordering=name)(column)


def _declared(cls: type) -> set[str]:
    """Attributes set by the admin class or a base of it other than Django's ModelAdmin."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass in (admin.ModelAdmin, admin.options.BaseModelAdmin, object):
            continue
        names |= set(vars(klass))
    return names
