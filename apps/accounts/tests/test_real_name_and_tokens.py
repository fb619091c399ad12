"""Real-name registration and bearer tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import services
from apps.accounts.errors import IdNumberInUse, InvalidIdNumber, RealNameAlreadyVerified
from apps.accounts.models import ApiToken, RealNameIdentity
from apps.accounts.tests.factories import UserFactory
from apps.core.crypto import decrypt_text

ID = "11010519491231002X"
pytestmark = pytest.mark.django_db


def test_real_name_is_stored_encrypted_and_masked():
    user = UserFactory()
    identity = services.real_name_submit(user_id=user.pk, name="张三", id_number=ID.lower())
    assert identity.id_number_masked == "1101**********002X"
    assert ID not in identity.id_number_encrypted
    assert decrypt_text(identity.id_number_encrypted) == ID
    assert identity.masked_name == "张*"


def test_real_name_once_per_user_and_per_id_number():
    first, second = UserFactory(), UserFactory()
    services.real_name_submit(user_id=first.pk, name="张三", id_number=ID)
    with pytest.raises(RealNameAlreadyVerified):
        services.real_name_submit(user_id=first.pk, name="张三", id_number=ID)
    with pytest.raises(IdNumberInUse):
        services.real_name_submit(user_id=second.pk, name="李四", id_number=ID)
    assert RealNameIdentity.objects.count() == 1


def test_bad_id_number_writes_nothing():
    user = UserFactory()
    with pytest.raises(InvalidIdNumber):
        services.real_name_submit(user_id=user.pk, name="张三", id_number="110105194912310021")
    assert not RealNameIdentity.objects.exists()


def test_token_is_stored_hashed_and_authenticates_until_revoked():
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk, name="app")
    assert token.startswith("chk_")
    assert token not in record.key_hash
    assert services.api_token_authenticate(token=token) == user
    assert services.api_token_revoke(token=token) is True
    assert services.api_token_authenticate(token=token) is None
    assert services.api_token_revoke(token=token) is False


def test_expired_token_and_inactive_user_do_not_authenticate():
    user = UserFactory()
    token, record = services.api_token_issue(user_id=user.pk)
    ApiToken.objects.filter(pk=record.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.api_token_authenticate(token=token) is None
    token2, _ = services.api_token_issue(user_id=user.pk)
    user.is_active = False
    user.save()
    assert services.api_token_authenticate(token=token2) is None
    assert services.api_token_authenticate(token="chk_nonsense") is None
    assert services.api_token_authenticate(token="nonsense") is None
