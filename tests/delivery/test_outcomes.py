"""What a publisher's server did, as the log shows it: Status, Response Code, Error, Server
Response (issue 2's receivers: 400 with a body, 500, no answer, closed port)."""

import socket

import pytest

from postbacks.log_writer import insert_logs, storable
from postbacks.models import PostbackLog
from postbacks.transport import RESPONSE_LIMIT, TRUNCATION_MARKER
from tests.conftest import convert
from tests.delivery.receiver import Answer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True, params=["asyncio", "threads"])
def sender(request, settings):
    """The same words in the log whichever path sent the postback."""
    settings.POSTBACK_SENDER = request.param
    return request.param


def only_log():
    log = PostbackLog.objects.get()
    return log.status, log.response_code, log.error, log.server_response


def test_400_with_a_body(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(400, '{"error": "unknown click"}'))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("failed", 400, "HTTP 400", '{"error": "unknown click"}')


def test_500(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(500, "Internal Server Error"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("failed", 500, "HTTP 500", "Internal Server Error")


def test_never_answers_is_a_timeout(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"), timeout_seconds=1)
    receiver.answer(Answer(hold=True))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("failed", 0, "Timeout after 1 s", "")
    assert PostbackLog.objects.get().duration_ms >= 900


def test_closed_port_is_connection_refused(client, click, advertiser_key, make_config):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    make_config(f"http://127.0.0.1:{port}/pb")

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("failed", 0, "Connection refused", "")


def test_success_keeps_the_response(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb?tid={transaction_id}"))
    receiver.answer(Answer(201, "accepted"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("success", 201, "", "accepted")
    log = PostbackLog.objects.get()
    assert log.url == receiver.url(f"/pb?tid={click.transaction_id}")
    assert (log.method, log.attempt, log.trigger) == ("GET", 1, "automatic")


def test_response_is_truncated_at_64_kib(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(200, "x" * (RESPONSE_LIMIT + 5000)))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    response = PostbackLog.objects.get().server_response
    assert response == "x" * RESPONSE_LIMIT + TRUNCATION_MARKER


def test_response_of_exactly_64_kib_is_whole(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(200, "y" * RESPONSE_LIMIT))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert PostbackLog.objects.get().server_response == "y" * RESPONSE_LIMIT


def test_post_sends_the_rendered_body(client, click, advertiser_key, make_config, receiver):
    make_config(
        receiver.url("/pb"),
        method="POST",
        content_type="json",
        body='{"tid": "{transaction_id}", "sub1": "{sub1}"}',
    )

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    request = receiver.wait_for(1)[0]
    assert request.method == "POST" and request.header("content-type") == "application/json"
    assert request.body.decode() == f'{{"tid": "{click.transaction_id}", "sub1": "s1"}}'


def test_an_unknown_charset_is_read_as_utf8(client, click, advertiser_key, make_config, receiver):
    make_config(receiver.url("/pb"))
    receiver.answer(Answer(200, "reçu", {"Content-Type": "text/plain; charset=x-no-such"}))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("success", 200, "", "reçu")


def test_a_nul_in_the_answer_is_logged_as_a_replacement_character(
    client, click, advertiser_key, make_config, receiver
):
    """PostgreSQL text cannot hold a NUL: it must not fail the batch being recorded."""
    config = make_config(receiver.url("/pb"))
    receiver.answer(Answer(200, b"ok\x00done"))

    convert(client, advertiser_key, transaction_id=click.transaction_id)

    assert only_log() == ("success", 200, "", "ok\ufffddone")
    assert config.deliveries.get().state == "succeeded"


def test_nuls_anywhere_in_a_log_row_are_stored_as_replacement_characters(make_config):
    config = make_config("http://127.0.0.1:9/pb")
    odd = PostbackLog(
        status="failed",
        postback_name="odd\x00name",
        postback_type="conversion",
        url="http://127.0.0.1:9/pb",
        error="Failed\x00",
        server_response="\x00",
        request_headers={"x-odd\x00": "a\x00b", "webhook-id": "msg_1"},
        config=config,
    )
    plain = PostbackLog(
        status="success", postback_name="plain", postback_type="conversion", url="u", config=config
    )

    insert_logs([storable(odd), storable(plain)])

    stored = PostbackLog.objects.order_by("id")
    assert [log.postback_name for log in stored] == ["odd\ufffdname", "plain"]
    first = stored[0]
    assert (first.error, first.server_response) == ("Failed\ufffd", "\ufffd")
    assert first.request_headers == {"x-odd\ufffd": "a\ufffdb", "webhook-id": "msg_1"}
