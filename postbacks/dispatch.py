"""The dispatcher: claims due deliveries and fires them from a thread pool.

One django-q2 task per postback would cap delivery at the broker's task rate, so the
queue only carries a doorbell: `wake_dispatcher()` enqueues a dispatcher task unless one
is alive. The dispatcher claims due rows in batches (a lease in `locked_until`, taken
with SKIP LOCKED on PostgreSQL and under SQLite's write lock), sends them concurrently
over pooled connections, and records results in batched transactions.

Nothing is lost when a worker dies: the rows it had claimed keep `in_flight` set and
become due again when their lease expires; the next claim logs the interrupted attempt
and retries it. Who rings the bell again: every qcluster worker when it starts, and the
periodic sweep (a django-q2 schedule). One slow publisher cannot hold up the others:
each config has at most POSTBACK_PER_CONFIG_CONCURRENCY requests in flight per dispatcher,
and a quarter of that while it does not answer (a request open for more than a second,
or its last attempt timed out or was refused).

Scale-out: POSTBACK_DISPATCHERS caps the dispatchers of one qcluster process, not of the
platform, so each worker process (and machine) brings its own share. A dispatcher whose
claims come back full while more is due calls for help (another doorbell task, at most
every HELP_EVERY_SECONDS): a worker process with room picks it up and starts one more.
"""

import logging
import os
import socket
import time
import uuid
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Case, F, Min, Value, When
from django.db.models.functions import Greatest
from django.utils import timezone
from django_q.conf import Conf
from django_q.tasks import async_task

from offers.models import Click, Conversion, Offer, OfferEvent
from postbacks.attempts import (
    Attempt,
    Subject,
    Unsendable,
    delivery_attempt,
    delivery_subject,
    held_back,
    prepare,
    record,
)
from postbacks.models import Delivery, DeliveryState, Dispatcher, PostbackConfig, PostbackType
from postbacks.rules import judged
from postbacks.transport import Outcome, OutgoingRequest, new_sender

logger = logging.getLogger(__name__)

HEARTBEAT_STALE = timedelta(seconds=15)
HEARTBEAT_EVERY = 2.0
# Below the qcluster task timeout (300 s) even with a full batch of 60 s timeouts after it.
MAX_RUNTIME_SECONDS = 180
# How long the dispatcher rides out an unreachable database before it gives up; its
# claimed rows then come back when their lease expires.
DATABASE_OUTAGE_SECONDS = 60
# A config with a request open this long gets the slow share until it answers again.
SLOW_AFTER_SECONDS = 1.0
INTERRUPTED = "Interrupted: the worker stopped during this attempt"
# The doorbell task, by its import path (django-q2 stores the name).
DISPATCH_TASK = "postbacks.tasks.dispatch"
# What a delivery's request is about, joined to it; the configs, offers and events they
# share are loaded once per claim (with_shared_relations), not once per row.
DELIVERY_SUBJECTS = ("click", "conversion", "conversion__click")
# Finished attempts are recorded in batches: when this many wait, when the oldest has
# waited RECORD_WAIT_SECONDS, or when nothing is in flight. At real latency answers
# trickle in, and a transaction per answer costs more CPU than the sending.
RECORD_BATCH = 200
RECORD_WAIT_SECONDS = 0.5
# A busy dispatcher asks for another one at most this often (a task that finds its
# qcluster full exits at once).
HELP_EVERY_SECONDS = 2.0
# The database is away (not a bad row): the run's blip handling deals with these.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def alive_dispatchers():
    return Dispatcher.objects.filter(heartbeat__gte=timezone.now() - HEARTBEAT_STALE)


def dispatcher_alive() -> bool:
    return alive_dispatchers().exists()


def wake_dispatcher(force: bool = False) -> None:
    """The doorbell: enqueue a dispatcher task unless one is already running.

    force skips that check (a dispatcher that was killed still looks alive for a while).
    """
    if not force and dispatcher_alive():
        return
    async_task(DISPATCH_TASK, task_name=DISPATCH_TASK, q_options={})


def wake_at_worker_start(**kwargs) -> None:
    """django-q2 post_spawn: a (re)started worker rings for what a dead one left behind."""
    if Conf.SYNC:  # sync mode "spawns" a worker for every task: nothing to recover
        return
    try:
        if Delivery.objects.filter(state=DeliveryState.PENDING).exists():
            wake_dispatcher(force=True)
    except Exception:  # a worker must start even while the database is away
        logger.exception("could not ring the postback doorbell at worker start")
    finally:
        close_old_connections()


def forget_dead_dispatchers() -> None:
    """Drop rows of dispatchers that stopped beating, or whose process on this host is gone.

    A killed worker leaves its row behind; without the process check a restarted worker
    would wait for the heartbeat to go stale before it may dispatch.
    """
    Dispatcher.objects.filter(heartbeat__lt=timezone.now() - HEARTBEAT_STALE).delete()
    local = Dispatcher.objects.filter(host=socket.gethostname()).values_list("pk", "pid")
    dead = [pk for pk, pid in local if pid and not _process_exists(pid)]
    if dead:
        Dispatcher.objects.filter(pk__in=dead).delete()


def this_cluster() -> str:
    """The qcluster process this task runs in: django-q2 workers are children of their
    cluster's sentinel, so host and parent pid name it."""
    return f"{socket.gethostname()}:{os.getppid()}"


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Claim:
    """Deliveries leased to one dispatcher under one token, and the due rows it could not
    load (recorded as failed, so that one bad row cannot stall the rest)."""

    token: str
    deliveries: list[Delivery] = field(default_factory=list)
    broken: list[tuple[Attempt, Outcome]] = field(default_factory=list)


def claim(limit: int, per_config: dict[int, int] | None = None) -> Claim:
    """Lease up to `limit` due deliveries to this dispatcher.

    per_config maps config id -> requests this dispatcher still may start for it; configs
    absent from it may take up to POSTBACK_PER_CONFIG_CONCURRENCY.
    """
    per_config = per_config or {}
    cap = settings.POSTBACK_PER_CONFIG_CONCURRENCY
    now = timezone.now()
    result = Claim(token=uuid.uuid4().hex)
    with transaction.atomic():
        # Lock the due rows alone first (an index scan in due order), then load what the
        # requests need: joining before the LIMIT would join and sort every due row.
        ids = list(
            Delivery.objects.due(now)
            .exclude(config_id__in=[pk for pk, room in per_config.items() if room <= 0])
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:limit]
        )
        rows, unloadable = load_deliveries(ids)
        taken, cancelled, room = [], [], dict(per_config)
        for delivery in rows:
            if not delivery.config.enabled:
                cancelled.append(delivery.pk)
            elif room.get(delivery.config_id, cap) > 0:
                room[delivery.config_id] = room.get(delivery.config_id, cap) - 1
                taken.append(delivery)
        if cancelled:
            Delivery.objects.among(cancelled).update(
                state=DeliveryState.CANCELLED,
                in_flight=False,
                claim_token="",
                last_error="Cancelled: the postback config is disabled",
                updated=now,
            )
        if taken:
            longest = max(delivery.config.timeout_seconds for delivery in taken)
            lease = now + timedelta(seconds=longest + settings.POSTBACK_LEASE_MARGIN)
            # A re-fire that came before this claim is served by it; one that comes
            # later (refire_requested set again) gets another round after it. An
            # interrupted attempt (in_flight still set) keeps the flag: its retry is
            # that re-fire.
            Delivery.objects.among(d.pk for d in taken).update(
                locked_until=lease,
                in_flight=True,
                claim_token=result.token,
                refire_requested=Case(
                    When(in_flight=True, then=F("refire_requested")), default=Value(False)
                ),
            )
        if unloadable:
            Delivery.objects.among(unloadable).update(claim_token=result.token)
    result.deliveries = taken
    result.broken = [unloaded(pk, exc, result.token) for pk, exc in unloadable.items()]
    return result


def load_deliveries(ids: list[int]) -> tuple[list[Delivery], dict[int, Exception]]:
    """The deliveries with what their requests need; rows that fail to load (a value the
    database holds but Python cannot read) are returned apart with their exception."""
    try:
        with transaction.atomic():  # a savepoint: a failed read leaves the claim usable
            return with_shared_relations(_deliveries(ids)), {}
    except CONNECTION_ERRORS:
        raise
    except Exception:
        logger.warning("cannot load a batch of deliveries; loading them one by one")
    rows: list[Delivery] = []
    broken: dict[int, Exception] = {}
    for pk in ids:
        try:
            with transaction.atomic():
                rows.extend(with_shared_relations(_deliveries([pk])))
        except CONNECTION_ERRORS:
            raise
        except Exception as exc:
            logger.exception("cannot load delivery %s", pk)
            broken[pk] = exc
    return rows, broken


def _deliveries(ids: list[int]) -> list[Delivery]:
    query = Delivery.objects.select_related(*DELIVERY_SUBJECTS).order_by("next_attempt_at")
    return list(query.among(ids))


def with_shared_relations(deliveries: list[Delivery]) -> list[Delivery]:
    """Attach each delivery's config, its subjects' offers and its conversion's event,
    each loaded once: a claim's rows share a few of them, and a model instance per row
    and relation cost the dispatcher more than the claim's queries."""
    subjects = {delivery.pk: _subjects(delivery) for delivery in deliveries}
    conversions = [delivery.conversion for delivery in deliveries if delivery.conversion]
    configs = PostbackConfig.objects.in_bulk({delivery.config_id for delivery in deliveries})
    offers = Offer.objects.in_bulk({s.offer_id for found in subjects.values() for s in found})
    events = OfferEvent.objects.in_bulk({c.event_id for c in conversions if c.event_id})
    for delivery in deliveries:
        delivery.config = configs[delivery.config_id]
        for subject in subjects[delivery.pk]:
            subject.offer = offers[subject.offer_id]
    for conversion in conversions:
        if conversion.event_id:
            conversion.event = events[conversion.event_id]
    return deliveries


def _subjects(delivery: Delivery) -> list[Click | Conversion]:
    conversion = delivery.conversion
    found = [delivery.click, conversion, conversion.click if conversion else None]
    return [subject for subject in found if subject is not None]


def unloaded(pk: int, exc: Exception, token: str) -> tuple[Attempt, Outcome]:
    """The failed attempt of a delivery whose click or conversion cannot be read."""
    delivery = Delivery.objects.select_related("config").get(pk=pk)
    subject = stored_subject(delivery)
    request = OutgoingRequest(method=delivery.config.method, url=delivery.config.url)
    error = (
        f"Could not load the {'conversion' if delivery.conversion_id else 'click'} "
        f"({type(exc).__name__}: {exc}); correct the stored row, then re-fire"
    )
    attempt = delivery_attempt(delivery, request, subject, token)
    return attempt, Outcome(url=request.url, error=error[:1000], permanent=True)


def stored_subject(delivery: Delivery) -> Subject:
    """The log row's IDs, read column by column so that an unreadable value elsewhere in
    the row does not matter."""
    model, pk = (
        (Conversion, delivery.conversion_id)
        if delivery.conversion_id
        else (Click, delivery.click_id)
    )
    names = ["transaction_id", "offer_id", "publisher_id"]
    if model is Conversion and delivery.postback_type == PostbackType.EVENT:
        names.append("event_id")
    values = model.objects.filter(pk=pk).values(*names).first() or {}
    return Subject(
        transaction_id=values.get("transaction_id", ""),
        offer_id=values.get("offer_id"),
        publisher_id=values.get("publisher_id"),
        event_id=values.get("event_id"),
        conversion_id=delivery.conversion_id,
        click_id=delivery.click_id,
    )


def unbuildable(delivery: Delivery, exc: Exception, token: str) -> tuple[Attempt, Outcome]:
    request = OutgoingRequest(method=delivery.config.method, url=delivery.config.url)
    attempt = delivery_attempt(delivery, request, delivery_subject(delivery), token)
    error = str(exc) if isinstance(exc, Unsendable) else f"Could not build the request: {exc}"
    return attempt, Outcome(url=request.url, error=error, permanent=True)


def interrupted(delivery: Delivery, token: str) -> tuple[Attempt, Outcome]:
    """The attempt a dead worker never finished: logged as failed with code 0, retried."""
    try:
        attempt = prepare(delivery, token)  # for the URL it was sent to
    except Exception:
        request = OutgoingRequest(method=delivery.config.method, url=delivery.config.url)
        attempt = delivery_attempt(delivery, request, delivery_subject(delivery), token)
    return attempt, Outcome(url=attempt.request.url, error=INTERRUPTED)


def judge(attempt: Attempt, outcome: Outcome) -> Outcome:
    """The attempt's config's success rule reads the answer."""
    return judged(outcome, attempt.config.success_rule)


def seconds_until_next_due() -> float | None:
    """When the next pending delivery may be claimed (its lease counts, too)."""
    soonest = (
        Delivery.objects.filter(state=DeliveryState.PENDING)
        .annotate(due_at=Greatest("next_attempt_at", "locked_until"))
        .aggregate(t=Min("due_at"))["t"]
    )
    if soonest is None:
        return None
    return max(0.0, (soonest - timezone.now()).total_seconds())


class Run:
    """One dispatcher run: registered while alive so the doorbell stays quiet."""

    def __init__(self):
        self.concurrency = settings.POSTBACK_CONCURRENCY
        self.sender = new_sender(self.concurrency)
        self.in_flight = {}
        self.slow = set()
        self.unrecorded = []
        self.unrecorded_since = 0.0  # when the oldest unrecorded result came (monotonic)
        self.sent_at = {}
        self.started = time.monotonic()
        self.me_id = 0  # our Dispatcher row while registered (0: none)
        self.cluster = this_cluster()
        self.helped_at = 0.0  # when this run last called for help (monotonic)

    def register(self) -> bool:
        """Become one of this qcluster's dispatchers, unless it has its share already."""
        forget_dead_dispatchers()
        # Join first, then count who joined before us: of tasks starting at the same
        # moment, only those within the share stay (a count before joining would let
        # them all in).
        me = Dispatcher.objects.create(
            host=socket.gethostname(), pid=os.getpid(), cluster=self.cluster
        )
        ahead = alive_dispatchers().filter(cluster=self.cluster, pk__lte=me.pk).count()
        if ahead > settings.POSTBACK_DISPATCHERS:
            me.delete()
            return False
        self.me_id = me.pk
        return True

    def call_for_help(self) -> bool:
        """Ring for one more dispatcher when this one is full and more is due; returns
        whether it rang. In sync mode (tests) a task would run inside this one: never."""
        now = time.monotonic()
        if Conf.SYNC or now - self.helped_at < HELP_EVERY_SECONDS:
            return False
        self.helped_at = now
        if not Delivery.objects.due().exists():
            return False
        async_task(DISPATCH_TASK, task_name=DISPATCH_TASK, q_options={})
        return True

    def heartbeat(self) -> None:
        Dispatcher.objects.filter(pk=self.me_id).update(heartbeat=timezone.now())

    def unregister(self) -> None:
        Dispatcher.objects.filter(pk=self.me_id).delete()

    def config_room(self) -> dict[int, int]:
        """Requests each config may still start; slow configs get a quarter of the share."""
        cap = settings.POSTBACK_PER_CONFIG_CONCURRENCY
        slow_cap = max(1, cap // 4)
        busy = Counter(attempt.delivery.config_id for attempt in self.in_flight.values())
        # A request still open after SLOW_AFTER marks its config slow before it times out.
        waiting = time.monotonic() - SLOW_AFTER_SECONDS
        slow = self.slow | {
            self.in_flight[future].delivery.config_id
            for future, sent in self.sent_at.items()
            if sent < waiting and future in self.in_flight
        }
        room = {config_id: slow_cap for config_id in slow}
        for config_id, count in busy.items():
            room[config_id] = (slow_cap if config_id in slow else cap) - count
        return room

    def note_speed(self, attempt: Attempt, outcome: Outcome) -> None:
        """A config whose last attempt got no answer (timeout, refused) counts as slow."""
        if outcome.response_code == 0 and not outcome.permanent:
            self.slow.add(attempt.claimed_delivery.config_id)
        else:
            self.slow.discard(attempt.claimed_delivery.config_id)

    def fill(self) -> int:
        room = self.concurrency - len(self.in_flight)
        # Claim in batches: a claim is a write transaction, not worth it for one slot.
        if room <= 0 or (self.in_flight and room < max(1, self.concurrency // 4)):
            return 0
        claimed = claim(room, self.config_room())
        if len(claimed.deliveries) + len(claimed.broken) >= room:
            self.call_for_help()  # a full claim: the backlog may be more than we can carry
        unsent = list(claimed.broken)
        for delivery in claimed.deliveries:
            if delivery.in_flight:
                unsent.append(interrupted(delivery, claimed.token))
                continue
            try:
                attempt = prepare(delivery, claimed.token)
            except Exception as exc:
                logger.exception("cannot build postback for delivery %s", delivery.pk)
                unsent.append(unbuildable(delivery, exc, claimed.token))
                continue
            skipped = held_back(delivery, timezone.now())
            if skipped is not None:
                unsent.append((attempt, replace(skipped, url=attempt.request.url)))
                continue
            future = self.sender.submit(attempt.request, partial(judge, attempt))
            self.in_flight[future] = attempt
            self.sent_at[future] = time.monotonic()
        record(unsent)
        return len(claimed.deliveries) + len(claimed.broken)

    def drain(self, timeout: float) -> None:
        if not self.in_flight:
            return
        wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
        # Let a few more finish so that results are written in batches.
        time.sleep(0.002)
        done = [future for future in self.in_flight if future.done()]
        results = [(self.in_flight.pop(future), future.result()) for future in done]
        for future in done:
            self.sent_at.pop(future, None)
        for attempt, outcome in results:
            self.note_speed(attempt, outcome)
        if results and not self.unrecorded:
            self.unrecorded_since = time.monotonic()
        self.unrecorded.extend(results)
        self.flush(force=False)

    def drain_timeout(self) -> float:
        """How long to wait for answers: half a second, or until a waiting batch is due."""
        if not self.unrecorded:
            return 0.5
        due = self.unrecorded_since + RECORD_WAIT_SECONDS - time.monotonic()
        return min(0.5, max(0.0, due))

    def flush(self, force: bool = True) -> None:
        """Record finished attempts; kept in memory across a database blip and retried.

        Unforced, only a batch (RECORD_BATCH, RECORD_WAIT_SECONDS, or nothing left in
        flight) is written."""
        if not self.unrecorded:
            return
        waited = time.monotonic() - self.unrecorded_since
        batch_ready = len(self.unrecorded) >= RECORD_BATCH or waited >= RECORD_WAIT_SECONDS
        if force or batch_ready or not self.in_flight:
            record(self.unrecorded)
            self.unrecorded = []

    def expired(self) -> bool:
        return time.monotonic() - self.started > MAX_RUNTIME_SECONDS

    def loop(self) -> None:
        last_beat = time.monotonic()
        failing_since = None
        while True:
            try:
                self.flush(force=False)
                claimed = 0 if self.expired() else self.fill()
                if self.in_flight:
                    self.drain(timeout=self.drain_timeout())
                elif not claimed and not self.unrecorded:
                    if self.expired() or not self.wait_for_work():
                        return
                if time.monotonic() - last_beat > HEARTBEAT_EVERY:
                    self.heartbeat()
                    last_beat = time.monotonic()
                failing_since = None
            except DatabaseError:
                # A database blip: keep sending what is in flight, retry the writes.
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > DATABASE_OUTAGE_SECONDS:
                    raise
                logger.warning("postback dispatcher: database unavailable", exc_info=True)
                connection.close()
                time.sleep(1)

    def wait_for_work(self) -> bool:
        """Sleep until the next delivery is due, if that is soon; False = time to stop."""
        delay = seconds_until_next_due()
        if delay is None or delay > settings.POSTBACK_IDLE_WAIT_SECONDS:
            return False
        time.sleep(min(delay, 1.0) + 0.01)
        self.heartbeat()
        return True

    def close(self) -> None:
        self.sender.close()


def run_dispatcher() -> None:
    run = Run()
    if not run.register():
        run.close()
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
        if run.in_flight or run.unrecorded:
            results = [(attempt, future.result()) for future, attempt in run.in_flight.items()]
            record(run.unrecorded + results)
        run.unregister()
        run.close()
        close_old_connections()
    if run.expired() and Delivery.objects.due().exists():
        wake_dispatcher(force=True)
