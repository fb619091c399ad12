"""The channel's console (/channel/): its own sales, commissions, what it is owed, its links
with their QR codes; nobody else's."""

from __future__ import annotations

import pytest

from apps.accounts.models import User
from apps.ledger.services import LineSpec, journal_post
from apps.marketing.channels import _expense_account, channel_account
from apps.marketing.models import Channel, ChannelCode, ChannelOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return User.objects.create_user("13800138000")


@pytest.fixture
def channel(owner: User) -> Channel:
    ch = Channel.objects.create(name="校园代理", owner_user_id=owner.pk)
    ChannelCode.objects.create(channel=ch, code="campus01", label="海报二维码")
    ChannelOrder.objects.create(
        order_number="CH0000000001", channel=ch, code="campus01", user_id=1, status="accrued",
        paid_fen=12_000, commission_fen=1_200, reversed_fen=200,
    )  # fmt: skip
    journal_post(
        idempotency_key="test:commission", kind="channel.commission", reference="CH0000000001",
        lines=[LineSpec(_expense_account(), 1_000), LineSpec(channel_account(ch.pk), -1_000)],
    )  # fmt: skip
    return ch


def test_the_owner_sees_sales_commissions_and_links_with_qr_codes(client, owner, channel) -> None:
    client.force_login(owner)

    page = client.get("/channel/")

    assert page.status_code == 200
    text = page.text
    assert "校园代理" in text and "CH0000000001" in text
    for amount in ("120.00", "12.00", "2.00", "10.00"):  # sales, earned, reversed, owed
        assert amount in text
    assert "http://testserver/?ch=campus01" in text
    assert "<svg" in text  # the link's QR code, inline
    assert "/channel/qr/campus01.png" in text and "/channel/qr/campus01.svg" in text


def test_the_qr_code_downloads_encode_the_link(client, owner, channel) -> None:
    client.force_login(owner)

    png = client.get("/channel/qr/campus01.png")
    svg = client.get("/channel/qr/campus01.svg")

    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert png.content.startswith(b"\x89PNG")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml"
    assert b"<svg" in svg.content
    assert 'filename="channel-campus01.png"' in png["Content-Disposition"]


def test_someone_else_sees_no_console_and_no_qr_code(client, channel) -> None:
    stranger = User.objects.create_user("13900139000")
    Channel.objects.create(name="另一个渠道", owner_user_id=stranger.pk)
    client.force_login(stranger)

    page = client.get("/channel/")

    assert page.status_code == 200 and "CH0000000001" not in page.text
    assert client.get("/channel/qr/campus01.png").status_code == 404
    assert client.get("/channel/qr/nosuchcode.svg").status_code == 404
    assert client.get("/channel/qr/campus01.gif").status_code == 404


def test_a_user_without_a_channel_gets_404(client) -> None:
    client.force_login(User.objects.create_user("13700137000"))
    assert client.get("/channel/").status_code == 404


def test_the_console_needs_a_sign_in(client, channel) -> None:
    assert client.get("/channel/").status_code == 302
    assert client.get("/channel/qr/campus01.png").status_code == 302
