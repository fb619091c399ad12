"""The request's authenticated buyer is read once per request, never carried to another."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIRequestFactory

from apps.accounts import selectors
from apps.accounts.authentication import BearerTokenAuthentication
from apps.accounts.current import request_user_forget, request_user_phone
from apps.accounts.services import api_token_issue
from apps.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _authenticate(token: str) -> None:
    request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert BearerTokenAuthentication().authenticate(request) is not None


def test_the_authenticated_buyers_number_needs_no_second_read_and_others_are_read():
    buyer, other = UserFactory(phone="+8613800138001"), UserFactory(phone="+8613800138002")
    _authenticate(api_token_issue(user_id=buyer.pk, name="t")[0])
    try:
        with CaptureQueriesContext(connection) as captured:
            assert selectors.user_phone(user_id=buyer.pk) == "+8613800138001"
        assert captured.captured_queries == []
        with CaptureQueriesContext(connection) as captured:
            assert selectors.user_phone(user_id=other.pk) == "+8613800138002"
        assert len(captured.captured_queries) == 1
    finally:  # a failure must not leave the remembered user to the next test on this thread
        request_user_forget()


def test_a_request_forgets_its_buyer_when_it_ends(api_client):
    buyer = UserFactory(phone="+8613800138003")
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user_id=buyer.pk, name='t')[0]}"
    )
    assert api_client.get("/api/v1/cart/").status_code == 200
    assert request_user_phone(user_id=buyer.pk) is None
    with CaptureQueriesContext(connection) as captured:
        assert selectors.user_phone(user_id=buyer.pk) == "+8613800138003"
    assert len(captured.captured_queries) == 1
