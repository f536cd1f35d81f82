"""The dispatcher: claims due deliveries and fires them from a thread pool.

One django-q2 task per postback would cap delivery at the broker's task rate, so the
queue only carries a doorbell: `wake_dispatcher()` enqueues a dispatcher task unless one
is alive. The dispatcher claims due rows in batches (a lease in `locked_until`, taken
with SKIP LOCKED on PostgreSQL and under SQLite's write lock), sends them concurrently
over pooled connections, and records results in batched transactions. A periodic sweep
rings the bell for anything due, so a lost task or a killed worker only delays delivery.
"""

import logging
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import timedelta

from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import Max, Min
from django.utils import timezone

from postbacks.attempts import Attempt, prepare, record
from postbacks.models import Delivery, DeliveryState, Dispatcher
from postbacks.transport import Outcome, OutgoingRequest, new_session, send

logger = logging.getLogger(__name__)

HEARTBEAT_STALE = timedelta(seconds=15)
MAX_RUNTIME_SECONDS = 240  # below the qcluster task timeout (300 s)


def dispatcher_alive() -> bool:
    return Dispatcher.objects.filter(heartbeat__gte=timezone.now() - HEARTBEAT_STALE).exists()


def wake_dispatcher() -> None:
    """The doorbell: enqueue a dispatcher task unless one is already running."""
    if dispatcher_alive():
        return
    from django_q.tasks import async_task

    async_task("postbacks.tasks.dispatch", task_name="postbacks.dispatch", q_options={})


def claim(limit: int) -> list[Delivery]:
    """Lease up to `limit` due deliveries to this dispatcher."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.due(now)
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        if not ids:
            return []
        longest = Delivery.objects.filter(id__in=ids).aggregate(t=Max("config__timeout_seconds"))[
            "t"
        ]
        lease = now + timedelta(seconds=(longest or 10) + settings.POSTBACK_LEASE_MARGIN)
        Delivery.objects.filter(id__in=ids).update(locked_until=lease)
    return list(
        Delivery.objects.filter(id__in=ids).select_related(
            "config",
            "click__offer",
            "conversion__offer",
            "conversion__event",
            "conversion__click__offer",
        )
    )


def unbuildable(delivery: Delivery, exc: Exception) -> tuple[Attempt, Outcome]:
    request = OutgoingRequest(method=delivery.config.method, url=delivery.config.url)
    attempt = Attempt(delivery, request, delivery.attempts + 1, delivery.next_trigger)
    error = f"Could not build the request: {exc}"
    return attempt, Outcome(url=request.url, error=error, permanent=True)


def seconds_until_next_due() -> float | None:
    soonest = Delivery.objects.filter(state=DeliveryState.PENDING).aggregate(
        t=Min("next_attempt_at")
    )["t"]
    if soonest is None:
        return None
    return max(0.0, (soonest - timezone.now()).total_seconds())


class Run:
    """One dispatcher run: registered while alive so the doorbell stays quiet."""

    def __init__(self):
        self.concurrency = settings.POSTBACK_CONCURRENCY
        self.session = new_session(self.concurrency)
        self.pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="postback")
        self.in_flight = {}
        self.started = time.monotonic()
        self.me = None

    def register(self) -> bool:
        alive = Dispatcher.objects.filter(heartbeat__gte=timezone.now() - HEARTBEAT_STALE)
        if alive.count() >= settings.POSTBACK_DISPATCHERS:
            return False
        Dispatcher.objects.filter(heartbeat__lt=timezone.now() - HEARTBEAT_STALE).delete()
        self.me = Dispatcher.objects.create()
        return True

    def heartbeat(self) -> None:
        Dispatcher.objects.filter(pk=self.me.pk).update(heartbeat=timezone.now())

    def unregister(self) -> None:
        Dispatcher.objects.filter(pk=self.me.pk).delete()

    def fill(self) -> int:
        room = self.concurrency - len(self.in_flight)
        if room <= 0:
            return 0
        deliveries = claim(room)
        for delivery in deliveries:
            try:
                attempt = prepare(delivery)
            except Exception as exc:
                logger.exception("cannot build postback for delivery %s", delivery.pk)
                record([unbuildable(delivery, exc)])
                continue
            future = self.pool.submit(send, attempt.request, self.session)
            self.in_flight[future] = attempt
        return len(deliveries)

    def drain(self, timeout: float) -> None:
        if not self.in_flight:
            return
        done, _ = wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        # Let a few more finish so that results are written in batches.
        time.sleep(0.002)
        done = [future for future in self.in_flight if future.done()]
        results = [(self.in_flight.pop(future), future.result()) for future in done]
        record(results)

    def expired(self) -> bool:
        return time.monotonic() - self.started > MAX_RUNTIME_SECONDS

    def loop(self) -> None:
        last_beat = time.monotonic()
        while True:
            claimed = 0 if self.expired() else self.fill()
            if self.in_flight:
                self.drain(timeout=0.5)
            elif not claimed:
                if self.expired() or not self.wait_for_work():
                    return
            if time.monotonic() - last_beat > 2:
                self.heartbeat()
                last_beat = time.monotonic()

    def wait_for_work(self) -> bool:
        """Sleep until the next delivery is due, if that is soon; False = time to stop."""
        delay = seconds_until_next_due()
        if delay is None or delay > settings.POSTBACK_IDLE_WAIT_SECONDS:
            return False
        time.sleep(min(delay, 1.0) + 0.01)
        self.heartbeat()
        return True

    def close(self) -> None:
        self.pool.shutdown(wait=True)
        self.session.close()


def run_dispatcher() -> None:
    run = Run()
    if not run.register():
        return
    try:
        while True:
            run.loop()
            run.unregister()
            # A doorbell that rang while we were stopping saw us alive and stayed quiet.
            if run.expired() or not Delivery.objects.due().exists():
                break
            if not run.register():
                break
    finally:
        if run.in_flight:
            record([(attempt, future.result()) for future, attempt in run.in_flight.items()])
        Dispatcher.objects.filter(pk=run.me.pk).delete()
        run.close()
        close_old_connections()
    if run.expired() and Delivery.objects.due().exists():
        wake_dispatcher()
