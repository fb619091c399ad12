"""UnionPay's signMethod 01 rule: the string it signs, round trips, tampering, answer parsing."""

import base64
import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from apps.payments.providers import unionpay_sign

EXAMPLE = {
    "version": "5.1.0",
    "encoding": "UTF-8",
    "txnType": "01",
    "merId": "777290058110048",
    "orderId": "PI20240101ABCDEFGH",
    "txnAmt": "1234",
    "orderDesc": "话费充值 50元",
    "frontUrl": "https://m.example.com/pay/return?a=1&b=2",
    "reqReserved": "",
    "signature": "ignored",
}
EXAMPLE_STRING = (
    "encoding=UTF-8"
    "&frontUrl=https://m.example.com/pay/return?a=1&b=2"
    "&merId=777290058110048"
    "&orderDesc=话费充值 50元"
    "&orderId=PI20240101ABCDEFGH"
    "&txnAmt=1234"
    "&txnType=01"
    "&version=5.1.0"
)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def test_string_to_sign_sorts_the_non_empty_fields_but_signature():
    assert unionpay_sign.string_to_sign(EXAMPLE) == EXAMPLE_STRING


def test_digest_is_lower_case_hex_sha256_of_the_utf8_string():
    expected = hashlib.sha256(EXAMPLE_STRING.encode("utf-8")).hexdigest()
    assert unionpay_sign.digest_hex(EXAMPLE) == expected
    assert expected == expected.lower()
    assert len(expected) == 64


def test_signature_is_rsa_sha256_over_the_hex_digest(key):
    signature = unionpay_sign.sign(EXAMPLE, key)

    raw = base64.b64decode(signature, validate=True)
    hex_digest = unionpay_sign.digest_hex(EXAMPLE).encode("ascii")
    key.public_key().verify(raw, hex_digest, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        key.public_key().verify(raw, EXAMPLE_STRING.encode(), padding.PKCS1v15(), hashes.SHA256())
    # PKCS#1 v1.5 is deterministic: the same fields give the same signature.
    assert unionpay_sign.sign(dict(EXAMPLE), key) == signature


def test_round_trip(key):
    message = {k: v for k, v in EXAMPLE.items() if k != "signature"}
    message["signature"] = unionpay_sign.sign(message, key)

    assert unionpay_sign.verify(message, key.public_key()) is True


@pytest.mark.parametrize(
    "tamper",
    [
        lambda m: m.update(txnAmt="1235"),
        lambda m: m.update(orderDesc="话费充值 500元"),
        lambda m: m.pop("orderId"),
        lambda m: m.update(extra="1"),
        lambda m: m.update(signature=m["signature"][:-4] + "AAA="),
        lambda m: m.update(signature="not base64!"),
        lambda m: m.pop("signature"),
    ],
    ids=["amount", "chinese-text", "removed", "added", "signature", "garbage", "unsigned"],
)
def test_tampering_is_detected(key, tamper):
    message = {k: v for k, v in EXAMPLE.items() if k != "signature"}
    message["signature"] = unionpay_sign.sign(message, key)
    tamper(message)

    assert unionpay_sign.verify(message, key.public_key()) is False


def test_another_key_does_not_verify(key):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = dict(EXAMPLE, signature=unionpay_sign.sign(EXAMPLE, other))

    assert unionpay_sign.verify(message, key.public_key()) is False


def test_empty_fields_do_not_change_the_signature(key):
    signature = unionpay_sign.sign(EXAMPLE, key)
    without_empty = {k: v for k, v in EXAMPLE.items() if v != ""}

    assert unionpay_sign.verify(dict(without_empty, signature=signature), key.public_key())


def test_parse_answer_keeps_raw_values_and_bracketed_fields():
    text = "respCode=00&signature=ab+c/d==&reserved={a=1&b=2}&list=[x&y]&respMsg=成功[0000000]"

    assert unionpay_sign.parse_answer(text) == {
        "respCode": "00",
        "signature": "ab+c/d==",
        "reserved": "{a=1&b=2}",
        "list": "[x&y]",
        "respMsg": "成功[0000000]",
    }
