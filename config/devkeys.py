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
