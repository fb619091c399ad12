"""Workbench: the book can be read, searched and filtered, and nothing in it can be edited."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.ledger.models import Journal
from apps.ledger.services import LineSpec, journal_post, journal_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("13800000000", "pw"))
    return client


@pytest.fixture
def paid(accounts) -> int:
    journal = journal_post(
        idempotency_key="order:1:paid",
        kind="order.paid",
        reference="order:1",
        lines=[LineSpec("clearing:alipay", 123456), LineSpec("platform:revenue", -123456)],
    )
    journal_post(
        idempotency_key="grant:1",
        kind="points.granted",
        reference="user:1",
        lines=[LineSpec("points:issued", 1500), LineSpec("points:user:1", -1500)],
    )
    return journal.id


def test_accounts_list_with_formatted_balances(admin_client, paid):
    response = admin_client.get(reverse("admin:ledger_ledgeraccount_changelist"), {"q": "clearing"})

    page = response.content.decode()
    assert response.status_code == 200
    assert "clearing:alipay" in page
    assert "¥1,234.56" in page
    assert "platform:revenue" not in page


def test_points_balances_are_counted_not_priced(admin_client, paid):
    response = admin_client.get(
        reverse("admin:ledger_ledgeraccount_changelist"), {"unit": "POINTS"}
    )

    page = response.content.decode()
    assert "points:user:1" in page
    assert "-1,500" in page
    assert "¥" not in page


def test_journals_search_filter_and_lines_inline(admin_client, paid):
    journal_reverse(journal_id=paid, idempotency_key="order:1:reversed", reason="撤销")

    listing = admin_client.get(reverse("admin:ledger_journal_changelist"), {"q": "order:1"})
    filtered = admin_client.get(reverse("admin:ledger_journal_changelist"), {"kind": "reversal"})
    detail = admin_client.get(reverse("admin:ledger_journal_change", args=[paid]))

    assert listing.status_code == filtered.status_code == detail.status_code == 200
    assert listing.context["cl"].result_count == 2
    assert [j.kind for j in filtered.context["cl"].result_list] == ["reversal"]
    page = detail.content.decode()
    assert "¥1,234.56" in page
    assert "clearing:alipay" in page
    assert 'name="_save"' not in page


def test_nothing_can_be_added_changed_or_deleted(admin_client, paid):
    add = admin_client.get(reverse("admin:ledger_journal_add"))
    delete = admin_client.post(reverse("admin:ledger_journal_delete", args=[paid]), {"post": "yes"})
    change = admin_client.post(
        reverse("admin:ledger_journal_change", args=[paid]), {"reference": "order:2"}
    )

    assert add.status_code == 403
    assert delete.status_code == 403
    assert change.status_code == 403
    assert Journal.objects.get(pk=paid).reference == "order:1"
