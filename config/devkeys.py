"""Keys for the zero-config run and the tests: generated on first use under var/keys/, never committed.

The sandbox signs as Alipay, WeChat Pay and UnionPay do, with RSA keys made here; the
platform verifies with the matching public keys. In production every key comes from the
environment (see README: Configuration) and nothing here is used.
"""

from __future__ import annotations

import fcntl
import functools
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from config.embedded import VAR_DIR

KEY_DIR = VAR_DIR / "keys"


def _locked_create(path: Path, make: Callable[[], bytes]) -> bytes:
    KEY_DIR.mkdir(parents=True, exist_ok=True)
    os.chmod(KEY_DIR, 0o700)
    with open(KEY_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not path.exists():
            data = make()
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.chmod(0o600)
            tmp.replace(path)
    return path.read_bytes()


@functools.cache
def dev_rsa_private_pem(name: str) -> str:
    """The PEM (PKCS#8) of the RSA-2048 private key called ``name``, created if missing."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def make() -> bytes:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    return _locked_create(KEY_DIR / f"{name}.pem", make).decode()


@functools.cache
def dev_rsa_public_pem(name: str) -> str:
    """The PEM (SubjectPublicKeyInfo) of the public half of ``name``."""
    from cryptography.hazmat.primitives import serialization

    private = serialization.load_pem_private_key(dev_rsa_private_pem(name).encode(), password=None)
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@functools.cache
def dev_secret(name: str, length: int = 32) -> str:
    """A random printable secret of ``length`` characters (e.g. WeChat Pay's APIv3 key)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    value = _locked_create(
        KEY_DIR / f"{name}.secret",
        lambda: "".join(secrets.choice(alphabet) for _ in range(length)).encode(),
    )
    return value.decode()


# UnionPay's certificates as the sandbox plays them: a root CA, a middle CA it issues, and under
# the middle CA the sandbox's signing certificate (``acp_*_verify_sign.cer``) and the merchant's
# (the one in the merchant's ``.pfx``; its serial is the merchant's certId). Each is built from
# its dev key with fixed names, serial and dates, so the same keys always give the same bytes.
UNIONPAY_CN_NAME = "中国银联股份有限公司"
_UNIONPAY_CERTS = {
    # name: (issuer key, subject CN, is a CA)
    "unionpay-root-ca": ("unionpay-root-ca", "CarrierHub Sandbox UnionPay Root CA", True),
    "unionpay-middle-ca": ("unionpay-root-ca", "CarrierHub Sandbox UnionPay Middle CA", True),
    "unionpay-platform": (
        "unionpay-middle-ca",
        f"041@Z00000000000000@{UNIONPAY_CN_NAME}@00000001",
        False,
    ),
    "unionpay-merchant": ("unionpay-middle-ca", "041@Z777290058110048@merchant@00000001", False),
}


def dev_cert_serial(public_der: bytes) -> int:
    """A serial of 11 to 12 decimal digits, like UnionPay's certIds, from a public key's DER."""
    import hashlib

    return 10**10 + int.from_bytes(hashlib.sha256(b"serial:" + public_der).digest()[:5], "big")


@functools.cache
def dev_unionpay_cert_pem(name: str) -> str:
    """The PEM certificate of the dev key ``name`` (one of ``_UNIONPAY_CERTS``), created if missing."""
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    issuer_key_name, common_name, is_ca = _UNIONPAY_CERTS[name]

    def subject(cn: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CarrierHub Sandbox"),
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "UnionPay"),
                x509.NameAttribute(NameOID.COMMON_NAME, cn),
            ]
        )

    # The keys first: _locked_create holds the directory's lock while ``make`` runs.
    key = serialization.load_pem_private_key(dev_rsa_private_pem(name).encode(), None)
    issuer_key = serialization.load_pem_private_key(
        dev_rsa_private_pem(issuer_key_name).encode(), None
    )

    def make() -> bytes:
        public_der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        usage = dict.fromkeys(
            (
                "content_commitment",
                "key_encipherment",
                "data_encipherment",
                "key_agreement",
                "encipher_only",
                "decipher_only",
            ),
            False,
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject(common_name))
            .issuer_name(subject(_UNIONPAY_CERTS[issuer_key_name][1]))
            .public_key(key.public_key())  # type: ignore[arg-type]
            .serial_number(dev_cert_serial(public_der))
            .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2049, 12, 31, tzinfo=UTC))
            .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not is_ca, key_cert_sign=is_ca, crl_sign=is_ca, **usage
                ),
                critical=True,
            )
        )
        cert = builder.sign(issuer_key, hashes.SHA256())  # type: ignore[arg-type]
        return cert.public_bytes(serialization.Encoding.PEM)

    return _locked_create(KEY_DIR / f"{name}.crt", make).decode()
