"""/channel/apply/: a signed-in owner of an approved developer-portal company applies to sell as
a channel; without one the page sends them to the portal; the console waits for approval."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.gateway.models import Partner
from apps.marketing.channels import channel_review
from apps.marketing.models import Channel

pytestmark = pytest.mark.django_db


def _company(owner: User, status: str) -> Partner:
    return Partner.objects.create(
        owner=owner, company_name="某某科技有限公司", contact_name="张三",
        contact_phone="+8613800138000", contact_email="a@example.com",
        licence_number="91310000MA1FL0000X", status=status,
    )  # fmt: skip


def test_an_approved_company_applies_and_then_opens_its_console(client) -> None:
    owner = User.objects.create_user("13800138000")
    company = _company(owner, "approved")
    client.force_login(owner)

    page = client.get("/channel/apply/")
    assert page.status_code == 200 and 'name="name"' in page.text
    response = client.post(
        "/channel/apply/", {"name": "校园代理", "kind": "agent", "description": "高校地推"}
    )

    assert response.status_code == 302
    channel = Channel.objects.get()
    assert (channel.status, channel.partner_id, channel.owner_user_id) == (
        "pending",
        company.pk,
        owner.pk,
    )
    assert client.get("/channel/").status_code == 302  # under review: back to its status
    assert "pending" in client.get("/channel/apply/").text
    again = client.post("/channel/apply/", {"name": "再来", "kind": "app"})
    assert again.status_code == 409 and Channel.objects.count() == 1

    channel_review(channel_id=channel.pk, approve=True, actor_id=None)
    console = client.get("/channel/")
    assert console.status_code == 200 and "?ch=ch" in console.text


@pytest.mark.parametrize("status", ["pending", "rejected", None])
def test_without_an_approved_company_nothing_is_written(client, status) -> None:
    owner = User.objects.create_user("13800138000")
    if status:
        _company(owner, status)
    client.force_login(owner)

    page = client.get("/channel/apply/")
    refused = client.post("/channel/apply/", {"name": "校园代理", "kind": "agent"})

    assert 'name="name"' not in page.text and "/developer/" in page.text
    assert refused.status_code == 409 and not Channel.objects.exists()


def test_the_page_needs_a_sign_in(client) -> None:
    assert client.get("/channel/apply/").status_code == 302
