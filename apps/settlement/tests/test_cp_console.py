"""CPs read their statements in the CP console (/cp/statements/, mounted from config/urls.py
with settlement's pages): their own, past the draft stage, never another CP's."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.accounts.models import User
from apps.content.models import ContentProvider, CpMember
from apps.content.tests.support import approved_cp
from apps.settlement import services
from apps.settlement.models import Statement
from apps.settlement.services import today
from apps.settlement.tests.support import post

pytestmark = pytest.mark.django_db


def member_of(cp: ContentProvider) -> User:
    return User.objects.get(pk=CpMember.objects.filter(cp=cp).values_list("user_id", flat=True)[0])


@pytest.fixture
def two_cps_with_statements():
    first, second = approved_cp(), approved_cp()
    post("cp", first.pk, 1_000)
    post("cp", second.pk, 2_000)
    start = today().replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    maker = User.objects.create_user("13800138071", is_staff=True)
    checker = User.objects.create_user("13800138072", is_staff=True)
    services.batch_run(kind="cp", period_start=start, period_end=end, run_by_id=maker.pk)
    services.statement_confirm(
        statement_id=Statement.objects.get(party_id=first.pk).pk, actor_id=checker.pk
    )
    services.statement_confirm(
        statement_id=Statement.objects.get(party_id=second.pk).pk, actor_id=checker.pk
    )
    return first, second


def test_a_cp_sees_and_downloads_its_own_statement_from_the_console(
    client, two_cps_with_statements
):
    first, _ = two_cps_with_statements
    mine = Statement.objects.get(kind="cp", party_id=first.pk)
    client.force_login(member_of(first))

    home = client.get("/cp/")
    listing = client.get("/cp/statements/")
    page = client.get(f"/cp/statements/{mine.pk}/")
    csv = client.get(f"/cp/statements/{mine.pk}/csv/")
    pdf = client.get(f"/cp/statements/{mine.pk}/pdf/")

    assert 'href="/cp/statements/"' in home.text
    assert listing.status_code == 200 and f"/cp/statements/{mine.pk}/" in listing.text
    assert page.status_code == 200 and "content_sale" in page.text
    body = b"".join(csv.streaming_content).decode()
    assert body.count("\n") == 2 and "10.00" in body
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_cp_cannot_read_another_cps_statement(client, two_cps_with_statements):
    first, second = two_cps_with_statements
    theirs = Statement.objects.get(kind="cp", party_id=second.pk)
    client.force_login(member_of(first))

    for url in (f"/cp/statements/{theirs.pk}/", f"/cp/statements/{theirs.pk}/csv/",
                f"/cp/statements/{theirs.pk}/pdf/"):  # fmt: skip
        assert client.get(url).status_code == 404
    assert f"/cp/statements/{theirs.pk}/" not in client.get("/cp/statements/").text


def test_a_draft_or_a_non_cp_or_a_cp_under_review_sees_nothing(client, two_cps_with_statements):
    first, _ = two_cps_with_statements
    mine = Statement.objects.get(kind="cp", party_id=first.pk)
    Statement.objects.filter(pk=mine.pk).update(status="draft")
    client.force_login(member_of(first))
    assert client.get(f"/cp/statements/{mine.pk}/").status_code == 404
    Statement.objects.filter(pk=mine.pk).update(status="confirmed")

    client.force_login(User.objects.create_user("13800138073"))  # a subscriber, no CP
    assert client.get("/cp/statements/").status_code == 404
    assert client.get(f"/cp/statements/{mine.pk}/").status_code == 404

    ContentProvider.objects.filter(pk=first.pk).update(status="pending")
    client.force_login(member_of(first))
    assert client.get(f"/cp/statements/{mine.pk}/").status_code == 404
    client.logout()
    assert client.get("/cp/statements/").status_code == 302  # to sign in
