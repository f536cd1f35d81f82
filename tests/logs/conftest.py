"""Fixtures for the postback log pages: log rows with every column set."""

from datetime import timedelta

import pytest
from django.utils import timezone

from postbacks.models import PostbackLog


@pytest.fixture
def make_log(db):
    """Create a PostbackLog with sensible defaults; any column can be overridden."""

    def make(**fields):
        defaults = {
            "status": "success",
            "postback_name": "Traffic Co install",
            "postback_type": "conversion",
            "offer_id": 1,
            "publisher_id": 7,
            "event_id": None,
            "transaction_id": "txn-default",
            "response_code": 200,
            "url": "https://publisher.example/pb?txn=txn-default",
            "error": "",
            "server_response": "OK",
        }
        defaults.update(fields)
        return PostbackLog.objects.create(**defaults)

    return make


@pytest.fixture
def sample_logs(make_log):
    """Six attempts covering every type, status, trigger and empty value worth filtering on."""
    now = timezone.now()
    return {
        "click": make_log(
            postback_type="click",
            postback_name="Click feed",
            offer_id=10,
            publisher_id=7,
            transaction_id="abc123",
            url="https://clicks.example/c?id=abc123",
            created=now - timedelta(days=3),
        ),
        "conversion": make_log(
            postback_type="conversion",
            postback_name="Install postback",
            offer_id=10,
            publisher_id=7,
            transaction_id="def456",
            url="https://pub.example/install?tid=def456",
            created=now - timedelta(days=2),
        ),
        "event": make_log(
            postback_type="event",
            postback_name="Purchase postback",
            offer_id=11,
            publisher_id=8,
            event_id=5,
            transaction_id="ghi789",
            url="https://pub.example/event?tid=ghi789&e=5",
            created=now - timedelta(days=1),
        ),
        "not_found": make_log(
            status="failed",
            postback_type="event",
            postback_name="Purchase postback",
            offer_id=11,
            publisher_id=8,
            event_id=6,
            transaction_id="jkl012",
            response_code=404,
            url="https://pub.example/event?tid=jkl012&e=6",
            error="HTTP 404",
            server_response="Missing parameter: goal",
            trigger="retry",
            created=now - timedelta(hours=5),
        ),
        "unauthorised": make_log(
            status="failed",
            postback_type="rejection",
            postback_name="Rejections",
            offer_id=12,
            publisher_id=9,
            transaction_id="mno345",
            response_code=401,
            url="https://other.example/reject?tid=mno345",
            error="HTTP 401",
            server_response='{"error": "bad token"}',
            trigger="refire",
            created=now - timedelta(hours=1),
        ),
        "timeout": make_log(
            status="failed",
            postback_type="conversion",
            postback_name="Install postback",
            offer_id=140,
            publisher_id=7,
            transaction_id="",
            response_code=0,
            url="https://slow.example/install",
            error="Timeout after 10 s",
            server_response="",
            trigger="test",
            created=now - timedelta(minutes=5),
        ),
    }
