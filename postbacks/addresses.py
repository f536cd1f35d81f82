"""Which addresses a postback may reach: the SSRF guard's classifier, and the URL checks
made when a config is saved.

By default only globally reachable unicast addresses are allowed. The table below walks
the IANA IPv4 and IPv6 Special-Purpose Address Registries entry by entry, so that the
words in the log name the real reason; anything else the standard library does not call
global, and any IPv6 address outside global unicast `2000::/3`, is "reserved" too.

Registry entries marked "globally reachable" are public services on the internet and
stay allowed: AS112 (`192.31.196.0/24`, `192.175.48.0/24`, `2001:4:112::/48`,
`2620:4f:8000::/48`), AMT (`192.52.193.0/24`, `2001:3::/32`), ORCHIDv2 `2001:20::/28`
and DRIP `2001:30::/28`. Deliberate exceptions, blocked although the registry calls them
globally reachable: the PCP, TURN and DNS-SD SRP anycast addresses (`192.0.0.9`,
`192.0.0.10`, `2001:1::1`, `2001:1::2`, `2001:1::3`). They exist so a host finds a
server in its own network, often its router, which is exactly what a postback must not
reach, and no publisher receives postbacks there.

IPv6 addresses that carry an IPv4 address in their last 32 bits are judged by that IPv4
address: IPv4-mapped `::ffff:0:0/96`, NAT64 `64:ff9b::/96` and local-use NAT64
`64:ff9b:1::/48` (assumed to be used, as in practice, with /96 translator prefixes), and
the deprecated IPv4-compatible `::/96`, which is refused even for a public IPv4 address.

`POSTBACK_ALLOW_NETWORKS` (CIDRs) opens listed networks, e.g. loopback for development
and tests.
"""

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from postbacks.macros import MACRO_PATTERN

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# (network, kind) — first match wins, so narrower ranges come before wider ones. A kind
# of None marks a registry entry that is globally reachable: allowed.
SPECIAL_NETWORKS: list[tuple[Network, str | None]] = [
    (ipaddress.ip_network(cidr), kind)
    for cidr, kind in (
        # IPv4 Special-Purpose Address Registry
        ("0.0.0.0/32", "unspecified"),  # "this host on this network"
        ("0.0.0.0/8", "reserved"),  # "this network"
        ("10.0.0.0/8", "private"),
        ("100.64.0.0/10", "CGNAT"),  # shared address space, RFC 6598
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),  # cloud metadata lives at 169.254.169.254
        ("172.16.0.0/12", "private"),
        ("192.0.0.9/32", "reserved"),  # PCP anycast: registry says global, see docstring
        ("192.0.0.10/32", "reserved"),  # TURN anycast: same
        ("192.0.0.0/24", "reserved"),  # IETF protocol assignments (DS-Lite, NAT64 discovery…)
        ("192.0.2.0/24", "reserved"),  # documentation (TEST-NET-1)
        ("192.31.196.0/24", None),  # AS112-v4
        ("192.52.193.0/24", None),  # AMT
        ("192.88.99.0/24", "reserved"),  # deprecated 6to4 relay anycast, 6a44 relay
        ("192.168.0.0/16", "private"),
        ("192.175.48.0/24", None),  # direct delegation AS112 service
        ("198.18.0.0/15", "reserved"),  # benchmarking
        ("198.51.100.0/24", "reserved"),  # documentation (TEST-NET-2)
        ("203.0.113.0/24", "reserved"),  # documentation (TEST-NET-3)
        ("224.0.0.0/4", "multicast"),
        ("255.255.255.255/32", "broadcast"),
        ("240.0.0.0/4", "reserved"),
        # IPv6 Special-Purpose Address Registry
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("100::/64", "reserved"),  # discard-only
        ("100:0:0:1::/64", "reserved"),  # dummy prefix, RFC 9780
        ("2001:1::1/128", "reserved"),  # PCP anycast: registry says global, see docstring
        ("2001:1::2/128", "reserved"),  # TURN anycast: same
        ("2001:1::3/128", "reserved"),  # DNS-SD SRP anycast: same
        ("2001:2::/48", "reserved"),  # benchmarking
        ("2001:3::/32", None),  # AMT
        ("2001:4:112::/48", None),  # AS112-v6
        ("2001:20::/28", None),  # ORCHIDv2
        ("2001:30::/28", None),  # DRIP entity tags
        ("2001::/23", "reserved"),  # IETF protocol assignments: Teredo, old ORCHID…
        ("2001:db8::/32", "reserved"),  # documentation
        ("2002::/16", "reserved"),  # 6to4: embeds an IPv4 address
        ("2620:4f:8000::/48", None),  # direct delegation AS112 service
        ("3fff::/20", "reserved"),  # documentation, RFC 9637
        ("5f00::/16", "reserved"),  # SRv6 SIDs, RFC 9602
        ("fc00::/7", "private"),  # unique local
        ("fe80::/10", "link-local"),
        # Not in the registry, but never a publisher's server
        ("fec0::/10", "private"),  # deprecated site-local
        ("ff00::/8", "multicast"),
    )
]

# IPv6 prefixes whose last 32 bits are the IPv4 address the packet goes to, with the kind
# used when that IPv4 address is itself public (None: allowed).
IPV4_CARRIERS: list[tuple[ipaddress.IPv6Network, str | None]] = [
    (ipaddress.IPv6Network("::ffff:0:0/96"), None),  # IPv4-mapped
    (ipaddress.IPv6Network("64:ff9b::/96"), None),  # NAT64, RFC 6052
    (ipaddress.IPv6Network("64:ff9b:1::/48"), None),  # local-use NAT64, RFC 8215
    (ipaddress.IPv6Network("::/96"), "reserved"),  # IPv4-compatible, deprecated
]
IPV6_SPECIAL_NOT_CARRIERS = (ipaddress.IPv6Address("::"), ipaddress.IPv6Address("::1"))
IPV6_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")


def forbidden_kind(address: IPAddress) -> str | None:
    """Why this address is off limits ("private", "loopback", …), or None if it is public."""
    carried = _carried_ipv4(address)
    if carried is not None:
        ipv4, public_kind = carried
        return forbidden_kind(ipv4) or public_kind
    for network, kind in SPECIAL_NETWORKS:
        if address.version == network.version and address in network:
            return kind
    if address.version == 6 and address not in IPV6_GLOBAL_UNICAST:
        return "reserved"  # IANA has allocated nothing else for unicast
    if not address.is_global:
        return "reserved"
    return None


def _carried_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, str | None] | None:
    """(the IPv4 address this IPv6 address leads to, kind if that is public), or None."""
    if address.version != 6 or address in IPV6_SPECIAL_NOT_CARRIERS:
        return None  # `::` and `::1` lie inside ::/96 but are IPv6's own
    for prefix, public_kind in IPV4_CARRIERS:
        if address in prefix:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF), public_kind
    return None


@lru_cache(maxsize=8)
def _allowed_networks(spec: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in spec)


def allowed_networks() -> tuple[Network, ...]:
    return _allowed_networks(tuple(settings.POSTBACK_ALLOW_NETWORKS))


def blocked_reason(ip: str | IPAddress) -> str | None:
    """None if a postback may connect to ip, else the words for the log's Error column."""
    return _blocked_reason(str(ip), allowed_networks())


@lru_cache(maxsize=4096)
def _blocked_reason(ip: str, allowed: tuple[Network, ...]) -> str | None:
    """Cached per address and allow list: a dispatcher judges every request's address."""
    address = ipaddress.ip_address(ip)
    if any(address.version == net.version and address in net for net in allowed):
        return None
    kind = forbidden_kind(address)
    if kind is None:
        return None
    article = "an" if kind[0] in "aeiouAEIOU" else "a"
    return f"Blocked: {address} is {article} {kind} address"


def template_target_problem(template: str) -> str | None:
    """Words for the log if a macro in the URL template would choose where it is sent.

    Macro values are percent-encoded, so they cannot add `/`, `?`, `@` or `:`; a macro in
    the path or query stays there. In the scheme, user info, host or port, though, the
    clicker who supplied the value (a sub ID, say) would pick the target.
    """
    found = _macro_in_target((template or "").strip())
    if found is None:
        return None
    macro, part = found
    return f"Blocked: the URL template puts {macro} in the {part}"


def _macro_in_target(template: str) -> tuple[str, str] | None:
    """(the first macro, the part it is in) for a macro in scheme, user info, host or port."""
    text = "".join(char for char in template if char not in "\t\r\n")  # as urlsplit does
    head, colon, rest = text.partition(":")
    # Braces are not scheme characters, so urlsplit would not even see a scheme here.
    if colon and not set(head) & set("/?#") and (match := MACRO_PATTERN.search(head)):
        return match.group(0), "scheme"
    user_info, _at, host_port = _netloc(rest).rpartition("@")
    # `[v6]:port` or `host:port`, as urlsplit splits them
    before, bracket, bracketed = host_port.partition("[")
    if bracket:
        host, _close, port = bracketed.partition("]")
        host, port = before + host, port.partition(":")[2]
    else:
        host, _colon, port = host_port.partition(":")
    for part, value in (("user info", user_info), ("host", host), ("port", port)):
        if match := MACRO_PATTERN.search(value):
            return match.group(0), part
    return None


def _netloc(after_scheme: str) -> str:
    """The authority of `//authority/path…`: up to the first `/`, `?` or `#`."""
    if not after_scheme.startswith("//"):
        return ""
    authority = after_scheme[2:]
    ends = [index for index in map(authority.find, "/?#") if index >= 0]
    return authority[: min(ends, default=len(authority))]


def validate_postback_url(template: str) -> None:
    """Refuse what can never be sent: another scheme, no host, a macro choosing the target,
    a forbidden literal address.

    Host names are judged again at connection time on the address actually connected
    to; here we only catch what is certain from the template itself.
    """
    try:
        parts = urlsplit(template.strip())
    except ValueError as exc:
        raise ValidationError(f"Not a valid URL: {exc}.") from exc
    problem = template_target_problem(template)
    if problem:
        words = problem.removeprefix("Blocked: the")
        raise ValidationError(
            f"The{words}: whoever fills it in would choose where postbacks go. "
            "Use macros only in the path or query."
        )
    if parts.scheme.lower() not in ("http", "https"):
        raise ValidationError("Use an http:// or https:// URL.")
    if not parts.netloc:
        raise ValidationError("The URL has no host.")
    _refuse_forbidden_literal(parts.hostname or "")


def _refuse_forbidden_literal(host: str) -> None:
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return  # a name: checked when connecting
    reason = blocked_reason(address)
    if reason:
        raise ValidationError(
            f"{reason.removeprefix('Blocked: ')}; postbacks cannot be sent there."
        )
