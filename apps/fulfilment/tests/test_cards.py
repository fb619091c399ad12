"""Recharge cards: generated with hashed PINs, redeemed once, guarded against guessing and races."""

from __future__ import annotations

import csv
import io
import threading
from datetime import timedelta

import httpx
import pytest
from django.db import connection
from django.utils import timezone

from apps.carrier.errors import CarrierUnavailable
from apps.fulfilment import cards
from apps.fulfilment.models import Card

NUMBER = "+8613800138666"


@pytest.fixture
def line(carrier_sandbox):
    carrier_sandbox.put_subscriber(NUMBER, status="active", balance_fen=0)
    return carrier_sandbox


def _balance(sandbox) -> int:
    url = f"{sandbox.url}/carrier/v1/subscribers/%2B8613800138666"
    return httpx.get(url, headers={"X-Api-Key": sandbox.api_key}).json()["balance_fen"]


def _batch(quantity: int = 3, face: int = 10_000):
    batch = cards.card_batch_create(
        value=cards.CardValue(kind="recharge", face_value_fen=face),
        quantity=quantity,
        expires_at=timezone.now() + timedelta(days=365),
        actor_id=None,
    )
    _name, printable = cards.card_batch_print_file_take(batch_id=batch.pk, actor_id=None)
    rows = list(csv.DictReader(io.StringIO(printable.decode("utf-8-sig"))))
    return batch, rows


@pytest.mark.django_db
def test_pins_are_printed_once_and_stored_hashed(line):
    _, rows = _batch()
    assert len(rows) == 3
    stored = Card.objects.get(number=rows[0]["card_number"])
    assert rows[0]["pin"] not in stored.pin_hash
    assert len(rows[0]["pin"]) == 18


@pytest.mark.django_db
def test_redeem_once_into_airtime(line):
    _, rows = _batch()
    card = rows[0]
    done = cards.card_redeem(
        number=card["card_number"],
        pin=card["pin"],
        msisdn="13800138666",
        user_id=None,
        client_ip="10.0.0.1",
    )
    assert done.amount_fen == 10_000
    assert _balance(line) == 10_000
    with pytest.raises(cards.CardUnusable):
        cards.card_redeem(
            number=card["card_number"],
            pin=card["pin"],
            msisdn="13800138666",
            user_id=None,
            client_ip="10.0.0.2",
        )
    assert _balance(line) == 10_000
    assert Card.objects.get(number=card["card_number"]).status == "redeemed"


def _redeem(number, pin, ip, user_id=None):
    return cards.card_redeem(
        number=number, pin=pin, msisdn="13800138666", user_id=user_id, client_ip=ip
    )


@pytest.mark.django_db
def test_wrong_pins_lock_out_the_guesser_not_the_card(line, settings):
    _, rows = _batch()
    card = rows[0]
    for _ in range(cards.MAX_WRONG_PINS):
        with pytest.raises(cards.CardInvalid):
            _redeem(card["card_number"], "0" * 18, "10.1.0.1")
    # The guessing address is locked out of this card, even with the right PIN...
    with pytest.raises(cards.CardTriesExceeded):
        _redeem(card["card_number"], card["pin"], "10.1.0.1")
    # ...but the card is not locked: its holder, elsewhere, redeems it.
    assert Card.objects.get(number=card["card_number"]).status == "active"
    assert _redeem(card["card_number"], card["pin"], "10.1.1.1").amount_fen == 10_000
    assert _balance(line) == 10_000


@pytest.mark.django_db
def test_a_signed_in_guesser_is_locked_out_on_every_address(line):
    _, rows = _batch()
    card = rows[0]
    for n in range(cards.MAX_WRONG_PINS):
        with pytest.raises(cards.CardInvalid):
            _redeem(card["card_number"], "0" * 18, f"10.3.0.{n}", user_id=42)
    with pytest.raises(cards.CardTriesExceeded):
        _redeem(card["card_number"], card["pin"], "10.3.1.1", user_id=42)
    assert Card.objects.get(number=card["card_number"]).status == "active"


@pytest.mark.django_db
def test_without_the_pin_unknown_used_and_frozen_cards_look_the_same(line):
    batch, rows = _batch()
    used, other = rows[0], rows[1]
    _redeem(used["card_number"], used["pin"], "10.4.0.1")
    Card.objects.filter(number=other["card_number"]).update(status="locked")
    answers = []
    for number in ("1" * len(used["card_number"]), used["card_number"], other["card_number"]):
        with pytest.raises(cards.CardInvalid) as info:
            _redeem(number, "0" * 18, "10.4.0.2")
        answers.append((info.value.code, str(info.value.message), info.value.http_status))
    cards.card_batch_set_status(batch_id=batch.pk, status="frozen", actor_id=None)
    with pytest.raises(cards.CardInvalid) as info:
        _redeem(rows[2]["card_number"], "0" * 18, "10.4.0.3")
    answers.append((info.value.code, str(info.value.message), info.value.http_status))
    assert len(set(answers)) == 1
    # The holder, who knows the PIN, is told the card cannot be used.
    with pytest.raises(cards.CardUnusable):
        _redeem(used["card_number"], used["pin"], "10.4.0.4")


@pytest.mark.django_db
def test_tries_per_address_and_hour_are_limited(line):
    _, rows = _batch()
    for n in range(cards.TRIES_PER_HOUR):
        with pytest.raises(cards.CardInvalid):
            _redeem(f"1{n:015d}", "1", "10.9.9.9")
    with pytest.raises(cards.CardTriesExceeded):
        _redeem(rows[1]["card_number"], rows[1]["pin"], "10.9.9.9")
    assert _balance(line) == 0


@pytest.mark.django_db
def test_frozen_batches_cannot_be_redeemed(line):
    batch, rows = _batch()
    cards.card_batch_set_status(batch_id=batch.pk, status="frozen", actor_id=None)
    with pytest.raises(cards.CardUnusable):
        cards.card_redeem(
            number=rows[0]["card_number"],
            pin=rows[0]["pin"],
            msisdn="13800138666",
            user_id=None,
            client_ip="10.2.0.1",
        )
    assert _balance(line) == 0


@pytest.mark.django_db
def test_a_lost_answer_is_finished_by_repeating_without_a_second_top_up(line, settings):
    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    _, rows = _batch()
    card = rows[0]
    line.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        cards.card_redeem(
            number=card["card_number"],
            pin=card["pin"],
            msisdn="13800138666",
            user_id=None,
            client_ip="10.3.0.1",
        )
    line.set_knobs(lost_response_rate=0.0)
    assert Card.objects.get(number=card["card_number"]).status == "redeeming"
    cards.card_redeem(
        number=card["card_number"],
        pin=card["pin"],
        msisdn="13800138666",
        user_id=None,
        client_ip="10.3.0.1",
    )
    assert _balance(line) == 10_000
    assert Card.objects.get(number=card["card_number"]).status == "redeemed"


@pytest.mark.django_db(transaction=True)
def test_racing_redemptions_of_one_card_top_up_once(line):
    _, rows = _batch(quantity=1)
    card = rows[0]
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def redeem(n: int) -> None:
        barrier.wait()
        try:
            cards.card_redeem(
                number=card["card_number"],
                pin=card["pin"],
                msisdn="13800138666",
                user_id=None,
                client_ip=f"10.4.0.{n}",
            )
            outcomes.append("ok")
        except cards.CardUnusable:
            outcomes.append("used")
        finally:
            connection.close()

    threads = [threading.Thread(target=redeem, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert outcomes.count("used") == 5
    assert _balance(line) == 10_000


@pytest.mark.django_db
def test_the_redeem_page_and_the_command(line, client, tmp_path):
    from django.core.management import call_command

    from apps.accounts.models import User

    out = tmp_path / "cards.csv"
    call_command("generate_cards", "--face-value", "50", "--quantity", "2", "--out", str(out))
    row = next(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    client.force_login(User.objects.create_user("13800138000"))
    bad = client.post(
        "/cards/redeem/", {"card_number": row["card_number"], "pin": "1", "msisdn": "13800138666"}
    )
    assert bad.status_code == 400
    quote = client.post(
        "/cards/redeem/",
        {"card_number": row["card_number"], "pin": row["pin"], "msisdn": "13800138666"},
    )
    assert quote.status_code == 200
    assert "¥50.00" in quote.content.decode()
    assert _balance(line) == 0  # shown, not used yet
    token = quote.context["form"].initial["confirm_token"]
    good = client.post("/cards/redeem/", {"confirm_token": token})
    assert good.status_code == 302
    assert _balance(line) == 5000
    again = client.post("/cards/redeem/", {"confirm_token": token})
    assert again.status_code == 302
    assert _balance(line) == 5000


@pytest.mark.django_db
def test_the_beat_finishes_an_interrupted_redemption_once(line, settings):
    from apps.fulfilment.cards.redeem import cards_finish_interrupted

    settings.CARRIER_TIMEOUT_SECONDS = 0.5
    _, rows = _batch()
    card = rows[0]
    line.set_knobs(lost_response_rate=1.0, hang_ms=1500)
    with pytest.raises(CarrierUnavailable):
        cards.card_redeem(
            number=card["card_number"],
            pin=card["pin"],
            msisdn="13800138666",
            user_id=None,
            client_ip="10.3.9.1",
        )
    line.set_knobs(lost_response_rate=0.0, hang_ms=0)
    assert cards_finish_interrupted() == 1
    assert _balance(line) == 10_000
    assert Card.objects.get(number=card["card_number"]).status == "redeemed"
    assert cards_finish_interrupted() == 0
    assert _balance(line) == 10_000
