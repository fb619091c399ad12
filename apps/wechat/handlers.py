"""Template messages on the facts orders and fulfilment publish (outbox topics): order paid,
and each line delivered (a recharge's own template for airtime). Only followers who bound
their number get one; the handler records intent and the send runs in a task after commit."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from apps.accounts.selectors import wechat_openid_for_user
from apps.catalog.selectors import delivery_specs
from apps.core import outbox
from apps.core.money import format_fen
from apps.core.tasks import enqueue_on_commit
from apps.orders.selectors import order_get
from apps.wechat.tasks import template_send_task


def _order_url(number: str) -> str:
    path = reverse("orders:detail", kwargs={"number": number})
    return f"{settings.WECHAT_MP_SITE_URL.rstrip('/')}{path}"


@outbox.handler("orders.order_paid")
def order_paid(event: outbox.Event) -> None:
    fact = event.payload
    openid = wechat_openid_for_user(user_id=fact["user_id"])
    if openid is None:
        return
    paid = sum(int(line["paid_fen"]) for line in fact["lines"])
    data = {
        "first": "您的订单已支付成功",
        "keyword1": fact["number"],
        "keyword2": format_fen(paid),
        "keyword3": "、".join(line["name"] for line in fact["lines"])[:60],
        "remark": "我们正在为您办理。",
    }
    enqueue_on_commit(
        template_send_task, "order_paid", openid, data, _order_url(fact["number"]),
        f"order_paid:{fact['number']}",
    )  # fmt: skip


@outbox.handler("fulfilment.delivery_ended")
def delivery_ended(event: outbox.Event) -> None:
    number, line_id = event.payload["number"], event.payload["line_id"]
    order = order_get(number=number)
    if order is None:
        return
    line = next((line for line in order.lines if line.id == line_id), None)
    if line is None or line.fulfilment != "delivered":
        return
    openid = wechat_openid_for_user(user_id=order.user_id)
    if openid is None:
        return
    specs = delivery_specs(product_ids=[line.product_id])
    if line.product_id in specs and specs[line.product_id].type_code == "airtime":
        kind = "recharge_done"
        data = {"first": "充值已到账", "keyword1": line.recipient,
                "keyword2": format_fen(line.total_fen), "remark": "感谢使用。"}  # fmt: skip
    else:
        kind = "delivered"
        data = {"first": "您的订单已交付", "keyword1": number,
                "keyword2": line.product_name, "remark": "感谢使用。"}  # fmt: skip
    enqueue_on_commit(
        template_send_task, kind, openid, data, _order_url(number), f"{kind}:{number}:{line_id}"
    )
