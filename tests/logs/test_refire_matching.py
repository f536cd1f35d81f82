"""Re-fire matching on /logs/: count, confirm, a background job in chunks, its progress."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from postbacks import services
from postbacks.dispatch import run_dispatcher
from postbacks.models import Delivery, PostbackLog, RefireJob
from postbacks.tasks import sweep
from tests.refire_data import delivered, quiet_doorbell

pytestmark = pytest.mark.django_db(transaction=True)

QUERY = "status=failed&postback_name=Flaky"


@pytest.fixture
def flaky(make_config, receiver):
    return make_config(receiver.url("/pb?t={transaction_id}"), name="Flaky", postback_type="click")


def states(deliveries) -> set[str]:
    pks = [delivery.pk for delivery in deliveries]
    return set(Delivery.objects.filter(pk__in=pks).values_list("state", flat=True))


def test_the_list_offers_re_fire_matching_only_with_filters(ops_client):
    filtered = ops_client.get(f"/logs/?{QUERY}&live=1").content.decode()
    unfiltered = ops_client.get("/logs/").content.decode()

    assert f'href="/logs/refire/?{QUERY.replace("&", "&amp;")}"' in filtered
    assert 'id="refire-matching"' not in unfiltered


def test_the_confirm_page_counts_what_would_be_reopened_and_skipped(
    ops_client, flaky, click, make_config
):
    off = make_config("http://127.0.0.1:9/", name="Flaky", postback_type="click", enabled=False)
    delivered(flaky, click, 4)
    delivered(flaky, click, 3, state="succeeded")
    delivered(off, click, 2)

    response = ops_client.get("/logs/refire/?postback_name=Flaky")

    assert response.status_code == 200
    assert response.context["counts"] == services.RefireCounts(4, 3, 2, 100_000)
    html = response.content.decode()
    assert '<strong id="refire-count">4</strong>' in html
    assert 'name="include_succeeded"' in html and "csrfmiddlewaretoken" in html
    assert "<script>" not in html and 'src="/static/js/refire.js"' in html
    assert not RefireJob.objects.exists()


def test_confirm_runs_a_job_that_sends_each_delivery_once_more(
    ops_client, ops_user, flaky, click, receiver, monkeypatch
):
    monkeypatch.setattr(services, "REFIRE_CHUNK_SIZE", 300)
    deliveries = delivered(flaky, click, 1000)
    quiet = quiet_doorbell()

    response = ops_client.post(f"/logs/refire/?{QUERY}")

    job = RefireJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/logs/refire/{job.pk}/"
    assert (job.state, job.total, job.done, job.reopened) == ("done", 1000, 1000, 1000)
    assert (job.filters, job.include_succeeded, job.user_id) == (QUERY, False, ops_user.pk)
    progress = ops_client.get(f"/logs/refire/{job.pk}/progress.json").json()
    assert progress | {"id": 0} == {
        "id": 0,
        "state": "done",
        "state_label": "Done",
        "total": 1000,
        "done": 1000,
        "reopened": 1000,
        "percent": 100,
        "finished": True,
        "error": "",
    }
    quiet.delete()
    run_dispatcher()
    requests = receiver.wait_for(1000)
    assert len(requests) == 1000
    assert {r.header("webhook-id") for r in requests} == {d.webhook_id for d in deliveries}
    assert PostbackLog.objects.filter(trigger="refire", status="success").count() == 1000


def test_the_job_page_shows_progress_and_links(ops_client, flaky, click):
    delivered(flaky, click, 2)
    quiet_doorbell()
    ops_client.post(f"/logs/refire/?{QUERY}", {"include_succeeded": "on"})
    job = RefireJob.objects.get()

    html = ops_client.get(f"/logs/refire/{job.pk}/").content.decode()

    assert job.include_succeeded
    assert '<progress id="job-progress" class="job-progress" max="2" value="2">' in html
    assert f'data-progress-url="/logs/refire/{job.pk}/progress.json"' in html
    assert 'href="/logs/?trigger=refire&amp;created_after=' in html
    assert f'href="/logs/?{QUERY.replace("&", "&amp;")}"' in html
    assert '<meta http-equiv="refresh"' not in html  # finished: nothing to refresh


def test_a_queued_job_page_refreshes_without_javascript(ops_client, db):
    job = RefireJob.objects.create(filters="status=failed")
    html = ops_client.get(f"/logs/refire/{job.pk}/").content.decode()
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in html
    assert 'id="job-links" hidden' in html


def test_a_job_runs_once_even_if_its_task_runs_twice(flaky, click):
    deliveries = delivered(flaky, click, 2)
    quiet_doorbell()
    job = RefireJob.objects.create(filters="status=failed")
    logs = PostbackLog.objects.all()

    services.run_refire_job(job.pk, logs)
    Delivery.objects.update(state="failed")
    services.run_refire_job(job.pk, logs)

    job.refresh_from_db()
    assert (job.state, job.done, job.reopened) == ("done", 2, 2)
    assert states(deliveries) == {"failed"}  # the second run re-opened nothing


def test_above_the_limit_the_page_refuses(ops_client, flaky, click, settings):
    settings.REFIRE_MATCHING_LIMIT = 3
    delivered(flaky, click, 4)

    page = ops_client.get(f"/logs/refire/?{QUERY}")
    post = ops_client.post(f"/logs/refire/?{QUERY}")

    assert page.status_code == post.status_code == 400
    assert "More than 3 deliveries match" in page.content.decode()
    assert 'id="confirm-refire" disabled' in page.content.decode()
    assert not RefireJob.objects.exists()
    assert set(Delivery.objects.values_list("state", flat=True)) == {"failed"}


def test_a_job_above_the_limit_fails_with_the_reason(flaky, click, settings):
    """E.g. more rows matched by the time the task ran than when the page counted."""
    deliveries = delivered(flaky, click, 4)
    settings.REFIRE_MATCHING_LIMIT = 3

    job = services.queue_refire_job("status=failed", False, None)  # tasks run inline

    job.refresh_from_db()
    assert (job.state, job.done) == ("failed", 0)
    assert "At least 4 deliveries" in job.error and "at most 3" in job.error
    assert states(deliveries) == {"failed"}


@pytest.mark.parametrize(
    "query, key",
    [("", "filters"), ("status=maybe", "status"), ("colour=red", "colour")],
)
def test_missing_or_bad_filters_are_explained(ops_client, query, key):
    response = ops_client.post(f"/logs/refire/?{query}")
    assert response.status_code == 400
    assert key in response.context["errors"]
    assert not RefireJob.objects.exists()


def test_only_staff(client, django_user_model, db):
    job = RefireJob.objects.create(filters="status=failed")
    assert client.get("/logs/refire/?status=failed").status_code == 302
    user = django_user_model.objects.create_user("adv", password="pw")
    member = Client()
    member.force_login(user)
    for path in ("/logs/refire/?status=failed", f"/logs/refire/{job.pk}/progress.json"):
        assert member.get(path).status_code == 403
    assert member.post("/logs/refire/?status=failed").status_code == 403


def test_with_only_succeeded_deliveries_nothing_is_queued_until_include_succeeded(
    ops_client, flaky, click
):
    delivered(flaky, click, 2, state="succeeded")
    query = "postback_name=Flaky"

    page = ops_client.get(f"/logs/refire/?{query}").content.decode()
    unticked = ops_client.post(f"/logs/refire/?{query}")
    assert 'id="confirm-refire" disabled' in page
    assert 'id="refire-nothing">Nothing to re-open' in page
    assert unticked.status_code == 200 and not RefireJob.objects.exists()

    ticked = ops_client.post(f"/logs/refire/?{query}", {"include_succeeded": "on"})

    assert ticked.status_code == 302 and RefireJob.objects.count() == 1


def test_a_job_whose_run_was_lost_resumes_after_its_last_chunk(flaky, click, monkeypatch):
    """A worker killed mid-job: the sweep re-queues it and it re-opens only the rest."""
    monkeypatch.setattr(services, "REFIRE_CHUNK_SIZE", 300)
    deliveries = sorted(delivered(flaky, click, 1000), key=lambda delivery: delivery.pk)
    quiet_doorbell()
    long_ago = timezone.now() - timedelta(hours=1)
    job = RefireJob.objects.create(filters=QUERY, state="running", total=1000, done=300)
    RefireJob.objects.filter(pk=job.pk).update(
        reopened=300, last_delivery_id=deliveries[299].pk, created=long_ago, updated=long_ago
    )

    sweep()

    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.reopened) == ("done", 1000, 1000, 1000)
    assert states(deliveries[:300]) == {"failed"}  # the lost run's chunk is not re-fired twice
    assert states(deliveries[300:]) == {"pending"}


def test_a_run_that_was_overtaken_stops_without_re_opening(flaky, click):
    deliveries = delivered(flaky, click, 5)
    job = RefireJob.objects.create(filters=QUERY, state="running")
    stale = RefireJob.objects.get(pk=job.pk)
    RefireJob.objects.filter(pk=job.pk).update(last_delivery_id=max(d.pk for d in deliveries))

    logs = PostbackLog.objects.filter(status="failed", postback_name="Flaky")
    assert services._run_refire_chunks(stale, logs) is False
    assert states(deliveries) == {"failed"}


def test_a_recent_job_is_left_alone(flaky, click):
    job = RefireJob.objects.create(filters=QUERY, state="running")

    sweep()

    assert RefireJob.objects.get(pk=job.pk).state == "running"
