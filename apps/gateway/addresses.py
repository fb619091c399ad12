"""Which network addresses a partner callback may reach: public ones only.

Private, loopback, link-local, shared (CGNAT), reserved, multicast and unspecified addresses,
IPv4 and IPv6 (IPv4-mapped forms included), are refused; so is a name that resolves to any of
them. GATEWAY_CALLBACK_ALLOW_LOOPBACK lets loopback through for the demo sandbox, where the
partner's receiver runs on the same machine.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressNotAllowed(ValueError):
    """The host is, or resolves to, an address callbacks may not reach."""


class AddressUnresolved(ValueError):
    """The host name does not resolve (now)."""


def address_allowed(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return bool(settings.GATEWAY_CALLBACK_ALLOW_LOOPBACK)
    return address.is_global and not address.is_multicast


def host_addresses(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` stands for: itself when it is an address, else what DNS says."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as exc:
        raise AddressUnresolved(host) from exc
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    if not found:
        raise AddressUnresolved(host)
    return found


def host_check(host: str, port: int) -> IPAddress:
    """The address to connect to: every address the host stands for must be allowed (a name
    with one internal address among public ones is refused as a whole)."""
    addresses = host_addresses(host, port)
    if not all(address_allowed(address) for address in addresses):
        raise AddressNotAllowed(host)
    return addresses[0]


@dataclass(frozen=True)
class PinnedTarget:
    """A callback URL rewritten to the checked address, with what the server must still see."""

    url: str  # the same URL with the host replaced by the checked address
    host_header: str  # the original host[:port], for the Host header
    server_name: str  # the original host name, for TLS SNI and certificate checks


def callback_target(url: str) -> PinnedTarget:
    """Resolve and check the URL's host now, so that the connection goes to that address and
    a DNS answer changed after the check (rebinding) cannot redirect it."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = host_check(host, port)
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    host_header = parts.netloc.rsplit("@", 1)[-1]
    return PinnedTarget(
        url=urlunsplit(parts._replace(netloc=netloc)), host_header=host_header, server_name=host
    )
