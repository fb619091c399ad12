"""The sandbox's pages: index, the phones' inbox, the knobs form, the subscriber table."""

from __future__ import annotations

import httpx

from tests.fixtures.sandbox import SandboxServer
from tests.fixtures.sandbox_support import send_sms, unique_msisdn


def test_the_index_links_every_page(carrier_sandbox: SandboxServer):
    response = httpx.get(f"{carrier_sandbox.url}/")

    assert response.status_code == 200
    for link in ('href="/sms/inbox/"', 'href="/knobs/"', 'href="/subscribers/"'):
        assert link in response.text
    assert "响应丢失率" in response.text


def test_the_inbox_shows_a_numbers_messages_and_refreshes_itself(carrier_sandbox: SandboxServer):
    to = unique_msisdn()
    send_sms(carrier_sandbox, {"to": to, "text": "您的验证码是 864209。5 分钟内有效。"})

    response = httpx.get(f"{carrier_sandbox.url}/sms/inbox/", params={"to": to[3:]})

    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="5">' in response.text
    assert "验证码就在短信正文里" in response.text
    assert "您的验证码是 864209。5 分钟内有效。" in response.text
    assert '<span class="code">864209</span>' in response.text


def test_the_inbox_without_a_number_lists_everyones_latest(carrier_sandbox: SandboxServer):
    to = unique_msisdn()
    send_sms(carrier_sandbox, {"to": to, "text": "broadcast check"})

    response = httpx.get(f"{carrier_sandbox.url}/sms/inbox/")

    assert response.status_code == 200
    assert to in response.text


def test_the_inbox_explains_a_bad_number(carrier_sandbox: SandboxServer):
    response = httpx.get(f"{carrier_sandbox.url}/sms/inbox/", params={"to": "12345"})

    assert response.status_code == 200
    assert "请输入 11 位手机号" in response.text
    assert "还没有短信" in response.text


def test_the_knobs_form_saves_good_values(carrier_sandbox: SandboxServer):
    form = {
        "latency_ms": "10",
        "error_rate": "0.2",
        "timeout_rate": "0",
        "lost_response_rate": "0",
        "hang_ms": "1000",
        "dlr_delay_ms": "300",
        "dlr_status": "undelivered",
        "dlr_duplicate": "on",
        "pay_notify_delay_ms": "500",
        "pay_notify_mode": "duplicate",
    }

    response = httpx.post(f"{carrier_sandbox.url}/knobs/", data=form)

    assert response.status_code == 302
    knobs = httpx.get(f"{carrier_sandbox.url}/sandbox/knobs").json()
    assert knobs == {
        "latency_ms": 10,
        "error_rate": 0.2,
        "timeout_rate": 0.0,
        "lost_response_rate": 0.0,
        "hang_ms": 1000,
        "dlr_delay_ms": 300,
        "dlr_status": "undelivered",
        "dlr_duplicate": True,
        "pay_notify_delay_ms": 500,
        "pay_notify_mode": "duplicate",
    }


def test_the_knobs_form_shows_errors_and_saves_nothing(carrier_sandbox: SandboxServer):
    form = {
        "latency_ms": "-1",
        "error_rate": "3",
        "timeout_rate": "0",
        "lost_response_rate": "0",
        "hang_ms": "1000",
        "dlr_delay_ms": "300",
        "dlr_status": "delivered",
        "pay_notify_delay_ms": "200",
        "pay_notify_mode": "normal",
    }

    response = httpx.post(f"{carrier_sandbox.url}/knobs/", data=form)

    assert response.status_code == 200
    assert response.text.count('class="errorlist"') == 2
    knobs = httpx.get(f"{carrier_sandbox.url}/sandbox/knobs").json()
    assert (knobs["latency_ms"], knobs["error_rate"]) == (0, 0.0)


def test_the_subscriber_table_lists_the_demo_numbers(carrier_sandbox: SandboxServer):
    response = httpx.get(f"{carrier_sandbox.url}/subscribers/")

    assert response.status_code == 200
    assert "+8613800138000" in response.text
    assert "50.00" in response.text
    assert "停机" in response.text
