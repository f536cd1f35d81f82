"""The asyncio path calls exactly the URL the threaded path (requests) would call.

Most rendered postback URLs need no preparation and skip requests' (which costs more
than the rest of a request); these tests hold the shortcut to requests' own answer.
"""

import pytest
import requests
import yarl
from hypothesis import given, settings
from hypothesis import strategies as st

from postbacks.async_transport import _prepared
from postbacks.transport import is_canonical

hosts = st.sampled_from(
    ["127.0.0.1", "localhost", "Example.com", "a-b.example", "xn--bcher-kva.example", "a..b"]
    + ["b\u00fccher.example", "-a.example", "[::1]"]
)
ports = st.sampled_from(["", ":8080", ":080", ":1", ":65535", ":65536", ":99999"])
paths = st.sampled_from(["", "/", "/x/", "/.", "/..", "/a/./b", "/a/../b"])
tails = st.text("aAzZ09-._~!$&'()*+,;=:@/?%#[] \"<>\\^`{|}\u00e9\u4e2d\t2F4141e7e", max_size=16)
urls = st.builds(
    lambda scheme, host, port, path, tail: f"{scheme}://{host}{port}{path}{tail}",
    st.sampled_from(["http", "https", "HTTP"]),
    hosts,
    ports,
    paths,
    tails,
)


def requests_url(url: str) -> str | None:
    try:
        return str(requests.Request("GET", url).prepare().url)
    except requests.RequestException:
        return None


@settings(max_examples=3000, deadline=None)
@given(url=urls)
def test_a_url_taken_as_written_is_what_requests_would_send(url):
    if is_canonical(url):
        assert requests_url(url) == url


@settings(max_examples=500, deadline=None)
@given(url=urls)
def test_every_url_is_sent_as_requests_would(url):
    expected = requests_url(url)
    if expected is not None:
        assert _prepared("GET", url) == yarl.URL(expected, encoded=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:38080/pb/17?tid=abc123&payout=1.50&sub1=hello%20world&ts=1733500000",
        "https://tracker.example/postback?cid=x-1_2.3~4&status=approved&sig=0a1b2c",
        "https://tracker.example:8443/p/a%2Fb?json=%7B%22a%22%3A1%7D",
    ],
)
def test_rendered_postback_urls_take_the_shortcut(url):
    assert is_canonical(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://Tracker.example/p",  # requests lowercases the host
        "https://tracker.example",  # and adds the path
        "https://tracker.example/p?",  # drops an empty query
        "https://tracker.example/p?a=%7e",  # uppercases escapes
        "https://tracker.example/p?a=%41",  # unquotes unreserved characters
        "https://tracker.example/a/../p",  # removes dot segments
        "https://tracker.example/p?a=b c",  # quotes what must be
        "https://tracker.example/p#top",
        "https://b\u00fccher.example/p",  # IDNA
        "https://tracker.example:99999/p",
    ],
)
def test_urls_requests_would_change_take_its_preparation(url):
    assert not is_canonical(url)
