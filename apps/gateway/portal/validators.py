"""Checks on what partners type: licence numbers (GB 32100-2015), callback URLs, IP allow-lists."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from apps.gateway.addresses import AddressNotAllowed, AddressUnresolved, host_check
from apps.gateway.portal.errors import (
    InvalidCallbackUrl,
    InvalidContact,
    InvalidIpAllowList,
    InvalidLicenceNumber,
)

# GB 32100-2015: 31 symbols, the digits and the capitals without I, O, S, V and Z.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Weight of position i is 3**i mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# Registration authority and organisation category (1-2), region code (3-8, digits),
# organisation code (9-17), check character (18).
_USCC_RE = re.compile(rf"^[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}$")

MAX_CALLBACK_URLS = 5
MAX_CALLBACK_URL_LENGTH = 500
MAX_ALLOW_LIST_ENTRIES = 50
_LOOPBACK_NAMES = {"localhost"}


def uscc_check_char(first17: str) -> str:
    """The GB 32100-2015 check character for the first 17 characters of a credit code."""
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_licence_number(raw: str) -> str:
    """Return an 18-character unified social credit code (upper case) whose check char holds."""
    text = "".join((raw or "").split()).upper()
    if not _USCC_RE.match(text) or uscc_check_char(text[:17]) != text[17]:
        raise InvalidLicenceNumber()
    return text


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _reachable_host(host: str, port: int) -> bool:
    """Whether callbacks may go to ``host``: a public address, or a name that resolves only to
    public ones (one that does not resolve yet passes; each delivery checks again)."""
    try:
        host_check(host, port)
    except AddressNotAllowed:
        return False
    except AddressUnresolved:
        return True
    return True


def normalize_callback_url(raw: str) -> str:
    """One callback URL: https to a public address; plain http only to this machine, and
    loopback at all only where GATEWAY_CALLBACK_ALLOW_LOOPBACK (the demo sandbox)."""
    url = (raw or "").strip()
    if not url or len(url) > MAX_CALLBACK_URL_LENGTH or any(ch.isspace() for ch in url):
        raise InvalidCallbackUrl()
    try:
        parts = urlsplit(url)
        host, _port = parts.hostname or "", parts.port  # .port raises on a malformed port
    except ValueError as exc:
        raise InvalidCallbackUrl() from exc
    # Credentials in the URL would be logged with every delivery; fragments never reach a server.
    if not host or parts.username or parts.password or parts.fragment:
        raise InvalidCallbackUrl()
    if not (parts.scheme == "https" or (parts.scheme == "http" and _is_loopback(host))):
        raise InvalidCallbackUrl()
    if not _reachable_host(host, _port or (443 if parts.scheme == "https" else 80)):
        raise InvalidCallbackUrl()
    return url


def normalize_callback_urls(values: list[str]) -> list[str]:
    """A short list of distinct callback URLs, each checked; order kept."""
    urls: list[str] = []
    for value in values:
        url = normalize_callback_url(value)
        if url not in urls:
            urls.append(url)
    if len(urls) > MAX_CALLBACK_URLS:
        raise InvalidCallbackUrl(details={"max": MAX_CALLBACK_URLS})
    return urls


def normalize_ip_allow_list(values: list[str]) -> list[str]:
    """CIDR networks in canonical form (a bare address is a /32 or /128); distinct, order kept.

    A network with host bits set (``10.0.0.5/24``) is refused rather than silently widened.
    """
    networks: list[str] = []
    for value in values:
        text = (value or "").strip()
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            raise InvalidIpAllowList(details={"entry": text[:64]}) from exc
        if str(network) not in networks:
            networks.append(str(network))
    if len(networks) > MAX_ALLOW_LIST_ENTRIES:
        raise InvalidIpAllowList(details={"max": MAX_ALLOW_LIST_ENTRIES})
    return networks


def split_lines(text: str) -> list[str]:
    """The non-empty entries of a textarea: one per line, commas also separate."""
    return [part.strip() for part in re.split(r"[\n,;]+", text or "") if part.strip()]


def normalize_email(raw: str) -> str:
    email = (raw or "").strip()
    try:
        EmailValidator()(email)
    except ValidationError as exc:
        raise InvalidContact(details={"field": "contact_email"}) from exc
    return email.lower()
