"""The gateway's request signature: the shared primitive in ``apps.core.signing`` (content billing signs the same way)."""

from apps.core.signing import (
    ALGORITHM,
    DATE_HEADER,
    MAX_SKEW_SECONDS,
    NONCE_HEADER,
    NONCE_PATTERN,
    SignedRequest,
    authorization_header,
    parse_authorization,
    sign,
    signature_matches,
    string_to_sign,
)

__all__ = [
    "ALGORITHM",
    "DATE_HEADER",
    "MAX_SKEW_SECONDS",
    "NONCE_HEADER",
    "NONCE_PATTERN",
    "SignedRequest",
    "authorization_header",
    "parse_authorization",
    "sign",
    "signature_matches",
    "string_to_sign",
]
