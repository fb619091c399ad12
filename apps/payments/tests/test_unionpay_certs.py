"""UnionPay's signing certificates: a message is trusted only with a certificate that chains to the root.

Messages are signed here as UnionPay 5.1.0 signs them (``certId`` = the signing certificate's
serial, ``signPubKeyCert`` = its PEM), with certificates issued by the development middle CA (as
the sandbox's are) or by CAs the platform does not trust.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone

from apps.payments.models import PaymentEvent, PaymentIntent
from apps.payments.providers import unionpay_sign
from apps.payments.providers.base import InvalidNotification
from apps.payments.providers.unionpay import UnionpayProvider
from apps.payments.providers.unionpay_certs import CertificateRefused
from config.devkeys import dev_rsa_private_pem, dev_unionpay_cert_pem

UNIONPAY_CN = "041@Z00000000000000@中国银联股份有限公司@00000002"
NOW = datetime.now(UTC)


def _private(name: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(dev_rsa_private_pem(name).encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _cert(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(dev_unionpay_cert_pem(name).encode())


@pytest.fixture(scope="module")
def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def issue(
    key: rsa.RSAPrivateKey,
    *,
    issuer: x509.Certificate | None = None,
    issuer_key: rsa.RSAPrivateKey | None = None,
    cn: str = UNIONPAY_CN,
    serial: int | None = None,
    not_before: datetime = NOW - timedelta(days=30),
    not_after: datetime = NOW + timedelta(days=365),
    ca: bool = False,
    subject: x509.Name | None = None,
) -> x509.Certificate:
    """A certificate for ``key``; by default a signing certificate of the dev middle CA."""
    if issuer is None:
        issuer, issuer_key = _cert("unionpay-middle-ca"), _private("unionpay-middle-ca")
    assert issuer_key is not None
    return (
        x509.CertificateBuilder()
        .subject_name(subject or _name(cn))
        .issuer_name(issuer.subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number() >> 120)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )


def self_signed(key: rsa.RSAPrivateKey, cn: str) -> x509.Certificate:
    name = _name(cn)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number() >> 120)
        .not_valid_before(NOW - timedelta(days=1))
        .not_valid_after(NOW + timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode().replace("\n", "\r\n")


def notification(
    key: rsa.RSAPrivateKey, certificate: x509.Certificate, *, cert_id: str | None = None
) -> dict[str, str]:
    """A consumption's back notification signed by ``key``, bringing ``certificate``."""
    fields = {
        "version": "5.1.0", "encoding": "UTF-8", "signMethod": "01", "txnType": "01",
        "txnSubType": "01", "bizType": "000201", "accessType": "0", "merId": "777290058110048",
        "orderId": "PI26120700000000000009", "txnTime": "20261207100000", "txnAmt": "1200",
        "currencyCode": "156", "queryId": "120710000012345678901", "respCode": "00",
        "respMsg": "成功[0000000]", "traceNo": "000001", "traceTime": "1207100001",
        "certId": cert_id or str(certificate.serial_number), "signPubKeyCert": _pem(certificate),
    }  # fmt: skip
    fields["signature"] = unionpay_sign.sign(fields, key)
    return fields


def provider(**overrides: object) -> UnionpayProvider:
    values: dict = {
        "mer_id": "777290058110048",
        "gateway": "http://127.0.0.1:9/gateway/api",
        "merchant_private_key": dev_rsa_private_pem("unionpay-merchant"),
        "merchant_cert": dev_unionpay_cert_pem("unionpay-merchant"),
        "root_certs": dev_unionpay_cert_pem("unionpay-root-ca"),
        "middle_certs": dev_unionpay_cert_pem("unionpay-middle-ca"),
        "refund_back_url": "http://127.0.0.1:9/refund",
        "timeout": 1.0,
    }
    values.update(overrides)
    return UnionpayProvider(**values)


def accepted(unionpay: UnionpayProvider, fields: dict[str, str]) -> bool:
    try:
        unionpay.verify_notification(body=b"", headers={}, form=fields)
    except InvalidNotification:
        return False
    return True


def test_the_sandbox_signing_certificate_chains_to_the_dev_root():
    unionpay = provider()
    fields = notification(_private("unionpay-platform"), _cert("unionpay-platform"))

    note = unionpay.verify_notification(body=b"", headers={}, form=fields)

    assert (note.status, note.amount_fen) == ("succeeded", 1200)


def test_a_valid_chain_is_accepted(new_key):
    assert accepted(provider(), notification(new_key, issue(new_key)))


def test_a_self_signed_certificate_is_refused(new_key):
    with pytest.raises(InvalidNotification, match="does not chain"):
        provider().verify_notification(
            body=b"", headers={}, form=notification(new_key, self_signed(new_key, UNIONPAY_CN))
        )


def test_a_certificate_of_a_foreign_chain_is_refused(new_key):
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    root = self_signed(root_key, "CarrierHub Sandbox UnionPay Root CA")
    middle_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    middle = issue(
        middle_key, issuer=root, issuer_key=root_key, cn="CarrierHub Sandbox UnionPay Middle CA",
        ca=True,
    )  # fmt: skip
    signing = issue(new_key, issuer=middle, issuer_key=middle_key)
    fields = notification(new_key, signing)

    assert not accepted(provider(), fields)
    # The same certificate is trusted by a platform configured with that chain.
    assert accepted(provider(root_certs=_pem(root), middle_certs=_pem(middle)), fields)


def test_a_middle_certificate_not_issued_by_the_root_counts_for_nothing(new_key):
    middle_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    middle = self_signed(middle_key, "CarrierHub Sandbox UnionPay Middle CA")
    with pytest.raises(ValueError, match="middle"):
        provider(middle_certs=_pem(middle))


def test_an_expired_certificate_is_refused(new_key):
    expired = issue(
        new_key, not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(minutes=1)
    )
    later = issue(new_key, not_before=NOW + timedelta(days=1))

    with pytest.raises(InvalidNotification, match="expired"):
        provider().verify_notification(body=b"", headers={}, form=notification(new_key, expired))
    assert not accepted(provider(), notification(new_key, later))


def test_a_cached_certificate_is_refused_once_it_expires(new_key):
    unionpay = provider()
    signing = issue(new_key, not_after=NOW + timedelta(days=2))
    fields = notification(new_key, signing)
    assert accepted(unionpay, fields)

    with pytest.raises(CertificateRefused, match="expired"):
        unionpay.certificates.signing_key(fields, now=NOW + timedelta(days=3))


def test_a_cert_id_that_is_not_the_certificates_serial_is_refused(new_key):
    signing = issue(new_key)

    with pytest.raises(InvalidNotification, match="serial"):
        provider().verify_notification(
            body=b"",
            headers={},
            form=notification(new_key, signing, cert_id=str(signing.serial_number + 1)),
        )
    assert not accepted(provider(), {**notification(new_key, signing), "certId": "69629715588"})


def test_a_trusted_certificate_does_not_vouch_for_another_key(new_key):
    """Signed by a key that is not the certificate's: the signature check fails."""
    assert not accepted(provider(), notification(new_key, _cert("unionpay-platform")))


def test_a_message_without_its_certificate_is_refused():
    fields = notification(_private("unionpay-platform"), _cert("unionpay-platform"))
    del fields["signPubKeyCert"]
    fields["signature"] = unionpay_sign.sign(fields, _private("unionpay-platform"))

    assert not accepted(provider(), fields)


def test_the_certificate_must_name_unionpay_unless_told_otherwise(new_key):
    test_environment = notification(new_key, issue(new_key, cn="041@Z1@00040000:SIGN@00000001"))
    someone = notification(new_key, issue(new_key, cn="041@Z1@某某公司@00000001"))
    ca = notification(new_key, issue(new_key, ca=True))

    assert not accepted(provider(), test_environment)
    assert accepted(provider(validate_cn_name=False), test_environment)
    assert not accepted(provider(validate_cn_name=False), someone)
    assert not accepted(provider(), ca)


def test_a_rotated_signing_certificate_is_accepted_without_a_restart(new_key):
    unionpay = UnionpayProvider.from_settings()  # the process's adapter, as the views use it
    old = notification(_private("unionpay-platform"), _cert("unionpay-platform"))
    assert accepted(unionpay, old)

    rotated = issue(new_key, cn="041@Z00000000000000@中国银联股份有限公司@00000003")
    new = notification(new_key, rotated)

    assert accepted(UnionpayProvider.from_settings(), new)
    assert UnionpayProvider.from_settings() is unionpay
    # Messages still in flight with the old certificate verify too.
    assert accepted(unionpay, old)


def test_the_merchant_cert_id_is_its_certificates_serial(new_key):
    unionpay = provider()

    assert unionpay.cert_id == str(_cert("unionpay-merchant").serial_number)
    with pytest.raises(ValueError, match="not the certificate"):
        provider(merchant_cert=_pem(issue(new_key)))


@pytest.mark.django_db
def test_a_notification_with_a_foreign_certificate_is_stored_unverified(client, new_key):
    intent = PaymentIntent.objects.create(
        public_id="PI26120700000000000009", purpose="order", reference="CH1", method="unionpay",
        channel="front", amount_fen=1200, idempotency_key="k", status="pending",
        expires_at=timezone.now() + timedelta(minutes=15),
    )  # fmt: skip
    fields = notification(new_key, self_signed(new_key, UNIONPAY_CN))

    response = client.post("/payments/notify/unionpay/", fields)

    assert (response.status_code, response.content) == (400, b"fail")
    event = PaymentEvent.objects.get()
    assert event.verified is False
    assert event.outcome.startswith("invalid:UnionPay certificate")
    intent.refresh_from_db()
    assert intent.status == "pending"


def test_a_signing_certificate_under_an_expired_middle_certificate_is_refused(new_key):
    middle_key = _private("unionpay-middle-ca")
    expired_middle = issue(
        middle_key,
        issuer=_cert("unionpay-root-ca"),
        issuer_key=_private("unionpay-root-ca"),
        subject=_cert("unionpay-middle-ca").subject,
        not_before=NOW - timedelta(days=400),
        not_after=NOW - timedelta(days=1),
        ca=True,
    )
    fields = notification(new_key, issue(new_key))

    with pytest.raises(InvalidNotification, match="middle certificate has expired"):
        provider(middle_certs=_pem(expired_middle)).verify_notification(
            body=b"", headers={}, form=fields
        )
    # Next to its renewal (same key and name), the chain holds.
    both = _pem(expired_middle) + dev_unionpay_cert_pem("unionpay-middle-ca")
    assert accepted(provider(middle_certs=both), fields)
