"""The one outbound-HTTP seam: timeouts, the SSRF guard, redirects, and errors in words.

Every postback request goes through `send()`. The guard resolves the host once and
connects to an address it has checked, so DNS rebinding cannot slip a private address
in between the check and the connection; redirects are followed by hand, each hop
checked again.
"""

import base64
import hashlib
import hmac
import re
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from postbacks.addresses import blocked_reason

MAX_REDIRECTS = 3
INVALID_URL_ERRORS = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    aiohttp.InvalidURL,
)
# Server responses are kept up to this size, everywhere (log, UI, CSV, API).
RESPONSE_LIMIT = 64 * 1024
TRUNCATION_MARKER = f"\n…[truncated at {RESPONSE_LIMIT // 1024} KiB]"
USER_AGENT = "Integr8-Postback/1.0"


class BlockedAddress(Exception):
    """The target resolved only to addresses the guard refuses."""


class BlockedSocket(OSError):
    """The asyncio path's socket factory refused the address it was to connect to."""


class DnsFailure(Exception):
    pass


def _guarded_socket(host: str, port: int, timeout, source_address=None, socket_options=None):
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DnsFailure(f"DNS lookup failed for {host}") from exc
    refusal = None
    last_error = None
    for family, socktype, proto, _canon, sockaddr in infos:
        address = sockaddr[0]
        assert isinstance(address, str)  # an IPv4 or IPv6 sockaddr starts with the address
        reason = blocked_reason(address.split("%")[0])
        if reason:
            refusal = refusal or reason
            continue
        sock = socket.socket(family, socktype, proto)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is not None:
                sock.settimeout(timeout)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            last_error = exc
            sock.close()
    if last_error is not None:
        raise last_error
    raise BlockedAddress(refusal or f"Blocked: {host} has no allowed address")


class GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        return _guarded_socket(
            self._dns_host, self.port, self.timeout, self.source_address, self.socket_options
        )


class GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        return _guarded_socket(
            self._dns_host, self.port, self.timeout, self.source_address, self.socket_options
        )


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }


def new_session(pool_size: int | None = None) -> requests.Session:
    """A session whose every connection passes the guard; pooled per host."""
    size = pool_size or settings.POSTBACK_CONCURRENCY
    session = requests.Session()
    adapter = GuardedAdapter(pool_connections=64, pool_maxsize=size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False  # never route postbacks through an environment proxy
    session.headers["User-Agent"] = USER_AGENT
    return session


class ThreadSender:
    """The threaded sending path (POSTBACK_SENDER=threads): a thread per request in flight
    over one guarded requests session."""

    def __init__(self, concurrency: int):
        self.session = new_session(concurrency)
        self.pool = ThreadPoolExecutor(concurrency, thread_name_prefix="postback")

    def submit(self, request: "OutgoingRequest", then: Callable[["Outcome"], "Outcome"]) -> Future:
        return self.pool.submit(lambda: then(send(request, self.session)))

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.session.close()


def new_sender(concurrency: int):
    """The dispatcher's sender: `submit(request, then)` returns a Future of the Outcome
    that `then` makes of the answer. asyncio by default (postbacks/async_transport.py)."""
    if settings.POSTBACK_SENDER == "threads":
        return ThreadSender(concurrency)
    from postbacks.async_transport import AsyncSender  # it imports this module

    return AsyncSender(concurrency)


@dataclass
class OutgoingRequest:
    method: str
    url: str
    body: str = ""
    content_type: str = ""
    headers: dict = field(default_factory=dict)
    timeout: float = 10.0


@dataclass
class Outcome:
    url: str  # the URL last called (after redirects)
    response_code: int = 0  # 0 = no HTTP response
    error: str = ""
    server_response: str = ""
    duration_ms: int = 0
    retry_after: float | None = None
    permanent: bool = False  # no point in retrying (blocked, bad URL)
    skipped: bool = False  # not sent at all (a partner rule said no: SPEC §12)

    @property
    def ok(self) -> bool:
        return 200 <= self.response_code < 300 and not self.error and not self.skipped


def sign(secret: str, webhook_id: str, timestamp: int, payload: str) -> str:
    """Standard Webhooks: v1,<base64 HMAC-SHA256 of id.timestamp.payload>."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message = f"{webhook_id}.{timestamp}.{payload}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secrets: list[str], webhook_id: str, timestamp: int, payload: str):
    signatures = " ".join(sign(secret, webhook_id, timestamp, payload) for secret in secrets)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def send(request: OutgoingRequest, session: requests.Session) -> Outcome:
    started = time.monotonic()
    outcome = _send(request, session, started)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def _send(request: OutgoingRequest, session: requests.Session, started: float) -> Outcome:
    deadline = started + request.timeout
    url, method, body = request.url, request.method, request.body
    for hop in range(MAX_REDIRECTS + 1):
        refusal = unsendable(url, deadline, request.timeout)
        if refusal:
            return refusal
        remaining = deadline - time.monotonic()
        try:
            response = session.request(
                method,
                url,
                data=body.encode() if method == "POST" else None,
                headers=hop_headers(request, method, body),
                timeout=(min(settings.POSTBACK_CONNECT_TIMEOUT, remaining), remaining),
                allow_redirects=False,
                stream=True,
            )
        except Exception as exc:  # every failure becomes words in the log, never a crash
            return outcome_from_exception(url, exc, request.timeout)
        with response:
            if response.is_redirect and hop < MAX_REDIRECTS:
                url, method, body = redirected(
                    url, response.status_code, response.headers["Location"], method, body
                )
                continue
            if response.is_redirect:
                return too_many_redirects(url, response.status_code)
            try:
                raw = _read_capped(response, deadline)
            except Exception as exc:
                return outcome_from_exception(url, exc, request.timeout, response.status_code)
            return answered(url, response.status_code, raw, response.headers)
    raise AssertionError("unreachable")


# A URL that `requests` sends exactly as written: lowercase scheme and host, a port
# without leading zeros, a path, a query if a `?`, no fragment, and nothing to quote or
# unquote (percent escapes in capitals, none of an unreserved character, no dot
# segments). Rendered postback URLs nearly always are; the rest take requests' own
# preparation. Whatever matches CANONICAL_URL alone is callable, with its host in `host`.
CANONICAL_URL = re.compile(
    r"https?://(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(?P<port>[1-9][0-9]{0,4}))?"
    r"/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})*"
)
UNRESERVED_ESCAPE = re.compile(r"%(?:3[0-9]|4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|2D|2E|5F|7E)")


def is_canonical(url: str) -> bool:
    """Whether requests' preparation would leave url as it is (the fast path: that
    preparation costs more than the rest of a request)."""
    match = CANONICAL_URL.fullmatch(url)
    if match is None or UNRESERVED_ESCAPE.search(url):
        return False
    if match["port"] and int(match["port"]) > 65535:
        return False
    path, question, query = url.partition("?")
    return "/." not in path and (query != "" or not question)


def url_host(url: str) -> str:
    """The URL's host as urlsplit reads it ("" for none)."""
    match = CANONICAL_URL.fullmatch(url)
    return match["host"] if match else urlsplit(url).hostname or ""


def check_url(url: str) -> str:
    """Words for a URL that cannot be called at all, or "" if it can."""
    if CANONICAL_URL.fullmatch(url):
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return f"Unsupported URL scheme {parts.scheme or '(none)'!r}: use http or https"
    if not parts.hostname:
        return "URL has no host"
    return ""


# The rules of one request, whichever path sends it (threads here, the event loop of
# async_transport.py): both log the same outcome for the same answer.


def unsendable(url: str, deadline: float, timeout: float) -> Outcome | None:
    """The outcome of a hop that cannot be made: a URL that cannot be called, or no time
    left; None when it can be made."""
    problem = check_url(url)
    if problem:
        return Outcome(url=url, error=problem, permanent=True)
    if deadline - time.monotonic() <= 0:
        return Outcome(url=url, error=_timeout_words(timeout))
    return None


def hop_headers(request: OutgoingRequest, method: str, body: str) -> dict:
    headers = dict(request.headers)
    if body and method == "POST":
        headers["Content-Type"] = request.content_type
    return headers


def redirected(url: str, code: int, location: str, method: str, body: str) -> tuple:
    """(url, method, body) of the next hop: a 303, or a 301/302 after a POST, is a GET
    without a body, as browsers and `requests` do."""
    if code == 303 or (code in (301, 302) and method == "POST"):
        method, body = "GET", ""
    return urljoin(url, location), method, body


def too_many_redirects(url: str, code: int) -> Outcome:
    return Outcome(
        url=url,
        response_code=code,
        error=f"Too many redirects (more than {MAX_REDIRECTS})",
        permanent=True,
    )


def answered(url: str, code: int, raw: bytes, headers) -> Outcome:
    """The outcome of an answer: its body decoded by its charset (cut at RESPONSE_LIMIT),
    an error for anything but a 2xx, its Retry-After."""
    encoding = requests.utils.get_encoding_from_headers(headers) or "utf-8"
    try:
        text = raw[:RESPONSE_LIMIT].decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        text = raw[:RESPONSE_LIMIT].decode("utf-8", errors="replace")
    if len(raw) > RESPONSE_LIMIT:
        text += TRUNCATION_MARKER
    return Outcome(
        url=url,
        response_code=code,
        error="" if 200 <= code < 300 else f"HTTP {code}",
        server_response=text,
        retry_after=_parse_retry_after(headers.get("Retry-After")),
    )


def _read_capped(response, deadline) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_content(chunk_size=16384):
        chunks.append(chunk)
        size += len(chunk)
        if size > RESPONSE_LIMIT or time.monotonic() > deadline:
            break
    return b"".join(chunks)


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _timeout_words(timeout: float) -> str:
    return f"Timeout after {timeout:g} s"


def outcome_from_exception(url: str, exc: Exception, timeout: float, code: int = 0) -> Outcome:
    error, permanent = describe_exception(exc, timeout)
    return Outcome(url=url, response_code=code, error=error, permanent=permanent)


def describe_exception(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """(words for the log, permanent?) for whatever the request raised."""
    chain = _exception_chain(exc)
    for item in chain:
        if isinstance(item, (BlockedAddress, BlockedSocket)):
            return str(item), True
        if isinstance(item, DnsFailure):
            return str(item), False
    if isinstance(exc, requests.exceptions.Timeout) or any(
        isinstance(item, (TimeoutError, socket.timeout)) for item in chain
    ):
        return _timeout_words(timeout), False
    if any(isinstance(item, ConnectionRefusedError) for item in chain):
        return "Connection refused", False
    if any(isinstance(item, ConnectionResetError) for item in chain):
        return "Connection reset by peer", False
    if isinstance(exc, (requests.exceptions.SSLError, aiohttp.ClientSSLError)):
        return f"TLS error: {_innermost(chain)}", False
    if isinstance(exc, INVALID_URL_ERRORS):
        return f"Invalid URL: {exc}", True
    if isinstance(exc, (requests.exceptions.ConnectionError, aiohttp.ClientError)):
        return f"Connection failed: {_innermost(chain)}", False
    return f"{type(exc).__name__}: {exc}", False


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        chain.append(item)
        stack.extend([item.__cause__, item.__context__])
        stack.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
        reason = getattr(item, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return chain


def _innermost(chain: list[BaseException]) -> str:
    return str(chain[-1]) if chain else ""
