"""What a publisher's server did, as the log shows it: Status, Response Code, Error, Server
Response (issue 2's receivers: 400 with a body, 500, no answer, closed port)."""

import socket

import pytest

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
