"""Which addresses a postback may reach: the SSRF guard's classifier.

By default only globally routable unicast addresses are allowed. Special ranges are
listed explicitly (IANA special-purpose registries) so that the words in the log name
the real reason. `POSTBACK_ALLOW_NETWORKS` (CIDRs) opens listed networks, e.g. loopback
for development and tests.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# (network, kind) — first match wins, so narrower ranges come before wider ones.
SPECIAL_NETWORKS = [
    (ipaddress.ip_network(cidr), kind)
    for cidr, kind in (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "reserved"),  # "this network"
        ("127.0.0.0/8", "loopback"),
        ("10.0.0.0/8", "private"),
        ("172.16.0.0/12", "private"),
        ("192.168.0.0/16", "private"),
        ("169.254.0.0/16", "link-local"),  # cloud metadata lives at 169.254.169.254
        ("100.64.0.0/10", "CGNAT"),
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
        ("192.0.2.0/24", "reserved"),  # documentation
        ("198.51.100.0/24", "reserved"),  # documentation
        ("203.0.113.0/24", "reserved"),  # documentation
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("192.88.99.0/24", "reserved"),  # 6to4 relay anycast
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("fe80::/10", "link-local"),
        ("fc00::/7", "private"),  # unique local
        ("fec0::/10", "private"),  # deprecated site-local
        ("ff00::/8", "multicast"),
        ("2001:db8::/32", "reserved"),  # documentation
        ("100::/64", "reserved"),  # discard-only
        ("2001::/23", "reserved"),  # IETF protocol assignments (incl. Teredo)
        ("2002::/16", "reserved"),  # 6to4: embeds an IPv4 address
    )
]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def forbidden_kind(address: IPAddress) -> str | None:
    """Why this address is off limits ("private", "loopback", …), or None if it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv6 address that carries an IPv4 one is judged by the IPv4 address.
        if address.ipv4_mapped is not None:
            return forbidden_kind(address.ipv4_mapped)
        if address in NAT64:
            return forbidden_kind(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for network, kind in SPECIAL_NETWORKS:
        if address.version == network.version and address in network:
            return kind
    if not address.is_global:
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
