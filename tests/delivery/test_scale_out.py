"""Scale-out (issue 13): POSTBACK_DISPATCHERS caps the dispatchers of one qcluster
process, and a full dispatcher calls for help, so added worker processes add capacity."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from postbacks.dispatch import Run, run_dispatcher, this_cluster
from postbacks.models import Delivery, Dispatcher
from tests.delivery.test_dispatcher import click_deliveries, quiet_doorbell

pytestmark = pytest.mark.django_db(transaction=True)


def alive_elsewhere(count: int) -> None:
    """Dispatchers of another qcluster on another machine, heartbeats fresh."""
    for pid in range(count):
        Dispatcher.objects.create(host="worker-2.example", pid=pid + 10, cluster="worker-2:1")


def test_another_clusters_dispatchers_do_not_use_up_this_ones_share(
    offer, publisher, make_config, receiver
):
    alive_elsewhere(4)  # more than POSTBACK_DISPATCHERS (2)
    make_config(receiver.url("/pb"), postback_type="click")
    click_deliveries(offer, publisher, 3)

    run_dispatcher()

    assert len(receiver.wait_for(3)) == 3
    assert Dispatcher.objects.filter(cluster="worker-2:1").count() == 4


def test_this_clusters_share_is_its_cap(db):
    for _ in range(2):
        Dispatcher.objects.create(host="worker-3.example", cluster=this_cluster())
    run = Run()
    try:
        assert run.register() is False
        with override_settings(POSTBACK_DISPATCHERS=3):
            assert run.register() is True
        assert Dispatcher.objects.get(pk=run.me_id).cluster == this_cluster()
    finally:
        run.unregister()
        run.close()


@pytest.fixture
def queued_tasks(monkeypatch):
    """The real broker, as a qcluster would read it (not the tests' inline mode)."""
    monkeypatch.setattr(Conf, "SYNC", False)
    broker = get_broker()
    broker.purge_queue()
    yield broker
    broker.purge_queue()


@override_settings(POSTBACK_CONCURRENCY=2)
def test_a_full_claim_with_more_due_calls_for_help_once_per_interval(
    offer, publisher, make_config, receiver, queued_tasks
):
    make_config(receiver.url("/pb"), postback_type="click")
    quiet_doorbell()
    click_deliveries(offer, publisher, 6)
    queued_tasks.purge_queue()
    run = Run()
    try:
        run.fill()  # claims 2 of 6: more is due
        assert queued_tasks.queue_size() == 1
        run.drain(timeout=5)
        run.fill()  # full again, but it asked a moment ago
        assert queued_tasks.queue_size() == 1
    finally:
        run.drain(timeout=5)
        run.close()


@override_settings(POSTBACK_CONCURRENCY=8)
def test_a_claim_that_takes_everything_due_rings_for_nobody(
    offer, publisher, make_config, receiver, queued_tasks
):
    make_config(receiver.url("/pb"), postback_type="click")
    quiet_doorbell()
    click_deliveries(offer, publisher, 3)
    queued_tasks.purge_queue()
    run = Run()
    try:
        run.fill()
        assert queued_tasks.queue_size() == 0
        run.helped_at = 0.0
        Delivery.objects.update(next_attempt_at=timezone.now() + timedelta(hours=1))
        assert run.call_for_help() is False  # nothing else due
    finally:
        run.drain(timeout=5)
        run.close()


def test_of_four_tasks_only_the_share_stays_and_the_others_leave_no_row(db):
    runs = [Run() for _ in range(4)]
    try:
        joined = [run.register() for run in runs]
        assert joined == [True, True, False, False]
        assert Dispatcher.objects.filter(cluster=this_cluster()).count() == 2
    finally:
        for run in runs:
            run.unregister()
            run.close()
