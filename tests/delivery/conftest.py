"""Fixtures for delivery tests: scriptable loopback receivers and a dispatcher kick."""

import pytest
from django.utils import timezone

from postbacks.dispatch import run_dispatcher
from postbacks.models import Delivery
from tests.delivery.receiver import Receiver
from tests.qcluster_harness import QCluster


@pytest.fixture
def make_receiver():
    """Receivers on other loopback addresses, e.g. 127.0.0.2 for the SSRF tests."""
    servers = []

    def make(host: str = "127.0.0.1") -> Receiver:
        servers.append(Receiver(host))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def admin_config_form(publisher, **fields) -> dict:
    """What the admin's Add postback config form posts, with `fields` on top."""
    return {
        "name": "Publisher postback",
        "publisher": publisher.pk,
        "postback_type": "conversion",
        "method": "GET",
        "content_type": "form",
        "enabled": "on",
        "timeout_seconds": 10,
        "max_attempts": 5,
        "delay_seconds": 0,
        "disable_after_failures": 10,
        "on_denied_consent": "strip",
        **fields,
    }


def fire_due_now() -> None:
    """Move every pending delivery's clock forward and run the dispatcher as the worker does.

    Tests drive time this way instead of sleeping through the retry schedule.
    """
    now = timezone.now()
    Delivery.objects.filter(state="pending").update(next_attempt_at=now, locked_until=now)
    run_dispatcher()


@pytest.fixture
def qcluster(transactional_db, monkeypatch):
    """A real qcluster worker (not started yet: call .start()); stopped after the test.

    The test process stops running tasks inline, so its doorbells go through the real
    broker (ORM or Redis) to the worker, as the web process's do.
    """
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    cluster = QCluster()
    yield cluster
    cluster.stop()
    print(cluster.output()[-6000:])  # shown by pytest when the test failed
    cluster.__exit__(None, None, None)
