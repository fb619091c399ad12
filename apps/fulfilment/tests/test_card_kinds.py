"""Data and point cards, the quote-then-confirm step, and the card redemption API."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone, translation

from apps.accounts.models import User
from apps.core.models import AuditEvent
from apps.fulfilment import cards
from apps.fulfilment.models import Card
from apps.ledger.models import Journal
from apps.payments.services import points_balance

NUMBER = "+8613800138555"


@pytest.fixture(autouse=True)
def _english():
    """Values are described in the active language; these tests read the English text."""
    with translation.override("en"):
        yield


def _batch(value: cards.CardValue, quantity: int = 2) -> list[dict[str, str]]:
    batch = cards.card_batch_create(
        value=value,
        quantity=quantity,
        expires_at=timezone.now() + timedelta(days=30),
        actor_id=None,
    )
    _name, printable = cards.card_batch_print_file_take(batch_id=batch.pk, actor_id=None)
    return list(csv.DictReader(io.StringIO(printable.decode("utf-8-sig"))))


def _by_key(sandbox, key: str) -> dict | None:
    response = httpx.get(f"{sandbox.url}/carrier/v1/provisioning/by-key/{key}",
                         headers={"X-Api-Key": sandbox.api_key})  # fmt: skip
    return response.json() if response.status_code == 200 else None


def _balance(sandbox) -> int:
    url = f"{sandbox.url}/carrier/v1/subscribers/%2B8613800138555"
    return httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).json()["balance_fen"]


@pytest.fixture
def line(carrier_sandbox):
    carrier_sandbox.put_subscriber(NUMBER, status="active", balance_fen=300)
    return carrier_sandbox


@pytest.mark.django_db
def test_a_data_card_provisions_its_pack_to_any_number_once(line):
    rows = _batch(cards.CardValue(kind="data", volume_mb=2048, validity_days=30))
    card = rows[0]
    assert card["value"] == "2048MB data for 30 days"
    done = cards.card_redeem(number=card["card_number"], pin=card["pin"], msisdn="13800138555",
                             user_id=None, client_ip="10.5.0.1")  # fmt: skip
    assert (done.kind, done.volume_mb, done.amount_fen, done.msisdn) == ("data", 2048, 0, NUMBER)
    applied = _by_key(line, f"card:{card['card_number']}")
    assert applied is not None
    assert (applied["kind"], applied["msisdn"], applied["volume_mb"]) == ("data_pack", NUMBER, 2048)
    assert applied["validity_days"] == 30
    assert _balance(line) == 300  # a data card is no airtime
    with pytest.raises(cards.CardUnusable):
        cards.card_redeem(number=card["card_number"], pin=card["pin"], msisdn="13800138555",
                          user_id=None, client_ip="10.5.0.2")  # fmt: skip
    assert Card.objects.get(number=card["card_number"]).status == "redeemed"


@pytest.mark.django_db
def test_a_point_card_credits_the_signed_in_users_points_once(line):
    user = User.objects.create_user("13800138001")
    rows = _batch(cards.CardValue(kind="points", points=800))
    card = rows[0]
    with pytest.raises(cards.CardNeedsAccount):
        cards.card_redeem(
            number=card["card_number"],
            pin=card["pin"],
            msisdn="",
            user_id=None,
            client_ip="10.6.0.1",
        )
    done = cards.card_redeem(number=card["card_number"], pin=card["pin"], msisdn="", user_id=user.pk,
                             client_ip="10.6.0.1")  # fmt: skip
    assert (done.kind, done.points, done.msisdn) == ("points", 800, "")
    assert points_balance(user_id=user.pk) == 800
    journal = Journal.objects.get(idempotency_key=f"points:grant:card:{card['card_number']}")
    assert (journal.kind, journal.reference) == ("points.granted", f"user:{user.pk}")
    with pytest.raises(cards.CardUnusable):
        cards.card_redeem(
            number=card["card_number"],
            pin=card["pin"],
            msisdn="",
            user_id=user.pk,
            client_ip="10.6.0.2",
        )
    assert points_balance(user_id=user.pk) == 800
    assert _by_key(line, f"card:{card['card_number']}") is None  # nothing went to the carrier
    assert list(
        AuditEvent.objects.filter(object_type="card", object_id=card["card_number"]).values_list("action", flat=True)
    ) == ["card.redeemed"]  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_racing_point_card_redemptions_credit_once(line):
    users = [User.objects.create_user(f"1380013810{n}") for n in range(4)]
    card = _batch(cards.CardValue(kind="points", points=500), quantity=1)[0]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(users))

    def redeem(user: User) -> None:
        barrier.wait()
        try:
            cards.card_redeem(number=card["card_number"], pin=card["pin"], msisdn="", user_id=user.pk,
                              client_ip=f"10.7.0.{user.pk % 250}")  # fmt: skip
            outcomes.append("ok")
        except cards.CardUnusable:
            outcomes.append("used")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "used", "used", "used"]
    assert sorted(points_balance(user_id=u.pk) for u in users) == [0, 0, 0, 500]
    assert Journal.objects.filter(kind="points.granted").count() == 1


@pytest.mark.django_db
def test_a_quote_shows_the_worth_and_only_its_confirmation_redeems(line):
    user, other = User.objects.create_user("13800138002"), User.objects.create_user("13800138003")
    card = _batch(cards.CardValue(kind="recharge", face_value_fen=3000))[0]
    quote = cards.card_quote(number=card["card_number"], pin=card["pin"], msisdn="13800138555",
                             user_id=user.pk, client_ip="10.8.0.1")  # fmt: skip
    assert (quote.kind, quote.description, quote.msisdn) == ("recharge", "¥30.00 airtime", NUMBER)
    assert _balance(line) == 300
    assert Card.objects.get(number=card["card_number"]).status == "active"
    with pytest.raises(cards.CardConfirmationExpired):
        cards.card_redeem_confirmed(confirm_token=quote.confirm_token, user_id=other.pk)
    with pytest.raises(cards.CardConfirmationExpired):
        cards.card_redeem_confirmed(confirm_token=quote.confirm_token + "x", user_id=user.pk)
    assert _balance(line) == 300
    done = cards.card_redeem_confirmed(confirm_token=quote.confirm_token, user_id=user.pk)
    assert (done.amount_fen, done.msisdn) == (3000, NUMBER)
    assert _balance(line) == 3300
    with pytest.raises(cards.CardUnusable):
        cards.card_redeem_confirmed(confirm_token=quote.confirm_token, user_id=user.pk)
    assert _balance(line) == 3300


@pytest.mark.django_db
def test_a_wrong_pin_in_a_quote_counts_towards_the_guessers_lockout(line):
    card = _batch(cards.CardValue(kind="recharge", face_value_fen=3000))[0]
    for _ in range(cards.MAX_WRONG_PINS):
        with pytest.raises(cards.CardInvalid):
            cards.card_quote(number=card["card_number"], pin="9" * 18, msisdn="13800138555",
                             user_id=None, client_ip="10.9.1.1")  # fmt: skip
    with pytest.raises(cards.CardTriesExceeded):
        cards.card_quote(number=card["card_number"], pin=card["pin"], msisdn="13800138555",
                         user_id=None, client_ip="10.9.1.1")  # fmt: skip
    assert Card.objects.get(number=card["card_number"]).status == "active"
    assert not AuditEvent.objects.filter(action="card.locked").exists()
    quote = cards.card_quote(number=card["card_number"], pin=card["pin"], msisdn="13800138555",
                             user_id=None, client_ip="10.9.2.1")  # fmt: skip
    assert quote.card_number == card["card_number"]


@pytest.mark.django_db
def test_the_redemption_api_quotes_redeems_and_refuses_with_codes(line, api_client):
    user = User.objects.create_user("13800138004")
    api_client.force_authenticate(user)
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="en")
    rows = _batch(cards.CardValue(kind="data", volume_mb=1024, validity_days=7))
    quote = api_client.post("/api/v1/cards/redeem/quote/",
                            {"card_number": rows[0]["card_number"], "pin": rows[0]["pin"], "msisdn": "13800138555"},
                            format="json")  # fmt: skip
    assert quote.status_code == 200
    body = quote.json()
    assert body["value"] == {
        "kind": "data",
        "face_value_fen": 0,
        "volume_mb": 1024,
        "validity_days": 7,
        "points": 0,
    }
    assert (body["description"], body["msisdn"]) == ("1024MB data for 7 days", NUMBER)
    assert _by_key(line, f"card:{rows[0]['card_number']}") is None
    done = api_client.post(
        "/api/v1/cards/redeem/", {"confirm_token": body["confirm_token"]}, format="json"
    )
    assert done.status_code == 200
    assert (done.json()["volume_mb"], done.json()["msisdn"]) == (1024, NUMBER)
    assert _by_key(line, f"card:{rows[0]['card_number']}")["volume_mb"] == 1024
    again = api_client.post(
        "/api/v1/cards/redeem/", {"confirm_token": body["confirm_token"]}, format="json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "CARD_UNUSABLE")
    wrong = api_client.post("/api/v1/cards/redeem/",
                            {"card_number": rows[1]["card_number"], "pin": "1", "msisdn": "13800138555"},
                            format="json")  # fmt: skip
    assert (wrong.status_code, wrong.json()["code"]) == (400, "CARD_INVALID")
    empty = api_client.post("/api/v1/cards/redeem/", {}, format="json")
    assert (empty.status_code, empty.json()["code"]) == (400, "INVALID_ARGUMENT")
    one_step = api_client.post("/api/v1/cards/redeem/",
                               {"card_number": rows[1]["card_number"], "pin": rows[1]["pin"], "msisdn": "13800138555"},
                               format="json")  # fmt: skip
    assert one_step.status_code == 200
    assert Card.objects.filter(status="redeemed").count() == 2


@pytest.mark.django_db
def test_the_redemption_api_needs_a_user_and_limits_tries(line, api_client):
    rows = _batch(cards.CardValue(kind="recharge", face_value_fen=1000))
    anonymous = api_client.post("/api/v1/cards/redeem/", {"card_number": rows[0]["card_number"], "pin": rows[0]["pin"],
                                                         "msisdn": "13800138555"}, format="json")  # fmt: skip
    assert anonymous.status_code in (401, 403)
    api_client.force_authenticate(User.objects.create_user("13800138005"))
    for n in range(cards.TRIES_PER_HOUR):
        api_client.post(
            "/api/v1/cards/redeem/quote/", {"card_number": f"1{n:015d}", "pin": "1"}, format="json"
        )
    limited = api_client.post("/api/v1/cards/redeem/quote/",
                              {"card_number": rows[0]["card_number"], "pin": rows[0]["pin"]}, format="json")  # fmt: skip
    assert (limited.status_code, limited.json()["code"]) == (429, "CARD_TRIES_EXCEEDED")
    assert limited["Retry-After"]
    assert _balance(line) == 300


@pytest.mark.django_db
def test_the_schema_lists_the_card_api(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/cards/redeem/", "/api/v1/cards/redeem/quote/", "/api/v1/cards/purchased/",
                 "/api/v1/cards/{number}/pin/"):  # fmt: skip
        assert path in schema["paths"]


@pytest.mark.django_db
def test_a_card_cannot_be_redeemed_to_a_number_on_the_block_list(line, api_client):
    """Risk control decides every card redemption (issue #13): a blocked target number is
    refused with RISK_BLOCKED, the card stays usable, nothing reaches the carrier."""
    from apps.risk.services import list_entry_add

    list_entry_add(action="block", dimension="msisdn", value=NUMBER, reason="fraud ring",
                   actor_id=None)  # fmt: skip
    api_client.force_authenticate(User.objects.create_user("13800138006"))
    rows = _batch(cards.CardValue(kind="recharge", face_value_fen=1000))
    refused = api_client.post("/api/v1/cards/redeem/", {"card_number": rows[0]["card_number"],
                              "pin": rows[0]["pin"], "msisdn": "13800138555"}, format="json")  # fmt: skip
    assert (refused.status_code, refused.json()["code"]) == (403, "RISK_BLOCKED")
    assert Card.objects.get(number=rows[0]["card_number"]).status == "active"
    assert _by_key(line, f"card:{rows[0]['card_number']}") is None
    assert _balance(line) == 300
