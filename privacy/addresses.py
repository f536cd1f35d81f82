"""Client IP addresses as stored (SPEC §14): with PRIVACY_TRUNCATE_IP=1 the last IPv4
octet and the last 80 bits of an IPv6 address are zeroed before anything is written."""

import ipaddress

from django.conf import settings

IPV4_KEPT_BITS, IPV6_KEPT_BITS = 24, 48


def truncated(ip: str) -> str:
    """203.0.113.9 → 203.0.113.0; 2001:db8:1:2:3:4:5:6 → 2001:db8:1::; other text as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    kept = IPV4_KEPT_BITS if address.version == 4 else IPV6_KEPT_BITS
    network = ipaddress.ip_network(f"{address}/{kept}", strict=False)
    return str(network.network_address)


def stored_ip(ip: str) -> str:
    """The IP as it may be kept: truncated when PRIVACY_TRUNCATE_IP is on."""
    return truncated(ip) if ip and settings.PRIVACY_TRUNCATE_IP else ip
