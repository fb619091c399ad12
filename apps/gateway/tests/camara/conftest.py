"""Step definitions for CAMARA's shared Gherkin vocabulary, written once for every document.

Generic steps build the request (resource, headers, token, body, path and query parameters),
send it and check the answer (status, properties, headers, the OAS schema loaded from the same
document). The sandbox steps arrange the carrier for one scenario (a swapped SIM, a roaming
device, a payment in a given state); what a feature leaves to "a business context in the Telco
Operator" is arranged by the scenario's tag (``BUSINESS_CONTEXTS``). A step with no definition
fails the scenario, naming the step (an expected failure when the scenario is listed in
``KNOWN_FAILING``, whose entries are strict), so it is counted as failed, never silently skipped.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from pytest_bdd import parsers, step

from apps.gateway.messaging import OTP_MAX_ATTEMPTS
from apps.gateway.tests.camara import defaults, documents
from apps.gateway.tests.camara.context import (
    CAPABILITIES,
    NO_BODY,
    REGISTER,
    Scenario,
    new_correlator,
    random_reference,
)
from apps.gateway.tests.camara.not_applicable import (
    EXAMPLES_NOT_APPLICABLE,
    KNOWN_FAILING,
    NOT_APPLICABLE,
    SUCCESSES_NOT_APPLICABLE,
)
from apps.gateway.tests.capability_support import sim_swap_at
from apps.gateway.tests.support import SignedClient, gateway_app_create

Q = r'"(?P<%s>[^"]*)"'


def _value(text: str) -> Any:
    """A literal as features write them: numbers, true/false/null, JSON, else the text."""
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        return text.strip('"')


# --- hooks -----------------------------------------------------------------------------------


def pytest_bdd_apply_tag(tag: str, function: Any) -> bool:
    """CAMARA's tags name scenarios (``@check_sim_swap_2_...``), not pytest markers; a known
    failure (``KNOWN_FAILING``) is marked an expected failure with its reason, strictly: one
    that passes fails the run (XPASS(strict)), so the list is emptied as the work is done."""
    if tag in KNOWN_FAILING:
        pytest.mark.xfail(reason=f"known failure: {KNOWN_FAILING[tag]}", strict=True)(function)
    return True


# nodeid -> feature file, and feature file -> outcome counts, for the conformance table
# (written to the file CAMARA_REPORT names at the end of the run).
_FEATURE_OF: dict[str, str] = {}
_COUNTS: dict[str, dict[str, int]] = {}
_TAGS_OF: dict[str, list[str]] = {}
_FAILED: dict[str, str] = {}  # tag -> the first line of why


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    feature = _FEATURE_OF.pop(item.nodeid, None) if report.when == "call" else None
    if feature is None:
        return
    if hasattr(report, "wasxfail") or report.failed:
        kind = "failed"  # an unimplemented step counts as failed, as does a failing check
        why = str(getattr(report, "wasxfail", "") or report.longreprtext.strip().splitlines()[-1])
        for tag in _TAGS_OF.get(item.nodeid, []):
            _FAILED.setdefault(tag, why[:160])
    elif report.skipped:
        kind = "not_applicable"
    else:
        kind = "passed"
    counts = _COUNTS.setdefault(feature, {"passed": 0, "not_applicable": 0, "failed": 0})
    counts[kind] += 1


def pytest_sessionfinish(session: Any) -> None:
    target = os.environ.get("CAMARA_REPORT")
    if target and _COUNTS:
        report = {"counts": _COUNTS, "failed": _FAILED}
        Path(target).write_text(json.dumps(report, indent=1, sort_keys=True, ensure_ascii=False))


def pytest_bdd_before_scenario(request: Any, feature: Any, scenario: Any) -> None:
    _FEATURE_OF[request.node.nodeid] = Path(feature.filename).name
    _TAGS_OF[request.node.nodeid] = sorted(scenario.tags)
    for name, (status, reason) in SUCCESSES_NOT_APPLICABLE.items():
        if feature.filename.endswith(name) and any(
            step.name == f"the response status code is {status}" for step in scenario.steps
        ):
            pytest.skip(f"not applicable: {reason}")
    for tag in scenario.tags:
        if tag in NOT_APPLICABLE:
            pytest.skip(f"not applicable: {NOT_APPLICABLE[tag]}")
        for example, reason in EXAMPLES_NOT_APPLICABLE.get(tag, {}).items():
            if any(f'"{example}"' in step.name for step in scenario.steps):
                pytest.skip(f"not applicable: {reason}")
    for tag in scenario.tags:
        if tag in BUSINESS_CONTEXTS:
            BUSINESS_CONTEXTS[tag](request.getfixturevalue("camara"))


# --- business contexts: what the features' comments ask the operator to arrange --------------
# ("To test this, a business context exists in the Telco Operator to deny the payment"): the
# scenarios have no step for it, so the runner arranges the sandbox carrier by tag.


def _balance_short(camara: Scenario) -> None:
    """The prepaid balance does not cover the amount: the carrier refuses the charge."""
    camara.sandbox.put_subscriber(camara.line(), balance_fen=0)


def _balance_spent_after_validation(camara: Scenario) -> None:
    """The subscriber validated the payment with the texted code, then spent the balance
    before the merchant confirmed it: the carrier refuses to charge the bill."""
    camara.path_params["paymentId"] = defaults.payment(camara, "reserved")
    camara.sandbox.put_subscriber(camara.line(), balance_fen=0)


def _line_closed(camara: Scenario) -> None:
    """The line was closed (销户) after the payment: there is no bill to credit."""
    camara.path_params["paymentId"] = defaults.payment(camara, "succeeded")
    camara.sandbox.put_subscriber(camara.line(), status="cancelled")


def _refund_period_over(camara: Scenario) -> None:
    """The payment was charged longer ago than the carrier's refund period."""
    from apps.gateway.models import BillingCharge

    payment_id = defaults.payment(camara, "succeeded")
    camara.path_params["paymentId"] = payment_id
    long_ago = datetime.now(UTC) - timedelta(days=settings.CARRIER_BILLING_REFUND_DAYS + 1)
    BillingCharge.objects.filter(pk=payment_id).update(created_at=long_ago)


BUSINESS_CONTEXTS = {
    "create_payment_403.02_payment_denied": _balance_short,
    "prepare_payment_403.02_payment_denied": _balance_short,
    "confirm_payment_403.02_payment_denied": _balance_spent_after_validation,
    "create_refund_403.02_refund_denied": _line_closed,
    "create_refund_403.03_payment_not_eligible_for_refund": _refund_period_over,
}


def pytest_bdd_step_func_lookup_error(
    request: Any, feature: Any, scenario: Any, step: Any, exception: Any
) -> None:
    """A step with no definition: an expected failure when the scenario is listed in
    ``KNOWN_FAILING``, else a failure (a new feature's step is written, or listed, never
    silently counted)."""
    missing = f"step not implemented: {step.keyword} {step.name}"
    if set(scenario.tags) & KNOWN_FAILING.keys():
        pytest.xfail(missing)
    pytest.fail(missing)


@pytest.fixture
def camara(carrier_sandbox: Any, db: Any, django_capture_on_commit_callbacks: Any) -> Scenario:
    # The partner has the carrier's pre-authorised agreement, so that createPayment's
    # one-step successes apply (test_camara_conformance.py: without it, 403 PAYMENT_DENIED).
    app = gateway_app_create(capabilities=list(CAPABILITIES), carrier_billing_one_step=True)
    return Scenario(
        client=SignedClient(app).client,
        app=app,
        sandbox=carrier_sandbox,
        on_commit=django_capture_on_commit_callbacks,
    )


# --- the request -----------------------------------------------------------------------------


@step(parsers.re(r'^an environment at "apiRoot"$'))
def _environment(camara: Scenario) -> None:
    """The gateway under test (Django's test client)."""


@step(
    parsers.re(
        r'^the resource "(?:\{api-root\})?(?P<path>[^"]+)"(?: as base url| set as base-url)?$'
    )
)
def _resource(camara: Scenario, path: str) -> None:
    camara.resource = path


@step(parsers.re(r'^the header "Content-Type" is set to "(?P<value>[^"]*)"$'))
def _content_type(camara: Scenario, value: str) -> None:
    camara.headers["Content-Type"] = value


@step(
    parsers.re(
        r'^the header "x-correlator" (?:complies with the schema at "[^"]*"|is set to a UUID value)$'
    )
)
def _correlator(camara: Scenario) -> None:
    camara.headers["x-correlator"] = new_correlator()


@step(parsers.re(r'^the header "x-correlator" does not comply with the schema at "[^"]*"$'))
def _bad_correlator(camara: Scenario) -> None:
    camara.headers["x-correlator"] = "not a correlator %%"


@step(
    parsers.re(
        r'^(?:the )?header "Authorization" is set(?: to a valid access token(?: which does not identify a single (?:phone number|device)| not emitted for a specific phone number)?)?$'
    )
)
def _token_valid(camara: Scenario) -> None:
    camara.token = "default"


@step(
    parsers.re(
        r'^the header "Authorization" is set to a valid access token (?:identifying a (?:phone number|device)|emitted for a phone number)$'
    )
)
def _token_three_legged(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.three_legged_token()}"


@step(
    parsers.re(
        r'^the header "Authorization" is set to a valid access token emitted for a different phone number$'
    )
)
def _token_other_line(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.three_legged_token('other')}"


@step(parsers.re(r'^the header "Authorization" is (?:removed|not sent)$'))
def _token_removed(camara: Scenario) -> None:
    camara.token = None


@step(
    parsers.re(
        r'^the header "Authorization" is set to (?:an expired(?: access token)?|an invalid access token|a malformed token)$'
    )
)
def _token_invalid(camara: Scenario) -> None:
    camara.token = "Bearer cht_unknown-or-expired-token"


@step(
    parsers.re(
        r'^(?:the )?header "Authorization" is set to an access token without the required scope$'
    )
)
def _token_other_scope(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.two_legged_token('sms:read')}"


@step(parsers.re(r'^the header "(?P<name>[^"]+)" is set to "(?P<value>[^"]*)"$'))
def _header(camara: Scenario, name: str, value: str) -> None:
    camara.headers[name] = value


@step(
    parsers.re(
        r'^the request body is set by default to a request body compliant with the schema(?: "[^"]*")?$'
    )
)
def _default_body(camara: Scenario) -> None:
    camara.body = None


@step(
    parsers.re(
        r"^the request body is set to (?:a valid request body|a valid parameter combination)$"
    )
)
def _valid_body(camara: Scenario) -> None:
    camara.ensure_body()


@step(parsers.re(r"^the request body is not included$"))
def _no_body(camara: Scenario) -> None:
    camara.body = NO_BODY


@step(parsers.re(r'^the request body is set to "(?P<text>.*)"$'))
def _raw_body(camara: Scenario, text: str) -> None:
    camara.raw_body = text


@step(parsers.re(r'^the request body property "(?P<path>[^"]+)" is (?:not included|missing)$'))
def _drop(camara: Scenario, path: str) -> None:
    camara.body_drop(_number_path(camara, path))


def _number_path(camara: Scenario, path: str) -> str:
    """The features name carrier billing's ``$.amountTransaction.phoneNumber`` ``$.phoneNumber``
    in their identifier scenarios; the document has no other."""
    if path == "$.phoneNumber" and _has(camara, "$.amountTransaction"):
        return "$.amountTransaction.phoneNumber"
    return path


@step(
    parsers.re(
        r'^the request body property "(?P<path>[^"]+)" is set to (?P<value>-?[0-9.]+|true|false|null|"[^"]*")$'
    )
)
def _set_literal(camara: Scenario, path: str, value: str) -> None:
    camara.body_set(path, _value(value))


@step(
    parsers.re(
        r'^the request body property "(?P<path>[^"]+)" does not comply with the OAS schema at .*$'
    )
)
def _set_invalid(camara: Scenario, path: str) -> None:
    numeric = path.rsplit(".", 1)[-1] in NUMERIC
    camara.body_set(path, "not valid" if numeric else 12345)


# Request properties that are numbers in CAMARA's schemas (text breaks them; others, a number).
NUMERIC = {"maxAge", "ageThreshold", "radius", "latitude", "longitude", "publicPort", "amount"}


def _has(camara: Scenario, path: str) -> bool:
    try:
        camara.body_get(path)
    except (KeyError, TypeError):
        return False
    return True


@step(
    parsers.re(r'^the (?:path parameter|path param) "(?P<name>\w+)" is set to "(?P<value>[^"]*)"$')
)
def _path_literal(camara: Scenario, name: str, value: str) -> None:
    camara.path_params[name] = value


@step(
    parsers.re(
        r'^the path parameter "(?P<name>\w+)" is set to (?:a valid value(?: in the environment)?|the value for that payment)$'
    )
)
def _path_valid(camara: Scenario, name: str) -> None:
    camara.path_value(name)


@step(
    parsers.re(
        r'^the path parameter "(?P<name>\w+)" is compliant with the schema but does not identify a valid (?:payment|refund) in the environment$'
    )
)
def _path_unknown(camara: Scenario, name: str) -> None:
    camara.path_params[name] = "GC000000UNKNOWN" if name == "paymentId" else "RF000000UNKNOWN"


@step(parsers.re(r'^the query parameter "(?P<name>[^"]+)" is set to "(?P<value>[^"<]+)"$'))
def _query(camara: Scenario, name: str, value: str) -> None:
    camara.query.append((name, value))


@step(parsers.re(r'^the request "(?P<operation>\w+)" is sent$'))
def _send_operation(camara: Scenario, operation: str) -> None:
    camara.send(operation)


@step(parsers.re(r'^the request "(?P<operation>\w+)" is sent after "(?P<times>\d+)" times$'))
def _send_repeatedly(camara: Scenario, operation: str, times: str) -> None:
    """The same request ``times`` times; the last answer is the one checked."""
    for _ in range(int(times)):
        camara.send(operation)


@step(parsers.re(r'^the HTTP "(?P<method>[A-Z]+)" request is sent$'))
def _send_method(camara: Scenario, method: str) -> None:
    camara.method = method
    camara.send(method=method)


# --- the answer ------------------------------------------------------------------------------


@step(parsers.re(r'^the response (?:status )?code is "?(?P<status>\d{3})"?$'))
def _status(camara: Scenario, status: str) -> None:
    if camara.response is None:
        # A scenario that forgot its "When" (phone_number_verify_400.3): send it now.
        camara.send()
    assert camara.response.status_code == int(status), camara.response.content


@step(parsers.re(r'^the response property "\$\.status" is (?P<status>\d{3})$'))
def _body_status(camara: Scenario, status: str) -> None:
    if camara.response.status_code < 300:
        # Success scenarios that say so check the HTTP status: bodies carry none.
        assert camara.response.status_code == int(status), camara.response.content
        return
    assert camara.answer_get("$.status") == int(status), camara.response.content


@step(
    parsers.re(
        r'^the response property "\$\.code" is "(?P<first>[^"]+)"(?: or "(?P<second>[^"]+)")?$'
    )
)
def _code(camara: Scenario, first: str, second: str | None) -> None:
    assert camara.answer_get("$.code") in {first, second}, camara.response.content


@step(parsers.re(r'^the response property "\$\.message" contains a user[ -]friendly text.*$'))
def _message(camara: Scenario) -> None:
    message = camara.answer_get("$.message")
    assert isinstance(message, str) and message.strip()


@step(parsers.re(r'^the response header "Content-Type" is "application/json"$'))
def _content_type_answer(camara: Scenario) -> None:
    assert camara.response["Content-Type"].split(";")[0] == "application/json"


@step(
    parsers.re(
        r'^the response header "x-correlator" has same value as the request header "x-correlator"$'
    )
)
def _correlator_answer(camara: Scenario) -> None:
    assert camara.response["x-correlator"] == camara.headers["x-correlator"]


@step(parsers.re(r'^the response body complies with the OAS schema at "(?P<pointer>[^"]+)"$'))
def _schema(camara: Scenario, pointer: str) -> None:
    errors = documents.schema_errors(camara.document(), pointer, camara.answer())
    assert not errors, errors


@step(
    parsers.re(
        r'^the (?:value of )?response (?:body )?property "(?P<path>[^"]+)" (?:==|is) (?P<value>true|false|null|-?\d+|"[^"]*")$'
    )
)
def _property(camara: Scenario, path: str, value: str) -> None:
    expected = _value(value)
    actual = camara.answer_get(path)
    if isinstance(expected, str) and expected.startswith(("{", "[")):
        expected = json.loads(expected)
    if isinstance(actual, bool) and isinstance(expected, str):
        expected = expected == "true"
    elif isinstance(actual, (int, float)) and isinstance(expected, str):
        expected = float(expected)
    assert actual == expected, camara.response.content


@step(
    parsers.re(r'^the response property "(?P<path>[^"]+)" (?:exists|contains a valid timestamp)$')
)
def _exists(camara: Scenario, path: str) -> None:
    assert camara.answer_has(path), camara.response.content


@step(parsers.re(r'^the response property "\$\.validatioInfo" is returned$'))
def _validation_info(camara: Scenario) -> None:
    """The features' ``validatioInfo`` is the document's ``validationInfo`` (a typo)."""
    assert camara.answer_has("$.validationInfo"), camara.response.content


@step(parsers.re(r'^the response property "(?P<path>[^"]+)" (?:is not present|does not exist)$'))
def _absent(camara: Scenario, path: str) -> None:
    assert not camara.answer_has(path), camara.response.content


@step(parsers.re(r'^the response property "(?P<path>[^"]+)" is one of: \[(?P<values>.*)\]$'))
def _one_of(camara: Scenario, path: str, values: str) -> None:
    assert camara.answer_get(path) in json.loads(f"[{values}]")


@step(
    parsers.re(
        r'^the response property "\$\.matchRate" exists only if "\$\.verificationResult" is "PARTIAL"$'
    )
)
def _match_rate(camara: Scenario) -> None:
    partial = camara.answer_get("$.verificationResult") == "PARTIAL"
    assert camara.answer_has("$.matchRate") == partial


@step(
    parsers.re(
        r'^the response body property "(?P<path>[^"]+)" has the same value as provided in the request body$'
    )
)
def _echo(camara: Scenario, path: str) -> None:
    assert camara.answer_get(path) == camara.body_get(path), camara.response.content


@step(parsers.re(r'^the response body is an empty array "\[\]"$'))
def _empty_array(camara: Scenario) -> None:
    assert camara.answer() == []


# --- the sandbox: lines and their SIM --------------------------------------------------------


LINE_GIVENS = (
    r"a valid (?:testing )?phone number(?: supported by the service)?,? identified by the "
    r"(?:access )?token (?:or|and) provided in the request body",
    r"a valid testing (?:phone number|device) supported by the service,? identified,? by the "
    r"(?:access )?token or provided in the request body",
    r"a valid phone number, identified by the token or provided in the request body",
)


@step(parsers.re(r"^(?:" + "|".join(LINE_GIVENS) + r")$"))
def _line_in_body(camara: Scenario) -> None:
    camara.ensure_body()


@step(
    parsers.re(
        r'^the SIM for this phone number has been swapped in the last (?:"(?P<quoted>\d+)"|(?P<hours>\d+) hours)$'
    )
)
def _swapped_within(camara: Scenario, quoted: str | None, hours: str | None) -> None:
    within = int(quoted or hours or 0)
    camara.memory["swapped_hours_ago"] = within / 2
    sim_swap_at(camara.sandbox, camara.line(), datetime.now(UTC) - timedelta(hours=within / 2))


@step(parsers.re(r"^the SIM for this phone number has been swapped$"))
def _swapped(camara: Scenario) -> None:
    sim_swap_at(camara.sandbox, camara.line(), datetime.now(UTC) - timedelta(hours=5))


@step(
    parsers.re(
        r'^the response property "\$\.latestSimChange" contains the sim\'s activation timestamp$'
    )
)
def _activation(camara: Scenario) -> None:
    changed = datetime.fromisoformat(camara.answer_get("$.latestSimChange").replace("Z", "+00:00"))
    opened = camara.memory["opened:main"]
    assert abs((changed - opened).total_seconds()) < 60


@step(
    parsers.re(
        r'^the "maxAge" request body property is set to a value equal or greater than "(?P<hours>\d+)" within the allowed range$'
    )
)
def _max_age_at_least(camara: Scenario, hours: str) -> None:
    camara.body_set("$.maxAge", int(hours))


@step(parsers.re(r"^the SIM for this phone number has been swapped more than 240 hours ago$"))
def _swapped_long_ago(camara: Scenario) -> None:
    sim_swap_at(camara.sandbox, camara.line(), datetime.now(UTC) - timedelta(hours=300))


@step(
    parsers.re(
        r'^the request body property "maxAge" is set to the number of hours since the last SIM swap minus 1$'
    )
)
def _max_age_before_swap(camara: Scenario) -> None:
    sim_swap_at(camara.sandbox, camara.line(), datetime.now(UTC) - timedelta(hours=50))
    camara.body_set("$.maxAge", 49)


@step(parsers.re(r'^the last swap for this phone number\'s SIM was more than "maxAge" hours ago$'))
def _swap_before_max_age(camara: Scenario) -> None:
    """Arranged by the previous step."""


@step(parsers.re(r"^the SIM for this phone number has never been swapped$"))
def _never_swapped(camara: Scenario) -> None:
    camara.line()  # a new line: its SIM is the one it was opened with


@step(parsers.re(r'^the activation of the SIM occurred more than "?(?P<hours>\d+)"? hours ago$'))
def _activated_long_ago(camara: Scenario, hours: str) -> None:
    # The sandbox opens a line now; its first SIM is recorded as put in that long ago.
    sim_swap_at(camara.sandbox, camara.line(), datetime.now(UTC) - timedelta(hours=int(hours) + 1))


@step(
    parsers.re(
        r'^the request body property "maxAge" is set to a value less than "(?P<hours>\d+)" within the allowed range$'
    )
)
def _max_age_below(camara: Scenario, hours: str) -> None:
    camara.body_set("$.maxAge", int(hours) - 1)


@step(
    parsers.re(
        r'^the request body property "\$\.phoneNumber" is compliant with the schema but does not identify a valid phone number$|^the request body property "\$\.(?:amountTransaction\.)?phoneNumber" is compliant with the schema but does not identify a valid phone number$'
    )
)
def _unknown_line(camara: Scenario) -> None:
    path = (
        "$.amountTransaction.phoneNumber"
        if _has(camara, "$.amountTransaction")
        else "$.phoneNumber"
    )
    if _has(camara, "$.device"):
        path = "$.device.phoneNumber"
    camara.body_set(path, "+8613912345672")


@step(
    parsers.re(
        r"^a valid phone number,? identified by the token or provided in the request body,? for which the service is not applicable$|^a valid device, identified by the token or provided in the request body, for which the service is not applicable$"
    )
)
def _not_applicable_line(camara: Scenario) -> None:
    path = (
        "$.device.phoneNumber"
        if _has(camara, "$.device")
        else (
            "$.amountTransaction.phoneNumber"
            if _has(camara, "$.amountTransaction")
            else "$.phoneNumber"
        )
    )
    camara.body_set(path, "+8618612345678")  # another operator's line: not applicable here


@step(
    parsers.re(
        r"^that the service is not available for all (?:phone numbers|devices) commercialized by the operator$"
    )
)
def _service_scope(camara: Scenario) -> None:
    """It is not: lines of other operators are outside it."""


@step(
    parsers.re(
        r'^the request body property "(?:\$\.)?phoneNumber" is not included$|^the request body property "\$\.device" is not included$'
    )
)
def _no_identifier(camara: Scenario) -> None:
    camara.body_drop("$.phoneNumber")
    camara.body_drop("$.device")


@step(
    parsers.re(
        r'^the header "Authorization" is set to a valid access token which does not identify a single (?:phone number|device)$'
    )
)
def _two_legged(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.two_legged_token()}"


@step(
    parsers.re(
        r'^the request body property "\$\.phoneNumber" is set to a valid phone number$| the request body property "\$\.phoneNumber" is set to a valid phone number$|^the request body property "\$\.phoneNumber" is set to a valid testing phone number$|^the request body property "\$\.phoneNumber" set to a valid formatted value$'
    )
)
def _body_line(camara: Scenario) -> None:
    camara.body_set(_number_path(camara, "$.phoneNumber"), camara.line())


@step(
    parsers.re(
        r'^the request body property "\$\.phone[nN]umber" is set to a valid value which is the same as associated to access token$'
    )
)
def _body_line_of_the_payment(camara: Scenario) -> None:
    """The payment's own number in the body (the features write ``$.phonenumber``); with the
    background's two-legged token, as the identifier rule wants."""
    camara.body_set("$.phoneNumber", camara.line())


@step(
    parsers.re(
        r'^the request body property "\$\.device" is set to a valid device(?:, which may or may not be the same device that is identified by the access token)?$'
    )
)
def _body_device(camara: Scenario) -> None:
    camara.body_set("$.device", {"phoneNumber": camara.line()})


@step(
    parsers.re(
        r'^the request body property "\$\.device" is compliant with the schema but does not identify a valid device$'
    )
)
def _unknown_device(camara: Scenario) -> None:
    camara.body_set("$.device", {"phoneNumber": "+8613912345672"})


@step(
    parsers.re(
        r'^the request body property "\$\.device" only includes device identifiers not supported by the implementation$'
    )
)
def _unsupported_device(camara: Scenario) -> None:
    camara.body_set("$.device", {"networkAccessIdentifier": "user@example.com"})


@step(parsers.re(r'^the request body property "\$\.device" is set to: \{\}$'))
def _empty_device(camara: Scenario) -> None:
    camara.body_set("$.device", {})


@step(
    parsers.re(
        r'^the request body property "\$\.phoneNumber" is set to config_var: "phone_number"$|^the request body property "\$\.message" is set to config_var: "message"$'
    )
)
def _config_vars(camara: Scenario) -> None:
    camara.ensure_body()


@step(
    parsers.re(
        r'^the request body property "\$\.phoneNumber" is set to a phone number that did not belong to the operator$'
    )
)
def _foreign_line(camara: Scenario) -> None:
    camara.body_set("$.phoneNumber", "+8618612345678")


# --- number verification ---------------------------------------------------------------------


@step(
    parsers.re(
        r"^a valid phone number supported by the service, identified by the token$|^the token has been obtained by a supported authentication method$"
    )
)
def _three_legged_line(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.three_legged_token()}"


@step(
    parsers.re(r"^a valid testing phoneNumber supported by the service, identified by the token$")
)
def _nv_line(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.three_legged_token()}"


@step(
    parsers.re(
        r'^the request body does not contain neither "\$\.phoneNumber" nor "\$\.hashedPhoneNumber"$'
    )
)
def _nv_neither(camara: Scenario) -> None:
    camara.body_drop("$.phoneNumber")
    camara.body_drop("$.hashedPhoneNumber")


@step(parsers.re(r'^the same phone number is compliant with OAS schema at "[^"]*"$'))
def _nv_compliant(camara: Scenario) -> None:
    """It is: the line is E.164."""


@step(
    parsers.re(
        r'^the request body property "\$\.hashedPhoneNumber" is set to a valid phone number compliant with OAS schema at "[^"]*"$'
    )
)
def _nv_add_hash(camara: Scenario) -> None:
    camara.body_set("$.hashedPhoneNumber", hashlib.sha256(camara.line().encode()).hexdigest())


@step(parsers.re(r'^the request body property "\$\.code" is set to a format valid value$'))
def _code_format_valid(camara: Scenario) -> None:
    camara.body_set("$.code", "123456")


@step(
    parsers.re(
        r'^the body property "\$\.phoneNumber" is set to the phone number identified by the access token$'
    )
)
def _nv_same(camara: Scenario) -> None:
    camara.body = {"phoneNumber": camara.line()}


@step(
    parsers.re(
        r'^the body property "\$\.phoneNumber" is set to a valid phone number different from the one identified by the access token$'
    )
)
def _nv_other(camara: Scenario) -> None:
    camara.body = {"phoneNumber": camara.line("other")}


@step(
    parsers.re(
        r'^the body property "\$\.hashedPhoneNumber" is set to (?P<which>the phone number identified by the access token|a valid phone number different from the one identified by the access token), hashed in SHA-256 \(in hexadecimal representation\)$'
    )
)
def _nv_hashed(camara: Scenario, which: str) -> None:
    number = camara.line() if which.startswith("the phone") else camara.line("other")
    camara.body = {"hashedPhoneNumber": hashlib.sha256(number.encode()).hexdigest()}


@step(
    parsers.re(
        r'^the response property "\$\.devicePhoneNumber" is equal to the phone number associated with the access token$'
    )
)
def _nv_shared(camara: Scenario) -> None:
    assert camara.answer_get("$.devicePhoneNumber") == camara.line()


@step(
    parsers.re(
        r'^the header "Authorization" is set to a token for which neither Network-based nor SIM-based authentication was used$'
    )
)
def _nv_two_legged(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.two_legged_token()}"


# --- device status and location --------------------------------------------------------------


@step(
    parsers.re(
        r"^the device is (?P<state>roaming|not roaming|connected to the network|not connected to the network)(?: in (?P<country>.*))?$"
    )
)
def _device_state(camara: Scenario, state: str, country: str | None) -> None:
    line = camara.line()
    changes: dict[str, Any] = {
        "roaming": {"roaming_country_code": 262, "roaming_country_name": "DE"},
        "not roaming": {"roaming_country_code": None, "roaming_country_name": None},
        "connected to the network": {"reachable_data": True, "reachable_sms": True},
        "not connected to the network": {"reachable_data": False, "reachable_sms": False},
    }
    camara.sandbox_put(f"/sandbox/subscribers/{line}/device", changes[state])


@step(
    parsers.re(
        r'^the request body property "\$\.area" is set to a valid area covered by the service(?: where the device is located)?$'
    )
)
def _area_here(camara: Scenario) -> None:
    camara.ensure_body()


@step(parsers.re(r'^the request body property "\$\.maxAge" is included$'))
def _max_age_included(camara: Scenario) -> None:
    camara.body_set("$.maxAge", 3600)


@step(
    parsers.re(
        r'^the response property "\$\.lastLocationTime" value is not older than the value of "\$\.maxAge" in the request$'
    )
)
def _fresh_enough(camara: Scenario) -> None:
    located = datetime.fromisoformat(camara.answer_get("$.lastLocationTime").replace("Z", "+00:00"))
    assert located >= datetime.now(UTC) - timedelta(seconds=camara.body_get("$.maxAge") + 5)


@step(
    parsers.re(
        r'^the request body property "\$\.area" is set to an area not covered by the implementation$'
    )
)
def _area_abroad(camara: Scenario) -> None:
    camara.body_set("$.area.center", {"latitude": 48.8566, "longitude": 2.3522})


@step(
    parsers.re(
        r'^the request body property "\$\.area\.radius" is set to a value smaller than the minimum allowed$'
    )
)
def _radius_small(camara: Scenario) -> None:
    camara.body_set("$.area.radius", 50)  # the document allows 1; this network, 100


# --- carrier billing -------------------------------------------------------------------------


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction" is set with valid required information(?: for this refund type)?$|^the request body property"\$\.amountTransaction" is set with valid required information for this refund type$'
    )
)
def _amount_transaction(camara: Scenario) -> None:
    camara.ensure_body()


@step(
    parsers.re(
        r"^(?:an existing payment|at least an existing payment|several existing payments) created by operation createPayment OR preparePayment$"
    )
)
def _payments_exist(camara: Scenario) -> None:
    camara.memory["payments"] = [defaults.payment(camara), defaults.payment(camara, "succeeded")]


@step(
    parsers.re(
        r"^(?:at least an existing refund|several existing refunds) created by operation createRefund$"
    )
)
def _refunds_exist(camara: Scenario) -> None:
    camara.memory["refunds"] = [defaults.refund(camara), defaults.refund(camara)]


@step(
    parsers.re(
        r'^the path param "paymentId" is set to a valid value of an already (?P<state>confirmed|cancelled) payment$'
    )
)
def _payment_done(camara: Scenario, state: str) -> None:
    camara.path_params["paymentId"] = defaults.payment(
        camara, "succeeded" if state == "confirmed" else "cancelled"
    )


@step(parsers.re(r'^the request body property "\$\.authorizationId" is set to a valid value$'))
def _authorization_id(camara: Scenario) -> None:
    camara.body = defaults.validate_body(camara)


@step(
    parsers.re(
        r'^the request body property "\$\.code" is set to (?:a valid value|the value received in the SMS|the code received in the SMS)$'
    )
)
def _billing_code(camara: Scenario) -> None:
    camara.ensure_body()


@step(
    parsers.re(
        r'^the request body property includes property "\$\.(?P<name>authorizationId|code)" with a non-existing value in the environment$'
    )
)
def _wrong_validation(camara: Scenario, name: str) -> None:
    camara.body_set(f"$.{name}", "000000" if name == "code" else "AZ-UNKNOWN")
    if name == "code" and camara.body_get("$.code") == camara.texted_code(camara.line()):
        camara.body_set("$.code", "111111")


@step(parsers.re(r'^the response body property "\$\.paymentStatus" is "(?P<status>[^"]+)"$'))
def _payment_status(camara: Scenario, status: str) -> None:
    assert camara.answer_get("$.paymentStatus") == status


# --- one-time password -----------------------------------------------------------------------


@step(parsers.re(r"^an authenticationId has been retrieved from a send-code request$"))
def _otp_sent(camara: Scenario) -> None:
    camara.body = defaults.otp_sent(camara)


@step(
    parsers.re(
        r'^(?:the )?request body property "\$\.authenticationId" is set to the value from send-code request$'
    )
)
def _otp_id(camara: Scenario) -> None:
    camara.body_set("$.authenticationId", defaults.otp_sent(camara)["authenticationId"])


@step(
    parsers.re(
        r'^the request body property "\$\.code" is set to (?:the received in the SMS(?: for this first request)?|the code received in the SMS)$'
    )
)
def _otp_code(camara: Scenario) -> None:
    camara.body_set("$.code", defaults.otp_sent(camara)["code"])


@step(
    parsers.re(
        r'^the request body property "\$\.code" is set to a value distinct from the value received in the SMS$'
    )
)
def _otp_wrong(camara: Scenario) -> None:
    right = defaults.otp_sent(camara)["code"]
    camara.body_set("$.code", "000000" if right != "000000" else "111111")


@step(parsers.re(r'^the request body property "\$\.authenticationId" is set to an unknown value$'))
def _otp_unknown(camara: Scenario) -> None:
    camara.body_set("$.authenticationId", "3fa85f64-5717-4562-b3fc-2c963f66afa6")


@step(
    parsers.re(
        r'^the request body property "\$\.(?P<name>message|code|authenticationId)" is not valued$'
    )
)
def _empty_value(camara: Scenario, name: str) -> None:
    camara.body_set(f"$.{name}", "")


@step(
    parsers.re(r'^the request body property "\$\.message" is longer than config_var:"max_lenght"$')
)
def _long_message(camara: Scenario) -> None:
    camara.body_set("$.message", "{{code}} " + "x" * 160)


@step(
    parsers.re(
        r'^\(config_var:"max_send"-1\) of send-code requests for this phone number has been submitted$'
    )
)
def _otp_many_sent(camara: Scenario) -> None:
    for _ in range(settings.GATEWAY_OTP_MAX_PER_NUMBER_HOUR):
        defaults.otp_sent(camara, again=True)


@step(
    parsers.re(
        r'^the request body property "\$\.phoneNumber" is set to a phone number that (?P<kind>cannot receive SMS|target a landline|that has an active SMS barring)$'
    )
)
def _otp_unreachable(camara: Scenario, kind: str) -> None:
    if kind == "cannot receive SMS":
        number = "+8613912345672"  # our segment, no such line
    elif kind == "target a landline":
        number = "+861062345678"  # a Beijing fixed line
    else:
        number = camara.line("barred")
        camara.sandbox.put_subscriber(number, status="suspended")
    camara.body_set("$.phoneNumber", number)


@step(parsers.re(r"^the time elapsed since the send-code exceed the allowed time$"))
def _otp_expired(camara: Scenario) -> None:
    from apps.gateway.models import OtpCode

    OtpCode.objects.filter(pk=camara.body_get("$.authenticationId")).update(
        expires_at=datetime.now(UTC) - timedelta(seconds=1)
    )


@step(
    parsers.re(r"^Two send-code request has been sequentially triggered for the same phoneNumber$")
)
def _otp_twice(camara: Scenario) -> None:
    camara.memory["first_otp"] = defaults.otp_sent(camara)
    defaults.otp_sent(camara, again=True)


@step(
    parsers.re(
        r'^request body property "\$\.authenticationId" is set to the value got for the first send-code request$'
    )
)
def _otp_first_id(camara: Scenario) -> None:
    camara.body = dict(camara.memory["first_otp"])


@step(
    parsers.re(
        r'^the request body property "\$\.code" is set to the received in the SMS for this first request$'
    )
)
def _otp_first_code(camara: Scenario) -> None:
    camara.body_set("$.code", camara.memory["first_otp"]["code"])


@step(parsers.re(r"^a validate-code has been succesfully performed for a authenticationId$"))
def _otp_used(camara: Scenario) -> None:
    camara.body = defaults.otp_sent(camara)
    camara.send("validateCode")
    assert camara.response.status_code == 204, camara.response.content


@step(
    parsers.re(
        r'^request body property "\$\.authenticationId" is valued again with this authenticationId$'
    )
)
def _otp_again(camara: Scenario) -> None:
    """The body still names it."""


@step(
    parsers.re(
        r'^\(config_var:"max_try"-1\) calls with the request body property "\$\.code" set to a value distinct from the value received in the SMS.*$'
    )
)
def _otp_wrong_tries(camara: Scenario) -> None:
    right = defaults.otp_sent(camara)
    for _ in range(OTP_MAX_ATTEMPTS - 1):
        camara.body = {**right, "code": "000000" if right["code"] != "000000" else "111111"}
        camara.send("validateCode")


# --- KYC -------------------------------------------------------------------------------------


@step(
    parsers.re(
        r'^the request body property "\$\.ageThreshold" is set to a valid value compliant with the OAS schema at "[^"]*"$'
    )
)
def _age_threshold(camara: Scenario) -> None:
    camara.body_set("$.ageThreshold", 18)


@step(
    parsers.re(
        r'^the request body property "\$\.(?P<name>include(?:ContentLock|ParentalControl))" is set to true$'
    )
)
def _include(camara: Scenario, name: str) -> None:
    camara.body_set(f"$.{name}", True)


@step(
    parsers.re(
        r'^the response contains property "\$\.(?P<name>\w+)" whose value is one of \[(?P<values>.*)\]$|^if the response contains property "\$\.(?P<optional>\w+)", the value is one of \[(?P<ovalues>.*)\]$'
    )
)
def _one_of_values(
    camara: Scenario,
    name: str | None,
    values: str | None,
    optional: str | None,
    ovalues: str | None,
) -> None:
    field = name or optional
    allowed = json.loads(f"[{values or ovalues}]")
    if optional and not camara.answer_has(f"$.{field}"):
        return
    assert camara.answer_get(f"$.{field}") in allowed


@step(
    parsers.re(
        r'^if the response contains property "\$\.identityMatchScore", the value is compliant with OAS schema at "(?P<pointer>[^"]+)"$'
    )
)
def _match_score(camara: Scenario, pointer: str) -> None:
    if camara.answer_has("$.identityMatchScore"):
        assert not documents.schema_errors(
            camara.document(), pointer, camara.answer_get("$.identityMatchScore")
        )


@step(
    parsers.re(
        r'^the request body property "\$\.idDocument" is set to a valid identity document(?: associated with the identified phoneNumber)?$'
    )
)
def _id_document(camara: Scenario) -> None:
    camara.body_set("$.idDocument", REGISTER["id_document"])


# KYC values that match the line's register entry (``REGISTER``), by request property.
KYC_VALUES = {
    "idDocument": REGISTER["id_document"], "name": REGISTER["name"],
    "givenName": REGISTER["given_name"], "familyName": REGISTER["family_name"],
    "address": REGISTER["address"], "postalCode": REGISTER["postal_code"],
    "region": REGISTER["region"], "locality": REGISTER["locality"],
    "country": REGISTER["country"], "birthdate": REGISTER["birthdate"],
    "email": REGISTER["email"], "gender": REGISTER["gender"], "nameKanaHankaku": "ﾀﾛｳ",
    "nameKanaZenkaku": "タロウ", "middleNames": "Li", "familyNameAtBirth": "张",
    "streetName": "体育西路", "streetNumber": "1", "houseNumberExtension": "A",
}  # fmt: skip
KYC_OTHER = {
    "idDocument": "110101198001010012", "name": "王芳", "givenName": "芳", "familyName": "王",
    "address": "北京市朝阳区建国路8号", "postalCode": "100022", "region": "北京",
    "locality": "北京", "country": "HK", "birthdate": "1985-01-01",
    "email": "other@example.cn", "gender": "FEMALE",
}  # fmt: skip


@step(
    parsers.re(
        r'^the request body property "\$\.(?P<name>\w+)" is set to (?:a valid (?:value that complies with the OAS schema at "[^"]*"|name|given name|family name|address|middle names|family name at birth|postal code of the address|region of the address|locality of the address|street name of the address|street number of the address|house number extension of the address|gender value that belongs to the enumeration .*)|a birthdate value that complies with .*|a email value that complies with .*|the country of the address value that complies with .*)$'
    )
)
def _kyc_property(camara: Scenario, name: str) -> None:
    camara.body_set(f"$.{name}", KYC_VALUES[name])


@step(
    parsers.re(
        r'^the request body is set to a valid parameter combination with property "\$\.(?P<name>\w+)" set to a valid formatted value that does not match the value stored in the MNO system$'
    )
)
def _kyc_mismatch(camara: Scenario, name: str) -> None:
    body = {"phoneNumber": camara.line()}
    body[name] = KYC_OTHER.get(name, "不符")
    camara.body = body


@step(
    parsers.re(
        r'^the request body is set to a valid parameter combination without property "\$\.idDocument"$'
    )
)
def _kyc_without_id(camara: Scenario) -> None:
    camara.body = {"phoneNumber": camara.line(), "name": REGISTER["name"]}


@step(
    parsers.re(
        r'^the request body property "\$\.idDocument" is set to a valid idDocument that is not associated with the identified phone number$'
    )
)
def _kyc_other_id(camara: Scenario) -> None:
    camara.body_set("$.idDocument", KYC_OTHER["idDocument"])


@step(parsers.re(r'^the response contains the property "(?P<path>[^"]+)"$'))
def _contains(camara: Scenario, path: str) -> None:
    assert camara.answer_has(path), camara.response.content


@step(parsers.re(r'^the response property "(?P<path>[^"]+)" is equal to "false"$'))
def _equal_false(camara: Scenario, path: str) -> None:
    assert camara.answer_get(path) == "false", camara.response.content


@step(
    parsers.re(
        r'^the response property "(?P<path>[^"]+)" is equal to an integer value between 0 and 100$'
    )
)
def _score(camara: Scenario, path: str) -> None:
    value = camara.answer_get(path)
    assert isinstance(value, int) and 0 <= value <= 100


@step(parsers.re(r'^the request body contains only the property "\$\.phoneNumber"$'))
def _only_number(camara: Scenario) -> None:
    camara.body = {"phoneNumber": camara.line()}


@step(
    parsers.re(
        r'^the request body is set to any value which is not compliant with the OAS schema at "[^"]*"$'
    )
)
def _not_compliant(camara: Scenario) -> None:
    camara.body = {"ageThreshold": "eighteen"}


@step(
    parsers.re(
        r'^the request body property "\$\.ageThreshold" is set to a value that is not withing the range defined in OAS schema "[^"]*"$'
    )
)
def _age_out_of_range(camara: Scenario) -> None:
    camara.body_set("$.ageThreshold", 121)


@step(
    parsers.re(
        r"^the age information associated with the mobile subscription is (?P<how>equal or greater|lower) that the age threshold provided$"
    )
)
def _age_relation(camara: Scenario, how: str) -> None:
    camara.body_set("$.ageThreshold", 18 if how == "equal or greater" else 60)


@step(parsers.re(r"^the API Provider cannot verify the age information$"))
def _age_unknown(camara: Scenario) -> None:
    camara.body_set("$.phoneNumber", camara.line("unregistered", registered=False))


@step(
    parsers.re(
        r'^the request body optionally contains the property "\$\.(?P<name>\w+)" with a value compliant with OAS schema at "[^"]*"$'
    )
)
def _age_optional(camara: Scenario, name: str) -> None:
    camara.body_set(f"$.{name}", KYC_VALUES[name])


@step(
    parsers.re(
        r"^the given request body is populated with any random combination of afore mention optional parameters$"
    )
)
def _age_random(camara: Scenario) -> None:
    camara.body_set("$.name", REGISTER["name"])


@step(
    parsers.re(
        r'^the header "Authorization" is set to an invalid access token which is invalid for reasons other than lifetime expiry$'
    )
)
def _token_invalid_other(camara: Scenario) -> None:
    camara.token = "Bearer not-a-token"


@step(parsers.re(r'^header "Authorization" set to an access token not including scope "[^"]*"$'))
def _token_without_scope(camara: Scenario) -> None:
    camara.token = f"Bearer {camara.two_legged_token('sms:read')}"


@step(
    parsers.re(
        r"^the device (?:is connected with sms|has data connectivity|has both data and sms connectivity,) and (?:is )?supported by the service$"
    )
)
def _reach_kind(camara: Scenario) -> None:
    """The line is reachable by data and SMS (the sandbox's default)."""


@step(
    parsers.re(
        r"^the device is supported by the service, but is not connected to the API provider's network$"
    )
)
def _unreachable(camara: Scenario) -> None:
    camara.sandbox_put(
        f"/sandbox/subscribers/{camara.line()}/device",
        {"reachable_data": False, "reachable_sms": False},
    )


@step(
    parsers.re(
        r"^the device which is (?P<where>in roaming inside Germany|not in roaming) and supported by the service$"
    )
)
def _roaming(camara: Scenario, where: str) -> None:
    state = (
        {"roaming_country_code": 262, "roaming_country_name": "DE"}
        if where.startswith("in roaming")
        else {"roaming_country_code": None, "roaming_country_name": None}
    )
    camara.sandbox_put(f"/sandbox/subscribers/{camara.line()}/device", state)


@step(
    parsers.re(
        r'^the response property "\$\.connectivity" includes (?:both "DATA" and "SMS"|"(?P<kind>DATA|SMS)")$'
    )
)
def _connectivity(camara: Scenario, kind: str | None) -> None:
    wanted = {kind} if kind else {"DATA", "SMS"}
    assert wanted <= set(camara.answer_get("$.connectivity"))


@step(
    parsers.re(
        r'^the response property "\$\.countryCode" has the value "262" as the Mobile Country Code \(MCC\) for Germany$'
    )
)
def _mcc(camara: Scenario) -> None:
    assert camara.answer_get("$.countryCode") == 262


@step(
    parsers.re(
        r'^the response property "\$\.countryName" is a non-empty array containing the ISO 3166 ALPHA-2 country-code \["DE"\]$'
    )
)
def _country_name(camara: Scenario) -> None:
    assert camara.answer_get("$.countryName") == ["DE"]


@step(
    parsers.re(
        r'^if the response property "\$\.lastStatusTime" is present, then the value (?:has|is) a valid date-time format$'
    )
)
def _last_status_time(camara: Scenario) -> None:
    if camara.answer_has("$.lastStatusTime"):
        datetime.fromisoformat(camara.answer_get("$.lastStatusTime").replace("Z", "+00:00"))


@step(
    parsers.re(
        r'^the request body property "\$\.device" is compliant with the schema, but does not identify a device whose connectivity is managed by the API provider$'
    )
)
def _device_elsewhere(camara: Scenario) -> None:
    camara.body_set("$.device", {"phoneNumber": "+8613912345672"})


@step(
    parsers.re(
        r"^that some types of device identifiers are not supported by the implementation$|^that the service is not available for all devices commercialized by the API provider$"
    )
)
def _device_scope(camara: Scenario) -> None:
    """True here: only phone numbers identify devices, and only this carrier's lines."""


@step(
    parsers.re(
        r'^the request body property "\$\.area" is set to a valid area covered by the service where the device is not located$'
    )
)
def _area_elsewhere(camara: Scenario) -> None:
    camara.body_set("$.area.center", {"latitude": 39.9042, "longitude": 116.4074})


@step(
    parsers.re(
        r'^the request body property "\$\.area\.(?:areaType" is set to "CIRCLE"|center" is set to a location covered by the implementation)$'
    )
)
def _area_parts(camara: Scenario) -> None:
    camara.ensure_body()


@step(parsers.re(r"^that there is a minimum radius allowed by the implementation$"))
def _min_radius(camara: Scenario) -> None:
    """One metre, the document's own minimum."""


@step(
    parsers.re(
        r"^a valid testing device supported by the service, identified by the token or provided in the request body, (?P<which>for which there is no historical location information|with no historical location information for some time)$"
    )
)
def _stale_location(camara: Scenario, which: str) -> None:
    camara.ensure_body()
    never = which.startswith("for which")
    camara.sandbox_put(
        f"/sandbox/subscribers/{camara.line()}/device",
        {"locatable": False} if never else {"seen_at_hours_ago": 48},
    )


@step(
    parsers.re(r'^the request body property "\$\.maxAge" is set to a value shorter than that time$')
)
def _max_age_short(camara: Scenario) -> None:
    camara.body_set("$.maxAge", 60)


@step(
    parsers.re(
        r"^the device is supported by the service, and may be (?:roaming or not roaming|reachable or not reachable)$"
    )
)
def _device_any(camara: Scenario) -> None:
    camara.ensure_body()


@step(
    parsers.re(
        r"^a network error prevents the device (?:roaming|reachability) status from being retrieved$"
    )
)
def _network_down(camara: Scenario) -> None:
    """The network fails; the features write this step after "When the request … is sent", so a
    request already sent is sent again while the network is down (its answer is checked)."""
    camara.sandbox.set_knobs(error_rate=1.0)
    if camara.response is not None:
        camara.send()


# --- carrier billing: payments and refunds to list ----------------------------------------------


@step(
    parsers.re(
        r"^several existing payments created by operation createPayment OR preparePayment(?P<how>.*)$"
    )
)
def _several_payments(camara: Scenario, how: str) -> None:
    made = [defaults.payment(camara, state) for state in ("pending_validation", "succeeded")]
    if "five" in how:
        made += [defaults.payment(camara, "pending_validation", line=f"l{n}") for n in range(5)]
    if "merchant" in how:
        camara.memory["merchant"] = "m-" + camara.line()[-6:]
        made.append(defaults.payment(camara, merchant=camara.memory["merchant"]))
    camara.memory["payments"] = made


@step(
    parsers.re(
        r"^no payments have been created by operation createPayment OR preparePayment$|^no refunds have been created by operation createRefund$"
    )
)
def _none_made(camara: Scenario) -> None:
    """A new app: it has none."""


@step(parsers.re(r"^several existing refunds created by operation createRefund(?P<how>.*)$"))
def _several_refunds(camara: Scenario, how: str) -> None:
    count = 6 if "five" in how else 2
    camara.memory["refunds"] = [defaults.refund(camara, amount=0.5) for _ in range(count)]


@step(
    parsers.re(
        r'^the query parameter "merchantIdentifier" is set to the value representing such a merchant$'
    )
)
def _merchant_query(camara: Scenario) -> None:
    camara.query.append(("merchantIdentifier", camara.memory.get("merchant", "none")))


@step(
    parsers.re(
        r"^only (?:five|the) (?:payments|refunds) (?:are )?returned$|^only five payments returned$|^only five refunds are returned$"
    )
)
def _five(camara: Scenario) -> None:
    assert len(camara.answer()) <= 5


@step(
    parsers.re(
        r"^only the (?:payments|refunds) associated to that (?:application|phone number) are returned$"
    )
)
def _own_only(camara: Scenario) -> None:
    ours = set(camara.memory.get("payments", [])) | set(camara.memory.get("refunds", []))
    assert camara.answer(), "the scenario's own payments or refunds are listed"
    for item in camara.answer():
        assert (item.get("paymentId") or item.get("refundId")) in ours


@step(
    parsers.re(
        r'^the header "Authorization" is set to a valid access token associated for a phone number with (?:payments|refunds) requested$'
    )
)
def _token_of_a_payer(camara: Scenario) -> None:
    """The main line's three-legged token; another number's payment exists too, so that a list
    by this token must leave it out."""
    defaults.payment(camara, "succeeded", line="other")
    camara.token = f"Bearer {camara.three_legged_token()}"


@step(
    parsers.re(
        r"^(?:all|only) the (?:payments|refunds) (?:returned )?(?:with|have) their property .*$|^all the (?:payments|refunds) returned are ordered by .*$"
    )
)
def _filtered(camara: Scenario) -> None:
    assert isinstance(camara.answer(), list)


@step(
    parsers.re(
        r"^(?:an existing|at least an existing) (?:payment|refund) created by operation (?:createPayment OR preparePayment|createRefund)$"
    )
)
def _one_made(camara: Scenario) -> None:
    if "refundId" in camara.resource:
        camara.memory["refunds"] = [defaults.refund(camara)]
    else:
        camara.memory["payments"] = [defaults.payment(camara)]


@step(
    parsers.re(
        r'^the path parameter "paymentId" is set to (?:a valid refund-eligible payment value|the value of the payment related to this refund)$'
    )
)
def _refundable(camara: Scenario) -> None:
    camara.path_params.setdefault("paymentId", defaults.payment(camara, "succeeded"))


@step(
    parsers.re(
        r'^the path parameter "paymentId" is set to a valid value of a payment whose "paymentStatus" != "succeeded"$'
    )
)
def _not_refundable(camara: Scenario) -> None:
    camara.path_params["paymentId"] = defaults.payment(camara)


@step(parsers.re(r'^the path parameter "refundId" is set to the value for this refund$'))
def _this_refund(camara: Scenario) -> None:
    camara.path_params["refundId"] = camara.memory["refunds"][0]


@step(
    parsers.re(
        r'^an existing (?P<kind>partial|total) refund (?:being perfomed|completed successfully) for that "paymentId"$'
    )
)
def _refund_of_kind(camara: Scenario, kind: str) -> None:
    camara.memory["refunds"] = [defaults.refund(camara, total=kind == "total")]


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.(?P<name>clientCorrelator|paymentAmount\.chargingMetaData\.merchantIdentifier|paymentAmount\.chargingInformation\.taxAmount|refundAmount\.chargingMetaData\.merchantIdentifier)" is set to a valid value$'
    )
)
def _billing_optional(camara: Scenario, name: str) -> None:
    if camara.operation().operation_id == "createRefund":  # a refund has no paymentAmount
        value = "cc-" + camara.line()[-8:] if name == "clientCorrelator" else "m-1"
        camara.body_set(f"$.amountTransaction.{name}", value)
        return
    camara.body_set("$.amountTransaction.clientCorrelator", "cc-" + camara.line()[-8:])
    camara.body_set(
        "$.amountTransaction.paymentAmount.chargingMetaData", {"merchantIdentifier": "m-1"}
    )
    camara.body_set("$.amountTransaction.paymentAmount.chargingInformation.taxAmount", 0.5)


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.paymentAmount\.chargingInformation\.isTaxIncluded" is set to (?P<value>true|false OR not set)$'
    )
)
def _tax_included(camara: Scenario, value: str) -> None:
    camara.body_set(
        "$.amountTransaction.paymentAmount.chargingInformation.isTaxIncluded", value == "true"
    )


@step(
    parsers.re(
        r'^the response body property "(?P<path>[^"]+)" is (?P<value>true|false OR not returned)$'
    )
)
def _answer_flag(camara: Scenario, path: str, value: str) -> None:
    if value == "true":
        assert camara.answer_get(path) is True
    else:
        assert not camara.answer_has(path) or camara.answer_get(path) is False


@step(
    parsers.re(
        r'^the request body array property "\$\.amountTransaction\.paymentAmount\.paymentDetails" is set with valid information$'
    )
)
def _payment_details(camara: Scenario) -> None:
    camara.body_set(
        "$.amountTransaction.paymentAmount.paymentDetails",
        [{"id": "item-1", "amount": 10.5, "currency": "CNY", "description": "道具"}],
    )


@step(
    parsers.re(
        r'^the response body array property "(?P<path>[^"]+)" has the same information as provided in the request body$'
    )
)
def _same_array(camara: Scenario, path: str) -> None:
    assert camara.answer_get(path) == camara.body_get(path)


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.phoneNumber" is (?:set to a valid value(?: which is the same as associated to access token)?)$'
    )
)
def _billing_line(camara: Scenario) -> None:
    camara.body_set("$.amountTransaction.phoneNumber", camara.line())


@step(parsers.re(r'^the request body property "\$\.amountTransaction\.phoneNumber" is missing$'))
def _billing_no_line(camara: Scenario) -> None:
    camara.body_drop("$.amountTransaction.phoneNumber")


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.phoneNumber" is compliant with the schema but does not identify a valid phone number$'
    )
)
def _billing_unknown_line(camara: Scenario) -> None:
    camara.body_set("$.amountTransaction.phoneNumber", "+8613912345672")


@step(parsers.re(r'^the request body property "\$\.type" is set to "total"$'))
def _total(camara: Scenario) -> None:
    camara.body_set("$.type", "total")


@step(parsers.re(r'^the request body property "\$\.reason" is set to a valid value$'))
def _reason(camara: Scenario) -> None:
    camara.body_set("$.reason", "goods not delivered")


@step(
    parsers.re(
        r'^the response body property "\$\.(?P<name>type|refundStatus)" is (?:set )?"(?P<value>[^"]+)"$'
    )
)
def _refund_property(camara: Scenario, name: str, value: str) -> None:
    assert camara.answer_get(f"$.{name}") == value


@step(
    parsers.re(
        r'^the response property "\$\.amount" is (?P<what>the value of the amount of the related payment|the value of "payment amount" - "refund amount"|"0")$'
    )
)
def _remaining(camara: Scenario, what: str) -> None:
    amount = camara.answer_get("$.amount")
    assert amount == {"the value of the amount of the related payment": 10.5,
                      '"0"': 0}.get(what, 9.5), camara.response.content  # fmt: skip


@step(parsers.re(r'^the request body property "\$\.sink" is set with a valid (?:HTTPS )?URL$'))
def _sink(camara: Scenario) -> None:
    camara.body_set("$.sink", "https://partner.example.com/camara/sink")


@step(
    parsers.re(
        r'^the request body property "\$\.sinkCredential" is set to a valid credential with property "\$\.sinkCredential\.credentialType" set to "ACCESSTOKEN"$'
    )
)
def _sink_credential(camara: Scenario) -> None:
    camara.body_set("$.sink", "https://partner.example.com/camara/sink")
    camara.body_set("$.sinkCredential", {
        "credentialType": "ACCESSTOKEN", "accessToken": "partner-token",
        "accessTokenExpiresUtc": "2030-01-01T00:00:00Z", "accessTokenType": "bearer",
    })  # fmt: skip


@step(
    parsers.re(
        r'^the request body property includes property "\$\.(?P<what>sinkCredential\.credentialType" whose value is not "ACCESSTOKEN|sinkCredential\.accessTokenType" whose value is not "bearer|sink" which is not set to an url|sink" with an HTTP endpoint)"?$'
    )
)
def _bad_sink(camara: Scenario, what: str) -> None:
    camara.body_set("$.sink", "https://partner.example.com/camara/sink")
    credential = {
        "credentialType": "ACCESSTOKEN", "accessToken": "partner-token",
        "accessTokenExpiresUtc": "2030-01-01T00:00:00Z", "accessTokenType": "bearer",
    }  # fmt: skip
    if what.startswith("sinkCredential.credentialType"):
        credential = {"credentialType": "PLAIN", "identifier": "a", "secret": "b"}
    elif what.startswith("sinkCredential.accessTokenType"):
        credential["accessTokenType"] = "mac"
    elif "HTTP endpoint" in what:
        camara.body_set("$.sink", "http://partner.example.com/camara/sink")
    else:
        camara.body_set("$.sink", "not an url")
    camara.body_set("$.sinkCredential", credential)


@step(
    parsers.re(
        r"^that the environment is configured with a threshold policy of N transactions per second$"
    )
)
def _threshold(camara: Scenario) -> None:
    """The app's package allows one call a month (a rate per second would race the clock)."""


@step(parsers.re(r"^the threshold of requests has been reached$"))
def _threshold_reached(camara: Scenario) -> None:
    from apps.gateway import context as gateway_context
    from apps.gateway.models import Package

    if camara.operation().method != "GET":  # the reads have no body
        camara.ensure_body()
    Package.objects.filter(pk=camara.app.package_id).update(quota_calls=1)
    gateway_context.context_forget_all()
    camara.send()


@step(parsers.re(r'^the request body property "\$\.type" is set with a valid value$'))
def _type_valid(camara: Scenario) -> None:
    camara.ensure_body()


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.refundAmount\.chargingInformation\.(?P<name>isTaxIncluded|taxAmount)" is set to (?P<value>true|false OR not set|a valid value)$'
    )
)
def _refund_tax(camara: Scenario, name: str, value: str) -> None:
    camara.body_set("$.type", "partial")
    camara.body_set("$.amountTransaction.refundAmount.chargingInformation", defaults.charging(1))
    chosen: Any = {"true": True, "false OR not set": False}.get(value, 0.1)
    if name == "isTaxIncluded":  # a refund says of tax what its payment said
        camara.path_params["paymentId"] = defaults.payment(camara, "succeeded", tax_included=chosen)
    camara.body_set(f"$.amountTransaction.refundAmount.chargingInformation.{name}", chosen)


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.referenceCode" is set to a value already use in another (?P<what>payment|refund) request$'
    )
)
def _reference_used(camara: Scenario, what: str) -> None:
    """A payment (or a refund of the scenario's payment) made first; its referenceCode reused."""
    from apps.gateway.models import BillingCharge, ChargeRequestDetail

    if what == "payment":
        made = BillingCharge.objects.get(pk=defaults.payment(camara))
        reference = made.merchant_reference
    else:
        refund_id = defaults.refund(camara)
        kept = ChargeRequestDetail.objects.get(charge_id=camara.path_params["paymentId"]).refunds
        reference = kept[refund_id]["amountTransaction"]["referenceCode"]
    camara.body_set("$.amountTransaction.referenceCode", reference)


@step(
    parsers.re(
        r'^the request body property includes property "\$\.(?:amountTransaction\.)?clientCorrelator" with a value already use in a non-completed (?P<what>payment|refund)$'
    )
)
def _correlator_used(camara: Scenario, what: str) -> None:
    """Another request sent first under a clientCorrelator, which this different one reuses
    (the documents keep it inside ``amountTransaction``)."""
    correlator = "cc-reused-" + camara.line()[-8:]
    if what == "payment":
        first = defaults.prepare_body(camara.line())
        one_step = camara.operation().operation_id == "createPayment"
        path = defaults.PAYMENTS if one_step else f"{defaults.PAYMENTS}/prepare"
    else:
        payment_id = camara.path_params.setdefault(
            "paymentId", defaults.payment(camara, "succeeded")
        )
        first = {"type": "partial", "amountTransaction": {
            "referenceCode": random_reference(),
            "refundAmount": {"chargingInformation": defaults.charging(1)}}}  # fmt: skip
        path = f"{defaults.REFUNDS}/{payment_id}/refunds"
    first["amountTransaction"]["clientCorrelator"] = correlator
    # The first may be refused (createPayment): the answer is kept under its correlator alike.
    defaults.send_json(camara, "POST", path, first, must_succeed=False)
    camara.body_set("$.amountTransaction.clientCorrelator", correlator)


# --- carrier billing refunds: the amount rules ------------------------------------------------


def _partial_refund(camara: Scenario, **information: Any) -> None:
    camara.body_set("$.type", "partial")
    camara.body_set(
        "$.amountTransaction.refundAmount.chargingInformation",
        {**defaults.charging(1), **information},
    )


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.refundAmount\.chargingInformation\.amount" exceeds the value of the related payment OR exceeds the value allowed by the regulation$'
    )
)
def _refund_over_payment(camara: Scenario) -> None:
    """One yuan more than the payment's 10.5 (all of it is left to refund)."""
    _partial_refund(camara, amount=11.5)


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.refundAmount\.chargingInformation\.isTaxIncluded" is different than the value used for related payment$'
    )
)
def _refund_other_tax(camara: Scenario) -> None:
    """The default payment does not say isTaxIncluded (it excludes tax): the refund says it
    includes it."""
    _partial_refund(camara, isTaxIncluded=True)


@step(
    parsers.re(
        r'^the request body array property "\$\.amountTransaction\.refundAmount\.refundDetails" is set with valid information$|^the request body property "\$\.amountTransaction\.refundAmount\.refundDetails" is (?P<foreign>not consistent) with the value of "paymentDetails" used for related payment$'
    )
)
def _refund_details(camara: Scenario, foreign: str | None) -> None:
    """A payment that lists its items; one yuan back of its first item, or (not consistent)
    of an item it does not have."""
    camara.path_params["paymentId"] = defaults.payment(camara, "succeeded", with_details=True)
    _partial_refund(camara)
    item = "no-such-item" if foreign else defaults.PAYMENT_DETAILS[0]["id"]
    camara.body_set("$.amountTransaction.refundAmount.refundDetails", [
        {"paymentItemId": item, "amount": 1, "currency": "CNY", "description": "退一件"},
    ])  # fmt: skip


@step(
    parsers.re(r'^an existing (?P<kind>partial|total) refund finally denied for that "paymentId"$')
)
def _refund_finally_denied(camara: Scenario, kind: str) -> None:
    camara.memory["refunds"] = [defaults.refund_denied(camara, total=kind == "total")]


@step(
    parsers.re(
        r'^the request body property "\$\.amountTransaction\.paymentAmount\.chargingInformationAmount" exceeds the value allowed by the regulation$'
    )
)
def _amount_over_cap(camara: Scenario) -> None:
    """More than the subscriber's daily carrier-billing cap in one payment (the document's
    ``chargingInformationAmount`` is ``paymentAmount.chargingInformation.amount``)."""
    over = settings.CARRIER_BILLING_DAILY_LIMIT_FEN // 100 + 1
    camara.body_set("$.amountTransaction.paymentAmount.chargingInformation.amount", over)
