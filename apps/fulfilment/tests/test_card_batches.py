"""Card batches: the print file handed over once, numbers-only exports, card actions, the workbench."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone, translation

from apps.accounts.models import User
from apps.core.crypto import keyed_hash
from apps.core.models import AuditEvent
from apps.fulfilment import cards
from apps.fulfilment.models import Card, CardBatch

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    """Values are described in the active language; these tests read the English text."""
    with translation.override("en"):
        yield


def _print_batch(quantity: int = 3) -> CardBatch:
    return cards.card_batch_create(value=cards.CardValue(kind="points", points=200), quantity=quantity,
                                   expires_at=timezone.now() + timedelta(days=30), actor_id=None)  # fmt: skip


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def test_the_print_file_is_handed_over_once_and_matches_the_hashes():
    batch = _print_batch()
    assert batch.print_file and "card_number" not in batch.print_file  # stored encrypted
    name, content = cards.card_batch_print_file_take(batch_id=batch.pk, actor_id=42)
    assert name == f"{batch.batch_no}-print.csv"
    rows = _rows(content)
    assert [r["value"] for r in rows] == ["200 points"] * 3
    for row in rows:
        card = Card.objects.get(number=row["card_number"])
        assert card.pin_hash == keyed_hash(f"{row['card_number']}:{row['pin']}", purpose="card-pin")
        assert card.pin_encrypted == ""  # printed cards keep no readable PIN
    batch.refresh_from_db()
    assert (batch.print_file, batch.print_file_taken_by) == ("", 42)
    with pytest.raises(cards.PrintFileGone):
        cards.card_batch_print_file_take(batch_id=batch.pk, actor_id=43)
    taken = AuditEvent.objects.filter(action="cards.print_file_taken", object_id=batch.batch_no)
    assert list(taken.values_list("actor_id", flat=True)) == [42]


def test_the_numbers_export_has_states_and_no_pins():
    batch = _print_batch(2)
    _name, content = cards.card_batch_print_file_take(batch_id=batch.pk, actor_id=None)
    pins = {r["pin"] for r in _rows(content)}
    first = Card.objects.filter(batch=batch).order_by("id").first()
    assert first is not None
    cards.card_set_status(card_id=first.pk, action="freeze", actor_id=1)
    name, numbers = cards.card_batch_numbers_csv(batch_id=batch.pk)
    rows = _rows(numbers)
    assert name == f"{batch.batch_no}-numbers.csv"
    assert [r["status"] for r in rows] == ["frozen", "active"]
    assert "pin" not in rows[0]
    assert not any(pin in numbers.decode() for pin in pins)


def test_card_actions_follow_the_table_and_are_audited():
    batch = _print_batch(1)
    card = Card.objects.get(batch=batch)
    Card.objects.filter(pk=card.pk).update(status="locked", wrong_pins=5)
    with pytest.raises(cards.CardStateConflict):
        cards.card_set_status(card_id=card.pk, action="unfreeze", actor_id=9)
    assert cards.card_set_status(card_id=card.pk, action="unlock", actor_id=9) == "active"
    card.refresh_from_db()
    assert (card.status, card.wrong_pins) == ("active", 0)
    assert cards.card_set_status(card_id=card.pk, action="freeze", actor_id=9) == "frozen"
    assert cards.card_set_status(card_id=card.pk, action="void", actor_id=9) == "voided"
    with pytest.raises(cards.CardStateConflict):
        cards.card_set_status(card_id=card.pk, action="unfreeze", actor_id=9)
    actions = AuditEvent.objects.filter(object_type="card", object_id=card.number).order_by("id")
    assert list(actions.values_list("action", "actor_id")) == [
        ("card.active", 9), ("card.frozen", 9), ("card.voided", 9)
    ]  # fmt: skip


def test_batch_counts_by_state():
    batch = _print_batch(6)
    ids = list(Card.objects.filter(batch=batch).order_by("id").values_list("pk", flat=True))
    Card.objects.filter(pk=ids[0]).update(status="redeemed")
    Card.objects.filter(pk=ids[1]).update(status="locked")
    Card.objects.filter(pk=ids[2]).update(status="frozen")
    Card.objects.filter(pk=ids[3]).update(status="voided")
    Card.objects.filter(pk=ids[4]).update(sold_line_id=1, sold_user_id=1)
    counts = cards.card_batch_counts(batch_ids=[batch.pk])[batch.pk]
    assert (counts.unsold, counts.sold, counts.redeemed, counts.frozen, counts.voided, counts.locked) == (
        1, 1, 1, 1, 1, 1
    )  # fmt: skip


def _operator(*perms: str) -> User:
    user = User.objects.create_user("13900139000", is_staff=True)
    for codename in perms:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="fulfilment")
        )
    return User.objects.get(pk=user.pk)


def test_workbench_generates_lists_counts_and_downloads_the_print_file_once(client):
    client.force_login(
        _operator("add_cardbatch", "view_cardbatch", "change_cardbatch", "download_print_file")
    )
    response = client.post("/admin/fulfilment/cardbatch/generate/",
                           {"kind": "data", "volume_mb": 500, "validity_days": 7, "quantity": 4, "days": 90})  # fmt: skip
    batch = CardBatch.objects.get()
    assert response.status_code == 302
    assert (batch.kind, batch.volume_mb, batch.validity_days, batch.quantity, batch.channel) == (
        "data",
        500,
        7,
        4,
        "print",
    )
    listing = client.get("/admin/fulfilment/cardbatch/", HTTP_ACCEPT_LANGUAGE="en")
    assert listing.status_code == 200
    assert "500MB data for 7 days" in listing.content.decode()
    confirm = client.get(f"/admin/fulfilment/cardbatch/{batch.pk}/print-file/")
    assert confirm.status_code == 200
    batch.refresh_from_db()
    assert batch.print_file  # a GET takes nothing
    download = client.post(f"/admin/fulfilment/cardbatch/{batch.pk}/print-file/")
    assert download.status_code == 200
    assert download["Content-Disposition"] == f'attachment; filename="{batch.batch_no}-print.csv"'
    assert len(_rows(download.content)) == 4
    second = client.post(f"/admin/fulfilment/cardbatch/{batch.pk}/print-file/")
    assert second.status_code == 302  # back to the batch, with the reason
    numbers = client.get(f"/admin/fulfilment/cardbatch/{batch.pk}/numbers.csv")
    assert len(_rows(numbers.content)) == 4


def test_workbench_refuses_the_print_file_without_the_permission(client):
    batch = _print_batch(1)
    client.force_login(_operator("view_cardbatch", "change_cardbatch"))
    assert client.post(f"/admin/fulfilment/cardbatch/{batch.pk}/print-file/").status_code == 403
    batch.refresh_from_db()
    assert batch.print_file
    assert not AuditEvent.objects.filter(action="cards.print_file_taken").exists()


def test_workbench_refuses_a_bad_batch_with_a_form_error(client):
    client.force_login(_operator("add_cardbatch", "view_cardbatch"))
    response = client.post(
        "/admin/fulfilment/cardbatch/generate/", {"kind": "data", "quantity": 4, "days": 90}
    )
    assert response.status_code == 200
    assert "CARD_BATCH_INVALID" in response.content.decode()
    assert not CardBatch.objects.exists()


def test_workbench_card_actions(client):
    batch = _print_batch(2)
    card = Card.objects.filter(batch=batch).first()
    assert card is not None
    Card.objects.filter(pk=card.pk).update(status="locked", wrong_pins=5)
    client.force_login(_operator("view_card", "change_card"))
    response = client.post(
        "/admin/fulfilment/card/", {"action": "unlock", "_selected_action": [card.pk]}
    )
    assert response.status_code == 302
    card.refresh_from_db()
    assert (card.status, card.wrong_pins) == ("active", 0)
    assert AuditEvent.objects.filter(action="card.active", object_id=card.number).count() == 1


def test_generate_command_for_online_and_printed_cards(tmp_path):
    from django.core.management import CommandError, call_command

    out = tmp_path / "points.csv"
    call_command(
        "generate_cards",
        "--kind",
        "points",
        "--points",
        "300",
        "--quantity",
        "2",
        "--out",
        str(out),
    )
    assert len(_rows(out.read_bytes())) == 2
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert CardBatch.objects.get().print_file == ""
    with pytest.raises(CommandError):
        call_command(
            "generate_cards",
            "--kind",
            "points",
            "--points",
            "300",
            "--quantity",
            "2",
            "--out",
            str(out),
        )
    with pytest.raises(CommandError, match="CARD_BATCH_INVALID"):
        call_command(
            "generate_cards", "--kind", "data", "--quantity", "2", "--out", str(tmp_path / "d.csv")
        )
    assert not (tmp_path / "d.csv").exists()
    assert CardBatch.objects.count() == 1
