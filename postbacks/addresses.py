"""Which addresses a postback may reach: the SSRF guard's classifier.

By default only globally routable unicast addresses are allowed.
`POSTBACK_ALLOW_NETWORKS` (CIDRs) opens listed networks, e.g. loopback for development.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

CGNAT = ipaddress.ip_network("100.64.0.0/10")
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def forbidden_kind(address: IPAddress) -> str | None:
    """Why this address is off limits ("private", "loopback", …), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return forbidden_kind(address.ipv4_mapped)
        if address in NAT64:
            return forbidden_kind(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in CGNAT:
        return "CGNAT"
    if address.is_private:
        return "private"
    if address.is_reserved or not address.is_global:
        return "reserved"
    return None


@lru_cache(maxsize=8)
def _allowed_networks(spec: tuple[str, ...]):
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in spec)


def allowed_networks():
    return _allowed_networks(tuple(settings.POSTBACK_ALLOW_NETWORKS))


def blocked_reason(ip: str | IPAddress) -> str | None:
    """None if a postback may connect to ip, else the words for the log's Error column."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    if any(address.version == net.version and address in net for net in allowed_networks()):
        return None
    kind = forbidden_kind(address)
    if kind is None:
        return None
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    return f"Blocked: {address} is {article} {kind} address"
