"""UnionPay's signMethod 01 (RSA with SHA-256) over a message's fields, built on ``cryptography``.

The rule of the UnionPay gateway's interface specification, version 5.1.0:

1. take every field except ``signature`` whose value is not empty (UnionPay never sends an
   empty field, and its SDKs drop blank fields before signing);
2. sort them by key and join them as ``key=value`` with ``&``, without any URL encoding;
3. hex-encode (lower case) the SHA-256 digest of that string's UTF-8 bytes;
4. sign the ASCII bytes of that hex string with RSA PKCS#1 v1.5 and SHA-256;
5. base64 the signature (standard alphabet, with padding, no line breaks).

Verification recomputes steps 1-3 and checks the signature with the public key of the
certificate the message brings (``signPubKeyCert``, named by its serial in ``certId``), once
``unionpay_certs`` has checked that certificate.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

SIGN_METHOD = "01"


def string_to_sign(fields: Mapping[str, str]) -> str:
    """``k=v&k=v`` of the non-empty fields but ``signature``, sorted by key, not URL-encoded."""
    return "&".join(
        f"{key}={value}"
        for key, value in sorted(fields.items())
        if key != "signature" and value != ""
    )


def digest_hex(fields: Mapping[str, str]) -> str:
    """The lower-case hex SHA-256 of :func:`string_to_sign`, which is what RSA signs."""
    return hashlib.sha256(string_to_sign(fields).encode("utf-8")).hexdigest()


def sign(fields: Mapping[str, str], private_key: RSAPrivateKey) -> str:
    """The base64 ``signature`` of ``fields`` (any ``signature`` already there is ignored)."""
    raw = private_key.sign(digest_hex(fields).encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode("ascii")


def verify(fields: Mapping[str, str], public_key: RSAPublicKey) -> bool:
    """Whether ``fields["signature"]`` is the signature of the other fields under ``public_key``."""
    try:
        raw = base64.b64decode(fields.get("signature", ""), validate=True)
    except (binascii.Error, ValueError):
        return False
    if not raw:
        return False
    try:
        public_key.verify(
            raw, digest_hex(fields).encode("ascii"), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        return False
    return True


def load_private_key(pem: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("UnionPay signMethod 01 needs an RSA private key")
    return key


def parse_answer(text: str) -> dict[str, str]:
    """Fields of a synchronous answer: ``k=v&k=v``, not URL-encoded, ``{...}``/``[...]`` kept whole.

    UnionPay writes answers raw (a base64 signature keeps its ``+``, ``/`` and ``=``), so they
    are split on ``&`` outside brackets and at the first ``=`` of each pair, as its SDKs do.
    """
    fields: dict[str, str] = {}
    closing = {"{": "}", "[": "]"}
    part: list[str] = []
    parts: list[str] = []
    waiting_for = ""
    for char in text:
        if waiting_for:
            if char == waiting_for:
                waiting_for = ""
        elif char in closing:
            waiting_for = closing[char]
        elif char == "&":
            parts.append("".join(part))
            part = []
            continue
        part.append(char)
    parts.append("".join(part))
    for item in parts:
        key, separator, value = item.partition("=")
        if key and separator:
            fields[key] = value
    return fields
