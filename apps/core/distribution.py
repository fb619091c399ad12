"""Where each table lives on a Citus cluster (issue #20, docs/citus-plan.md), and the step
that puts it there.

Nothing here runs on an ordinary PostgreSQL: ``distribute()`` returns at once when the database
has no ``citus`` extension, so the single-node platform keeps exactly today's schema.

What is placed today (the first slice of the plan):

- **reference tables** (a copy on every node, written through the coordinator with two-phase
  commit): the catalog, its shelves and banners, content providers and their products,
  marketing's campaigns and channels, risk's rules and lists, gateway packages, FAQ, the
  official account's menu, and Django's content types, permissions and groups. They are small,
  read by every request and written by operators.
- **everything else stays on the coordinator**. Citus turns the tables that have a foreign key
  to or from a reference table into "Citus managed" local tables by itself (they keep every
  constraint and trigger); the rest stay plain tables. A query that joins a local table to a
  reference table runs on the coordinator, where both are.

Not placed yet (the plan's steps 3-7): the user-keyed tables distributed by ``user_id`` (they need
the owner's id on every row and co-located keys first), the partner-keyed gateway tables by
``app_id``, and the ledger, whose account table carries a trigger Citus refuses on reference
and distributed tables (``ledger_account_identity``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction

# Parents before children: a reference table's foreign keys to other reference tables must find
# them already replicated.
REFERENCE_TABLES: tuple[str, ...] = (
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
    "catalog_category",
    "catalog_producttype",
    "catalog_product",
    "catalog_sku",
    "catalog_shelf",
    "catalog_shelfitem",
    "catalog_banner",
    "catalog_portalpage",
    "content_contentprovider",
    "content_contentproduct",
    "content_chapter",
    "marketing_campaign",
    "marketing_couponbatch",
    "marketing_flashsale",
    "marketing_channel",
    "marketing_channelcode",
    "marketing_channelproduct",
    "marketing_commissionrule",
    "risk_rule",
    "risk_cap",
    "risk_listentry",
    "gateway_package",
    "service_faqentry",
    "wechat_menubutton",
)


@dataclass
class Report:
    """What one run did, for the command's output and the tests."""

    made_reference: list[str] = field(default_factory=list)
    already_reference: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.refused


def has_citus() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'citus'")
        return cursor.fetchone() is not None


def coordinator_in_metadata() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_dist_node WHERE groupid = 0")
        return cursor.fetchone() is not None


def placements() -> dict[str, str]:
    """Each Citus table's kind: ``reference``, ``distributed`` or ``local`` (Citus managed)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT logicalrelid::regclass::text, partmethod, repmodel FROM pg_dist_partition"
        )
        rows = cursor.fetchall()
    kinds = {}
    for table, method, model in rows:
        if model == "t":
            kinds[table] = "reference"
        elif method == "h":
            kinds[table] = "distributed"
        else:
            kinds[table] = "local"
    return kinds


def _exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return bool(cursor.fetchone()[0])


def distribute(say: Callable[[str], None] = lambda line: None) -> Report:
    """Place the tables as above; idempotent (a table already placed is left alone)."""
    report = Report()
    current = placements()
    for table in REFERENCE_TABLES:
        if not _exists(table):
            report.missing.append(table)
            say(f"{table}: no such table (skipped)")
            continue
        if current.get(table) == "reference":
            report.already_reference.append(table)
            continue
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                # Citus explains at length which local tables it adds to its metadata.
                cursor.execute("SET LOCAL client_min_messages = warning")
                cursor.execute("SELECT create_reference_table(%s)", [table])
        except DatabaseError as error:  # reported per table, the run goes on
            report.refused[table] = str(error).splitlines()[0]
            say(f"{table}: refused: {report.refused[table]}")
            continue
        report.made_reference.append(table)
        say(f"{table}: reference table")
    return report
