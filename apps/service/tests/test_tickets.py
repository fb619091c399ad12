"""Customer service: the help centre, tickets on orders, answers with an SMS, charge complaints."""

import pytest

from apps.accounts.models import User
from apps.carrier.models import SmsMessage
from apps.catalog.tests.factories import small_catalog
from apps.orders.tests.support import paid_order
from apps.service import selectors, services
from apps.service.errors import TicketClosed, TicketNotFound, TicketOrderRequired
from apps.service.models import FaqEntry, Ticket, TicketMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def buyer():
    return User.objects.create_user("13800138000")


def test_the_help_centre_shows_published_faqs_by_topic(client):
    FaqEntry.objects.create(
        topic="recharge", question="充值多久到账？", answer="一般10分钟内到账。"
    )
    FaqEntry.objects.create(topic="invoices", question="怎么开发票？", answer="在订单页申请。")
    FaqEntry.objects.create(topic="invoices", question="草稿", answer="x", is_published=False)
    html = client.get("/help/").content.decode()
    assert "充值多久到账？" in html and "怎么开发票？" in html and "草稿" not in html
    assert html.index("话费与流量") < html.index("发票")


def test_a_charge_complaint_is_marked_and_others_are_not(buyer):
    order = paid_order(buyer, [small_catalog()["vip"]])
    wrong = services.ticket_open(user_id=buyer.pk, kind="wrong_amount", order_number=order.number,
                                 subject="扣费不对", body="多扣了10元")  # fmt: skip
    complaint = services.ticket_open(user_id=buyer.pk, kind="complaint", order_number=order.number,
                                     subject="", body="服务太差")  # fmt: skip
    question = services.ticket_open(user_id=buyer.pk, kind="other", subject="问", body="怎么用？")
    assert (wrong.is_charge_complaint, complaint.is_charge_complaint, question.is_charge_complaint) == (
        True, True, False)  # fmt: skip
    assert complaint.subject == "投诉"
    assert selectors.charge_complaints_count(user_id=buyer.pk) == 2


def test_a_charge_complaint_is_a_risk_label_on_its_order_once(buyer):
    from apps.risk.models import Label

    order = paid_order(buyer, [small_catalog()["vip"]])
    ticket = services.ticket_open(user_id=buyer.pk, kind="complaint", order_number=order.number,
                                  subject="我没有订购", body="我没有订购这个")  # fmt: skip
    services.ticket_open(user_id=buyer.pk, kind="other", subject="问", body="怎么用？")

    label = Label.objects.get()
    assert (label.source, label.reference, label.origin, label.note) == (
        "complaint", order.number, f"ticket:{ticket.id}", "我没有订购")  # fmt: skip


def test_a_ticket_about_an_order_needs_one_of_ones_own(buyer):
    other = User.objects.create_user("13900139000")
    theirs = paid_order(other, [small_catalog()["vip"]])
    with pytest.raises(TicketOrderRequired):
        services.ticket_open(user_id=buyer.pk, kind="not_received", subject="", body="没收到")
    with pytest.raises(TicketOrderRequired):
        services.ticket_open(user_id=buyer.pk, kind="refund", order_number=theirs.number,
                             subject="", body="退款")  # fmt: skip
    assert not Ticket.objects.exists()


def test_an_operator_answers_in_the_workbench_the_buyer_gets_an_sms_and_sees_the_thread(
    buyer, client
):
    order = paid_order(buyer, [small_catalog()["vip"]])
    client.force_login(buyer)
    opened = client.post("/my/tickets/", {"kind": "not_received", "order_number": order.number,
                                          "subject": "会员没到账", "body": "付款后没有开通"})  # fmt: skip
    ticket = Ticket.objects.get()
    assert opened["Location"] == f"/my/tickets/{ticket.pk}/"

    operator = User.objects.create_superuser("13700000000", "pw")
    client.force_login(operator)
    page = client.get(f"/admin/service/ticket/{ticket.pk}/change/")
    assert page.status_code == 200 and "付款后没有开通" in page.content.decode()
    client.post(f"/admin/service/ticket/{ticket.pk}/change/", {"answer": "已为您补开通，请查看。"})
    ticket.refresh_from_db()
    assert ticket.status == "answered"
    sms = SmsMessage.objects.get(purpose="service_ticket")
    assert sms.msisdn == "+8613800138000" and f"#{ticket.pk}" in sms.preview

    client.force_login(buyer)
    html = client.get(f"/my/tickets/{ticket.pk}/").content.decode()
    assert html.index("付款后没有开通") < html.index("已为您补开通，请查看。")
    assert "已回复" in html
    client.post(f"/my/tickets/{ticket.pk}/", {"body": "谢谢，已收到"})
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert list(TicketMessage.objects.values_list("from_staff", flat=True)) == [False, True, False]


def test_nobody_writes_into_someone_elses_or_a_closed_ticket(buyer):
    ticket = services.ticket_open(user_id=buyer.pk, kind="other", subject="问", body="怎么用？")
    other = User.objects.create_user("13900139000")
    with pytest.raises(TicketNotFound):
        services.ticket_reply(ticket_id=ticket.id, author_id=other.pk, body="x", from_staff=False)
    services.ticket_close(ticket_id=ticket.id, actor_id=buyer.pk)
    with pytest.raises(TicketClosed):
        services.ticket_reply(ticket_id=ticket.id, author_id=buyer.pk, body="x", from_staff=False)
    assert TicketMessage.objects.count() == 1


def test_the_points_page_shows_balance_history_and_what_they_buy(buyer, client):
    from apps.payments import services as payments

    catalog = small_catalog()
    payments.points_grant(user_id=buyer.pk, points=2000, key="welcome", reason="欢迎")
    client.force_login(buyer)
    html = client.get("/my/points/").content.decode()
    assert "<strong data-balance>2000</strong>" in html
    assert "+2000" in html and "获得积分" in html
    assert "视频会员 月卡" in html  # ¥15.00 ≤ 2000 points
    assert catalog["iphone"].name not in html
