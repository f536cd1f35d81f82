"""The asyncio sending path: many requests in flight on one event loop (issue 13).

A dispatcher at real latency spends its time waiting; threads made each of the waits
cost a thread and `requests`' per-request work. Here one event loop, in a thread of the
dispatcher's own, carries POSTBACK_CONCURRENCY requests through aiohttp, with the same
rules as `transport.send` (timeouts, redirects followed by hand, capped answers, errors
in the same words), so the log reads the same whichever path sent it.

The SSRF guard sits where the connection is made:
- the resolver returns only the addresses the guard allows (a name that resolves only to
  forbidden ones is refused with the guard's words), and aiohttp connects to exactly
  those, so DNS rebinding cannot slip a private address in between;
- the socket factory judges every address a socket is opened to, IP literals included
  (aiohttp does not ask the resolver for those): the last word before `connect()`.
Every redirect hop goes through both again.
"""

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import lru_cache
from typing import Any

import aiohttp
import requests
import yarl
from aiohttp.abc import AbstractResolver, ResolveResult
from django.conf import settings

from postbacks.addresses import blocked_reason
from postbacks.transport import (
    MAX_REDIRECTS,
    RESPONSE_LIMIT,
    USER_AGENT,
    BlockedAddress,
    BlockedSocket,
    DnsFailure,
    Outcome,
    OutgoingRequest,
    answered,
    hop_headers,
    is_canonical,
    outcome_from_exception,
    redirected,
    too_many_redirects,
    unsendable,
    url_host,
)

REDIRECT_CODES = (301, 302, 303, 307, 308)


class GuardedResolver(AbstractResolver):
    """getaddrinfo, keeping only the addresses the guard allows."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise DnsFailure(f"DNS lookup failed for {host}") from exc
        allowed: list[ResolveResult] = []
        refusal = None
        for family_found, _type, proto, _canon, sockaddr in infos:
            address = str(sockaddr[0])
            reason = blocked_reason(address.split("%")[0])
            if reason:
                refusal = refusal or reason
                continue
            allowed.append(
                {
                    "hostname": host,
                    "host": address,
                    "port": int(sockaddr[1]),
                    "family": family_found,
                    "proto": proto,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not allowed:
            raise BlockedAddress(refusal or f"Blocked: {host} has no allowed address")
        return allowed

    async def close(self) -> None:
        return None


def guarded_socket(addr_info: Any) -> socket.socket:
    """aiohttp's socket factory: a socket only for an address the guard allows."""
    family, type_, proto, _canon, sockaddr = addr_info
    reason = blocked_reason(str(sockaddr[0]).split("%")[0])
    if reason:
        raise BlockedSocket(reason)
    sock = socket.socket(family=family, type=type_, proto=proto)
    sock.setblocking(False)
    return sock


def new_client(concurrency: int) -> aiohttp.ClientSession:
    """Called inside the event loop."""
    connector = aiohttp.TCPConnector(
        limit=concurrency,
        limit_per_host=0,  # per-config caps are the dispatcher's (config_room)
        resolver=GuardedResolver(),
        use_dns_cache=False,  # every connection is judged on a fresh answer
        socket_factory=guarded_socket,
    )
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),  # nothing carried from one publisher's call
        headers={"User-Agent": USER_AGENT},
        trust_env=False,  # never through an environment proxy
        timeout=aiohttp.ClientTimeout(total=None),  # each request sets its own
    )


async def send(request: OutgoingRequest, client: aiohttp.ClientSession) -> Outcome:
    started = time.monotonic()
    outcome = await _send(request, client, started)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


async def _send(request: OutgoingRequest, client: aiohttp.ClientSession, started: float):
    deadline = started + request.timeout
    url, method, body = request.url, request.method, request.body
    for hop in range(MAX_REDIRECTS + 1):
        refusal = unsendable(url, deadline, request.timeout) or _blocked_literal(url)
        if refusal:
            return refusal
        remaining = deadline - time.monotonic()
        try:
            target = _prepared(method, url)
            async with asyncio.timeout(remaining):
                response = await client.request(
                    method,
                    target,
                    data=body.encode() if method == "POST" else None,
                    headers=hop_headers(request, method, body),
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(
                        total=None, sock_connect=min(settings.POSTBACK_CONNECT_TIMEOUT, remaining)
                    ),
                )
        except Exception as exc:  # every failure becomes words in the log, never a crash
            return outcome_from_exception(url, exc, request.timeout)
        async with response:
            if _is_redirect(response) and hop < MAX_REDIRECTS:
                url, method, body = redirected(
                    url, response.status, response.headers["Location"], method, body
                )
                continue
            if _is_redirect(response):
                return too_many_redirects(url, response.status)
            try:
                raw = await _read_capped(response, deadline)
            except Exception as exc:
                return outcome_from_exception(url, exc, request.timeout, response.status)
            return answered(url, response.status, raw, response.headers)
    raise AssertionError("unreachable")


def _blocked_literal(url: str) -> Outcome | None:
    """An IP-literal host the guard refuses, said before connecting (the socket factory
    would refuse it too, in words aiohttp wraps)."""
    host = url_host(url)
    if not _is_ip_literal(host):
        return None
    reason = blocked_reason(host)
    return Outcome(url=url, error=reason, permanent=True) if reason else None


@lru_cache(maxsize=4096)
def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _prepared(method: str, url: str) -> yarl.URL:
    """The URL exactly as `requests` would send it (IDNA host, quoted path and query),
    so that both paths call the same URL; yarl must not quote it again."""
    if not is_canonical(url):
        url = str(requests.Request(method, url).prepare().url)
    return yarl.URL(url, encoded=True)


def _is_redirect(response: aiohttp.ClientResponse) -> bool:
    return response.status in REDIRECT_CODES and "Location" in response.headers


async def _read_capped(response: aiohttp.ClientResponse, deadline: float) -> bytes:
    """Up to just past RESPONSE_LIMIT, and what has come by the deadline."""
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
            while size <= RESPONSE_LIMIT:
                chunk = await response.content.read(16384)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except TimeoutError:
        pass  # as the threaded path: the answer so far
    return b"".join(chunks)


class AsyncSender:
    """An event loop in a thread of its own; `submit` from any thread returns a
    concurrent.futures.Future of the Outcome, as a thread pool's would."""

    def __init__(self, concurrency: int):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="postback-loop", daemon=True
        )
        self.thread.start()
        self.client = self._call(self._new_client(concurrency)).result()

    async def _new_client(self, concurrency: int) -> aiohttp.ClientSession:
        return new_client(concurrency)

    def _call(self, coroutine) -> Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def submit(self, request: OutgoingRequest, then: Callable[[Outcome], Outcome]) -> Future:
        async def sent() -> Outcome:
            return then(await send(request, self.client))

        return self._call(sent())

    def close(self) -> None:
        """Let what is in flight finish, then close the client and stop the loop."""

        async def closing() -> None:
            pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            await asyncio.gather(*pending, return_exceptions=True)
            await self.client.close()

        self._call(closing()).result()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()
