"""Encryption of sensitive fields at rest (Fernet), keyed by FIELD_ENCRYPTION_KEY or SECRET_KEY."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet
from django.conf import settings


@functools.cache
def _fernet(secret: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret.encode()).digest()))


def _secret() -> str:
    return getattr(settings, "FIELD_ENCRYPTION_KEY", "") or settings.SECRET_KEY


def encrypt_text(value: str) -> str:
    return _fernet(_secret()).encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    return _fernet(_secret()).decrypt(token.encode()).decode()


def keyed_hash(value: str, *, purpose: str) -> str:
    """A keyed SHA-256 for looking up or comparing secrets without storing them."""
    key = hashlib.sha256(f"{purpose}:{_secret()}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
