"""API-key authentication and the advertiser's IP allowlist, shared by every endpoint."""

import ipaddress

from django.http import HttpRequest
from django.utils import timezone

from offers.models import Advertiser, ApiKey


def raw_key_from_request(request: HttpRequest, params=None) -> str:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    params = params if params is not None else request.GET
    return (params.get("key") or params.get("api_key") or "").strip()


def authenticate_api_key(raw_key: str) -> ApiKey | None:
    if not raw_key:
        return None
    api_key = ApiKey.objects.select_related("advertiser").for_raw_key(raw_key)
    if api_key is not None and (
        api_key.last_used is None or (timezone.now() - api_key.last_used).total_seconds() > 60
    ):
        # Throttled so a busy advertiser does not write on every call.
        ApiKey.objects.filter(pk=api_key.pk).update(last_used=timezone.now())
    return api_key


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def ip_allowed(advertiser: Advertiser, ip: str) -> bool:
    """An empty allowlist allows every source."""
    if not advertiser.ip_allowlist:
        return True
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    for cidr in advertiser.ip_allowlist:
        try:
            if address in ipaddress.ip_network(cidr, strict=False):
                return True
        except ValueError:
            continue
    return False
