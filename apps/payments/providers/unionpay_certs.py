"""UnionPay's signing certificates (全渠道 5.1.0): which certificate a message is signed with, and whether to trust it.

Every message UnionPay signs carries ``certId`` (the decimal serial number of its signing
certificate) and ``signPubKeyCert`` (that certificate, PEM). The certificate is trusted, as
UnionPay's own SDKs do, when:

1. it parses and its serial number, in decimal, is the message's ``certId``;
2. it is issued directly by one of the configured middle certificates
   (``verify_directly_issued_by``), and that middle certificate by one of the configured roots
   (checked once, when the store is made);
3. today is within the validity dates of the certificate and of the middle certificate;
4. it is not a CA, and if it says what its key is for, that includes digital signatures;
5. the third ``@``-separated part of its subject CN is UnionPay's company name
   (``中国银联股份有限公司``), unless ``validate_cn_name`` is off: UnionPay's test environment signs
   with certificates named ``00040000:SIGN``, which are then accepted too.

A certificate that passed is kept by serial number (a few at a time), so the next message that
brings the same certificate skips the chain check; its dates are checked on every use. A
message bringing a new certificate (UnionPay rotates its signing certificate) is checked the
same way and then used: no restart, no configuration change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

UNIONPAY_CN_NAME = "中国银联股份有限公司"
TEST_CN_NAME = "00040000:SIGN"
_KEEP = 8  # verified signing certificates kept at once (UnionPay has one, two while rotating)


class CertificateRefused(Exception):
    """The message's signing certificate is not one UnionPay's roots vouch for (``reason`` says why)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def load_certificates(pem: str) -> list[x509.Certificate]:
    """Every certificate of a PEM bundle (one or more ``BEGIN CERTIFICATE`` blocks)."""
    certificates = x509.load_pem_x509_certificates(pem.encode())
    if not certificates:
        raise ValueError("no certificate in the PEM")
    return certificates


def cert_id(certificate: x509.Certificate) -> str:
    """UnionPay's certId of a certificate: its serial number in decimal."""
    return str(certificate.serial_number)


def _valid_at(certificate: x509.Certificate, now: datetime) -> bool:
    return certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _company(certificate: x509.Certificate) -> str:
    """The third ``@``-separated part of the subject CN, as UnionPay's SDKs read it."""
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    parts = str(names[0].value).split("@") if names else []
    return parts[2] if len(parts) > 2 else ""


class CertificateStore:
    """The trusted roots and middle certificates, and the signing certificates already verified.

    Thread-safe: the provider adapter is shared by every request of a process.
    """

    def __init__(
        self,
        *,
        roots: Iterable[x509.Certificate],
        middles: Iterable[x509.Certificate],
        validate_cn_name: bool = True,
    ) -> None:
        self._roots = list(roots)
        # A middle certificate counts only if one of the roots issued it.
        self._middles = [m for m in middles if any(_issued_by(m, r) for r in self._roots)]
        if not self._middles:
            raise ValueError("no UnionPay middle certificate is issued by a configured root")
        self._validate_cn_name = validate_cn_name
        self._verified: OrderedDict[str, x509.Certificate] = OrderedDict()
        self._lock = threading.Lock()

    def signing_key(
        self, fields: Mapping[str, str], *, now: datetime | None = None
    ) -> RSAPublicKey:
        """The public key to verify ``fields`` with, from its trusted ``signPubKeyCert``."""
        now = now or datetime.now(UTC)
        wanted = fields.get("certId", "")
        pem = fields.get("signPubKeyCert", "")
        if not wanted or not pem:
            raise CertificateRefused("no certId or signPubKeyCert")
        try:
            certificate = x509.load_pem_x509_certificate(pem.encode())
        except ValueError as exc:
            raise CertificateRefused("signPubKeyCert is not a certificate") from exc
        if cert_id(certificate) != wanted:
            raise CertificateRefused("certId is not the certificate's serial")
        with self._lock:
            known = self._verified.get(wanted)
        if known is None or known != certificate:
            self._check_chain(certificate, now)
        elif not _valid_at(certificate, now):
            raise CertificateRefused("the signing certificate has expired")
        with self._lock:
            self._verified[wanted] = certificate
            self._verified.move_to_end(wanted)
            while len(self._verified) > _KEEP:
                self._verified.popitem(last=False)
        key = certificate.public_key()
        if not isinstance(key, RSAPublicKey):
            raise CertificateRefused("the signing certificate's key is not RSA")
        return key

    def _check_chain(self, certificate: x509.Certificate, now: datetime) -> None:
        issuers = [m for m in self._middles if _issued_by(certificate, m)]
        if not issuers:
            raise CertificateRefused("the signing certificate does not chain to the root")
        if not _valid_at(certificate, now):
            raise CertificateRefused("the signing certificate has expired")
        # A renewed middle certificate may share its key and name with the one it replaces.
        if not any(_valid_at(middle, now) for middle in issuers):
            raise CertificateRefused("the middle certificate has expired")
        try:
            constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
            if constraints.value.ca:
                raise CertificateRefused("the signing certificate is a CA")
        except x509.ExtensionNotFound:
            pass
        try:
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
            if not usage.value.digital_signature:
                raise CertificateRefused("the signing certificate is not for signatures")
        except x509.ExtensionNotFound:
            pass
        company = _company(certificate)
        allowed = {UNIONPAY_CN_NAME} if self._validate_cn_name else {UNIONPAY_CN_NAME, TEST_CN_NAME}
        if company not in allowed:
            raise CertificateRefused("the signing certificate is not UnionPay's")
