"""The HMAC request signature shared by the gateway and content billing: the exact string to sign, and parsing the Authorization header.

Pure functions with no Django or Redis in them, so docs/api.md, the tests and any client can
reproduce a signature byte for byte::

    CH-HMAC-SHA256\\n<X-CH-Date>\\n<X-CH-Nonce>\\n<METHOD>\\n<path?query>\\n<hex SHA-256 of the body>
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

ALGORITHM = "CH-HMAC-SHA256"
DATE_HEADER = "X-CH-Date"
NONCE_HEADER = "X-CH-Nonce"
# A request is refused when its date is further than this from the server's clock.
MAX_SKEW_SECONDS = 300
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_AUTHORIZATION = re.compile(
    rf"^{ALGORITHM} Credential=(?P<client_id>[A-Za-z0-9_-]{{1,40}}), ?"
    r"Signature=(?P<signature>[0-9a-f]{64})$"
)


def string_to_sign(*, date: str, nonce: str, method: str, target: str, body: bytes) -> str:
    """The text the client signs: algorithm, date, nonce, method, request target, body hash.

    ``target`` is the path and query exactly as sent on the wire (``/sms/v1/messages?x=1``);
    ``body`` the exact bytes sent (empty for a GET).
    """
    return "\n".join(
        (ALGORITHM, date, nonce, method.upper(), target, hashlib.sha256(body).hexdigest())
    )


def sign(*, secret: str, date: str, nonce: str, method: str, target: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``string_to_sign`` under the client secret (its UTF-8 bytes)."""
    message = string_to_sign(date=date, nonce=nonce, method=method, target=target, body=body)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def authorization_header(*, client_id: str, signature: str) -> str:
    return f"{ALGORITHM} Credential={client_id}, Signature={signature}"


@dataclass(frozen=True)
class SignedRequest:
    client_id: str
    signature: str


def parse_authorization(value: str) -> SignedRequest | None:
    """The client id and signature of a ``CH-HMAC-SHA256`` header, or None if it is not one."""
    match = _AUTHORIZATION.match(value.strip())
    if match is None:
        return None
    return SignedRequest(client_id=match["client_id"], signature=match["signature"])


def signature_matches(expected: str, given: str) -> bool:
    """Constant-time comparison, so timing does not tell how much of a guess was right."""
    return hmac.compare_digest(expected.encode(), given.encode())
