"""Bearer tokens remembered per process (issue #18), revocation published through Redis."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts import services, token_cache
from apps.accounts.models import ApiToken
from apps.accounts.tests.factories import UserFactory
from apps.core.redis import get_redis


@pytest.fixture(autouse=True)
def _fresh_cache():
    token_cache.token_cache_clear()
    yield
    token_cache.token_cache_clear()


def _statements(token: str) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        user = services.api_token_authenticate(token=token)
    return user, len(captured.captured_queries)


@pytest.mark.django_db
def test_a_remembered_token_authenticates_without_sql_and_as_a_copy():
    user = UserFactory()
    token, _ = services.api_token_issue(user_id=user.pk)
    first, n_first = _statements(token)
    second, n_second = _statements(token)
    assert first == user and second == user and n_first >= 1 and n_second == 0
    second.first_name = "changed"
    third, _ = _statements(token)
    assert third is not second and getattr(third, "first_name", "") != "changed"


@pytest.mark.django_db(transaction=True)
def test_revocation_is_effective_from_the_next_request_after_commit():
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0] == user
    assert services.api_tokens_revoke(token_ids=[record.pk]) == 1  # commits
    assert _statements(token)[0] is None


@pytest.mark.django_db
def test_a_revocation_in_another_process_is_seen_through_the_published_generation():
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0] == user
    # Another process revokes: it writes the row and bumps the generation; nothing local.
    ApiToken.objects.filter(pk=record.pk).update(revoked_at=record.created_at)
    get_redis().incr(token_cache.GENERATION_KEY)
    user_after, n = _statements(token)
    assert user_after is None and n >= 1


@pytest.mark.django_db
def test_a_deactivated_user_loses_remembered_tokens():
    user = UserFactory()
    token, _ = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0] == user
    user.is_active = False
    user.save()
    assert _statements(token)[0] is None


@pytest.mark.django_db
def test_an_unpublished_change_is_seen_within_the_age_bound(settings, monkeypatch):
    settings.API_TOKEN_CACHE_SECONDS = 30
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0] == user
    ApiToken.objects.filter(pk=record.pk).update(revoked_at=record.created_at)  # not published
    now = token_cache.time.monotonic()
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: now + 29)
    assert _statements(token)[0] == user  # within the documented bound
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: now + 31)
    assert _statements(token)[0] is None


@pytest.mark.django_db
def test_redis_not_answering_reads_the_database(monkeypatch):
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0] == user

    monkeypatch.setattr(token_cache, "_generation", lambda: False)
    ApiToken.objects.filter(pk=record.pk).update(revoked_at=record.created_at)
    assert _statements(token)[0] is None


@pytest.mark.django_db
def test_a_demoted_superuser_loses_its_powers_at_the_next_request():
    """A remembered user carries its flags: any change to the user (here the superuser flag
    taken away) forgets it, so a refund approver demoted cannot approve for 30 s more."""
    user = UserFactory(is_superuser=True, is_staff=True)
    token, _ = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0].has_perm("payments.change_refund")
    user.is_superuser = False
    user.save()
    again, n = _statements(token)
    assert n >= 1 and not again.has_perm("payments.change_refund")


@pytest.mark.django_db
def test_sign_in_bookkeeping_keeps_remembered_tokens():
    user = UserFactory()
    token, _ = services.api_token_issue(user_id=user.pk)
    _statements(token)
    user.save(update_fields=["last_login"])
    assert _statements(token)[1] == 0


@pytest.mark.django_db
def test_a_token_deleted_or_changed_in_the_admin_is_forgotten():
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk)
    other, other_record = services.api_token_issue(user_id=user.pk)
    assert _statements(token)[0] == user and _statements(other)[0] == user
    ApiToken.objects.get(pk=record.pk).delete()
    assert _statements(token)[0] is None
    changed = ApiToken.objects.get(pk=other_record.pk)
    changed.expires_at = changed.created_at
    changed.save()
    assert _statements(other)[0] is None
