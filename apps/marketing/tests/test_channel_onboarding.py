"""Channel onboarding: an approved developer-portal company applies, an operator approves (the
channel gets its first code) or refuses, every step audited; attribution only once active."""

from __future__ import annotations

import threading

import pytest

from apps.accounts.models import User
from apps.core.errors import InvalidArgument
from apps.core.models import AuditEvent
from apps.marketing.channels import channel_apply, channel_code_resolve, channel_review
from apps.marketing.errors import (
    ChannelAlreadyApplied,
    ChannelPartnerNotApproved,
    ChannelReviewConflict,
)
from apps.marketing.models import Channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner() -> User:
    return User.objects.create_user("13800138000")


def _apply(owner: User, partner_id: int | None = 41) -> int:
    return channel_apply(user_id=owner.pk, partner_id=partner_id, name="校园代理", kind="agent",
                         description="高校门店地推")  # fmt: skip


def test_an_application_is_reviewed_then_the_channel_sells_with_its_first_code(owner) -> None:
    channel_id = _apply(owner)
    channel = Channel.objects.get(pk=channel_id)
    assert (channel.status, channel.partner_id, channel.owner_user_id) == ("pending", 41, owner.pk)
    assert not channel.codes.exists()

    assert channel_review(channel_id=channel_id, approve=True, actor_id=None) == "active"

    code = Channel.objects.get(pk=channel_id).codes.get().code
    assert code.startswith("ch") and channel_code_resolve(code=code) == channel_id
    actions = AuditEvent.objects.filter(object_type="channel", object_id=str(channel_id))
    assert sorted(actions.values_list("action", flat=True)) == ["channel.active", "channel.applied"]


def test_a_refused_application_may_apply_again_an_active_one_may_not(owner) -> None:
    first = _apply(owner)
    assert channel_review(channel_id=first, approve=False, actor_id=None) == "rejected"
    with pytest.raises(ChannelReviewConflict):
        channel_review(channel_id=first, approve=True, actor_id=None)

    second = _apply(owner)
    channel_review(channel_id=second, approve=True, actor_id=None)
    with pytest.raises(ChannelAlreadyApplied):
        _apply(owner)
    assert Channel.objects.filter(partner_id=41).count() == 2


def test_suspending_stops_attribution_and_restoring_keeps_the_code(owner) -> None:
    channel_id = _apply(owner)
    channel_review(channel_id=channel_id, approve=True, actor_id=None)
    code = Channel.objects.get(pk=channel_id).codes.get().code

    assert channel_review(channel_id=channel_id, approve=False, actor_id=None) == "suspended"
    assert channel_code_resolve(code=code) is None
    assert channel_review(channel_id=channel_id, approve=True, actor_id=None) == "active"
    assert list(Channel.objects.get(pk=channel_id).codes.values_list("code", flat=True)) == [code]


def test_without_an_approved_company_or_with_bad_fields_nothing_is_written(owner) -> None:
    with pytest.raises(ChannelPartnerNotApproved):
        _apply(owner, partner_id=None)
    with pytest.raises(InvalidArgument):
        channel_apply(user_id=owner.pk, partner_id=41, name=" ", kind="agent", description="")
    with pytest.raises(InvalidArgument):
        channel_apply(user_id=owner.pk, partner_id=41, name="x", kind="shop", description="")
    assert not Channel.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_racing_applications_of_one_company_make_one_channel() -> None:
    owner = User.objects.create_user("13800138000")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def apply() -> None:
        from django.db import connection

        try:
            barrier.wait()
            _apply(owner)
            outcomes.append("applied")
        except ChannelAlreadyApplied:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["applied", "refused"]
    assert Channel.objects.count() == 1


def test_the_workbench_approves_through_the_service(client, owner) -> None:
    channel_id = _apply(owner)
    client.force_login(User.objects.create_superuser("13800000000", "pw"))

    client.post(
        "/admin/marketing/channel/", {"action": "approve", "_selected_action": [channel_id]}
    )

    assert Channel.objects.get(pk=channel_id).status == "active"
    assert Channel.objects.get(pk=channel_id).codes.count() == 1


def test_the_workbench_form_does_not_edit_the_status(client, owner) -> None:
    channel_id = _apply(owner)
    client.force_login(User.objects.create_superuser("13800000000", "pw"))

    page = client.get(f"/admin/marketing/channel/{channel_id}/change/")

    assert page.status_code == 200
    assert 'name="status"' not in page.text
