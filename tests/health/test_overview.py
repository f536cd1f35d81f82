"""`/`: the delivery overview — figures from the rollups, each linking into /logs/."""

from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from alerts.services import open_alert, resolve_alert
from health.chart import compact
from health.table import percent
from health.views import duration
from offers.models import Publisher
from postbacks import rollups
from postbacks.models import PostbackConfig
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


def page(client, **params):
    response = client.get("/", params)
    return response, BeautifulSoup(response.content, "html.parser")


def link_filters(href: str) -> dict[str, list[str]]:
    parts = urlsplit(href)
    assert parts.path == "/logs/"
    return parse_qs(parts.query)


def test_a_fresh_install_says_what_to_do_first(ops_client):
    response, soup = page(ops_client)

    assert response.status_code == 200
    empty = soup.select_one("#empty-state")
    assert empty is not None and "seed_demo" in empty.get_text()
    assert "postback config" in empty.get_text()


def test_anonymous_visitors_sign_in_and_non_staff_are_refused(client, django_user_model):
    assert client.get("/").status_code == 302
    django_user_model.objects.create_user("viewer", password="pw")
    client.login(username="viewer", password="pw")
    assert client.get("/").status_code == 403


@pytest.mark.parametrize(
    ("params", "name"),
    [({"window": "2h"}, "window"), ({"by": "x"}, "by"), ({"rows": "100"}, "rows")],
)
def test_an_unknown_window_or_grouping_is_a_400_naming_it(ops_client, params, name):
    response, soup = page(ops_client, **params)

    assert response.status_code == 400
    assert name in soup.select_one(".alert-error").get_text()


def test_figures_per_publisher_link_to_their_attempts(
    ops_client, client, click, advertiser_key, make_config, receiver, publisher
):
    make_config(receiver.url("/pb"), max_attempts=1)
    receiver.answer(Answer(200), Answer(404), Answer(500))
    for order in range(3):
        convert(client, advertiser_key, transaction_id=click.transaction_id, order_id=order)

    response, soup = page(ops_client, window="1h", by="publisher")

    assert response.status_code == 200
    row = soup.select_one("#groups tbody tr")
    assert f"{publisher.name} #{publisher.pk}" in row.th.get_text(" ", strip=True)
    cells = row.find_all("td")
    assert cells[0].get_text(strip=True) == "3"  # attempts
    attempts = link_filters(cells[0].a["href"])
    assert attempts["publisher_id"] == [str(publisher.pk)]
    assert "created_after" in attempts
    four_xx = link_filters(cells[4].a["href"])  # the 4xx column
    assert (cells[4].get_text(strip=True), four_xx["error__contains"]) == ("1", ["HTTP 4"])
    five_xx = link_filters(cells[5].a["href"])
    assert (cells[5].get_text(strip=True), five_xx["error__contains"]) == ("1", ["HTTP 5"])
    tiles = soup.select(".tile-value")
    assert tiles[0].get_text(strip=True) == "3"
    assert tiles[1].get_text(strip=True) == "33 %"  # one first attempt in three succeeded
    assert soup.select("svg.chart rect.ok") and soup.select("svg.chart rect.bad")


def test_the_links_land_on_logs_that_show_exactly_those_attempts(
    ops_client, client, click, advertiser_key, make_config, receiver
):
    make_config(receiver.url("/pb"), max_attempts=1)
    receiver.answer(Answer(404), Answer(200))
    for order in range(2):
        convert(client, advertiser_key, transaction_id=click.transaction_id, order_id=order)
    _, soup = page(ops_client, window="1h")
    four_xx = soup.select_one("#groups tbody tr").find_all("td")[4].a["href"]

    logs = BeautifulSoup(ops_client.get(four_xx).content, "html.parser")

    rows = logs.select("#log-table tbody tr")
    assert len(rows) == 1 and "HTTP 404" in rows[0].get_text()


def test_grouping_by_config_names_the_config(
    ops_client, client, click, advertiser_key, make_config, receiver
):
    config = make_config(receiver.url("/pb"), name="Traffic Co purchases")
    convert(client, advertiser_key, transaction_id=click.transaction_id)

    _, soup = page(ops_client, window="1h", by="config")

    row = soup.select_one("#groups tbody tr")
    assert f"Traffic Co purchases #{config.pk}" in row.th.get_text(" ", strip=True)
    filters = link_filters(row.find_all("td")[0].a["href"])
    assert filters["postback_name"] == ["Traffic Co purchases"]


def test_a_disabled_config_needs_attention_and_is_re_enabled_from_there(
    ops_client, make_config, receiver
):
    config = make_config(receiver.url("/pb"), name="Broken endpoint")
    PostbackConfig.objects.filter(pk=config.pk).update(
        enabled=False,
        consecutive_failures=10,
        disabled_reason="2026-12-01 10:00 UTC: Disabled after 10 consecutive failed deliveries.",
    )
    _, soup = page(ops_client)
    attention = soup.select_one("#needs-attention")
    assert "Broken endpoint" in attention.get_text() and "Disabled after 10" in attention.get_text()
    form = attention.find("form")

    response = ops_client.post(
        form["action"], {"next": form.find("input", {"name": "next"})["value"]}
    )

    assert response.status_code == 302 and response["Location"].startswith("/?")
    config.refresh_from_db()
    assert (config.enabled, config.consecutive_failures, config.disabled_reason) == (True, 0, "")
    _, soup = page(ops_client)
    assert soup.select_one("#needs-attention") is None


def test_re_enable_is_a_post_for_staff_only(client, make_config):
    config = make_config("http://127.0.0.1:9/pb", enabled=False)
    assert client.post(f"/configs/{config.pk}/enable/").status_code == 302  # to the login
    config.refresh_from_db()
    assert config.enabled is False


@pytest.mark.parametrize(
    ("ms", "words"),
    [(None, "—"), (84, "84 ms"), (2500, "2.5 s"), (720_000, "12 min"), (10_800_000, "3 h")],
)
def test_durations_read_in_a_unit_at_a_glance(ms, words):
    assert duration(ms) == words


def test_open_alerts_need_attention(ops_client, publisher):
    open_alert("x", "condition", "Postback 'A' (#1, publisher #1): first-attempt success 5 %")
    gone = open_alert("y", "condition", "Postback 'B': all well again")
    assert gone is not None
    resolve_alert(gone, "Cleared.")
    PostbackConfig.objects.create(name="A", publisher=publisher, url="https://pb.example/")

    page = BeautifulSoup(ops_client.get("/").content, "html.parser")

    [item] = page.select("#attention-alerts li")
    assert "first-attempt success 5 %" in item.text
    assert item.select_one("a")["href"].startswith("/alerts/#alert-")


def test_the_50_groups_with_most_failures_come_first_and_the_rest_on_request(
    ops_client, make_config
):
    make_config("http://127.0.0.1:9/pb")
    publishers = Publisher.objects.bulk_create(Publisher(name=f"P{n}") for n in range(55))
    now = rollups.bucket_start(timezone.now())
    rollups._upsert(
        {
            (now, 1, 1 + n): {
                "publisher_id": publisher.pk,
                "attempts": 100,
                "succeeded": 100 - n,
                "failed_5xx": n,
            }
            for n, publisher in enumerate(publishers)
        }
    )

    _, soup = page(ops_client, window="1h", by="publisher")
    names = [th.get_text().split(" #")[0] for th in soup.select("#groups tbody th")]
    assert names == [f"P{n}" for n in range(54, 4, -1)]  # 54 failures first, 50 rows
    more = soup.select_one("#more-groups")
    assert "of 55 publishers" in more.get_text()
    _, soup = page(ops_client, **dict(parse_qs(urlsplit(more.a["href"]).query)))
    assert len(soup.select("#groups tbody tr")) == 55
    assert soup.select_one("#more-groups") is None


def test_names_are_escaped_and_rates_below_80_percent_show_red(ops_client, make_config):
    make_config("http://127.0.0.1:9/pb")
    publisher = Publisher.objects.create(name='<script>alert("x")</script> & Co')
    now = rollups.bucket_start(timezone.now())
    counts = {"publisher_id": publisher.pk, "attempts": 10, "succeeded": 7, "failed_5xx": 3}
    first = {"first_attempts": 10, "first_attempt_successes": 7}
    rollups._upsert({(now, 1, 1): {**counts, **first}})

    response, soup = page(ops_client, window="1h")

    assert b"<script>alert" not in response.content
    row = soup.select_one("#groups tbody tr")
    assert row.th.get_text(" ", strip=True) == f'<script>alert("x")</script> & Co #{publisher.pk}'
    cells = row.find_all("td")
    assert cells[2].get_text() == "70 %" and cells[2].a["class"] == ["bad"]
    five_xx = cells[5].a
    assert five_xx.get_text() == "3" and link_filters(five_xx["href"])["status"] == ["failed"]


def test_needs_attention_lists_the_10_configs_with_most_used_up_and_links_to_the_rest(
    ops_client, client, click, advertiser_key, make_config
):
    for n in range(12):  # port 9 refuses: each delivery fails for good on its one attempt
        make_config(f"http://127.0.0.1:9/pb{n}", name=f"Dead end {n}", max_attempts=1)
    convert(client, advertiser_key, transaction_id=click.transaction_id)

    _, soup = page(ops_client, window="1h")

    items = soup.select("#attention-exhausted li")
    assert len(items) == 10
    assert all("1 failed for good" in item.get_text() for item in items)
    more = soup.select_one("#attention-exhausted + p.more")
    assert "10 of 12 configs" in more.get_text() and "12 deliveries" in more.get_text()
    assert link_filters(more.a["href"])["status"] == ["failed"]


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0"), (950, "950"), (9_500, "9.5k"), (131_823, "132k"), (2_453_508, "2.5M")],
)
def test_the_chart_axis_shows_counts_in_a_few_characters(count, text):
    assert compact(count) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (None, "—"),
        (0.734, "73 %"),
        (0.9994, "99.9 %"),
        (1.0, "100 %"),
        (0.0004, "0.1 %"),
        (0, "0 %"),
    ],
)
def test_rates_near_the_ends_never_round_to_all_or_nothing(rate, text):
    assert percent(rate) == text
