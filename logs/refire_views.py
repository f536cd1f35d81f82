"""Re-fire matching (SPEC §11 Bulk recovery): from a filtered /logs/ to a background job.

/logs/refire/?<filters> counts the distinct deliveries behind the matching rows and asks
to confirm; the POST records a RefireJob that a django-q2 task runs in chunks, and
/logs/refire/<id>/ shows its progress (static/js/refire.js polls the JSON beside it).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from accounts.access import staff_required
from logs.filters import filter_logs
from postbacks.models import RefireJob, RefireJobState
from postbacks.services import RefireCounts, count_refire_matching, queue_refire_job

INCLUDE_SUCCEEDED = "include_succeeded"  # the confirm form's checkbox (POST only)
FINISHED = (RefireJobState.DONE, RefireJobState.FAILED)


def _has_filters(params: QueryDict) -> bool:
    return any(value for _, values in params.lists() for value in values)


def _confirm_page(
    request: HttpRequest, counts: RefireCounts | None, errors: dict, include: bool
) -> HttpResponse:
    too_many = counts is not None and counts.too_many(include)
    context = {
        "counts": counts,
        "errors": errors,
        "include_succeeded": include,
        "too_many": too_many,
        "reopening": counts.reopening(include) if counts else 0,
        "query": request.GET.urlencode(),
        "can_confirm": counts is not None and not too_many and counts.reopening(include) > 0,
    }
    return render(request, "logs/refire.html", context, status=400 if errors or too_many else 200)


@staff_required
def refire_matching(request: HttpRequest) -> HttpResponse:
    """GET: what a re-fire of the filtered rows would re-open. POST: queue it as a job."""
    if not _has_filters(request.GET):
        errors = {"filters": ["Choose filters on the logs page first: this re-fires them all."]}
        return _confirm_page(request, None, errors, False)
    logs, errors = filter_logs(request.GET)
    if errors:
        return _confirm_page(request, None, errors, False)
    counts = count_refire_matching(logs)
    include = request.method == "POST" and request.POST.get(INCLUDE_SUCCEEDED) == "on"
    nothing = counts.reopening(include) == 0
    if request.method != "POST" or counts.too_many(include) or nothing:
        return _confirm_page(request, counts, {}, include)
    job = queue_refire_job(request.GET.urlencode(), include, request.user)
    return redirect("logs:refire-job", pk=job.pk)


def _progress(job: RefireJob) -> dict:
    finished = job.state in FINISHED
    return {
        "id": job.pk,
        "state": job.state,
        "state_label": job.get_state_display(),
        "total": job.total,
        "done": job.done,
        "reopened": job.reopened,
        "percent": round(100 * job.done / job.total) if job.total else 100 * finished,
        "finished": finished,
        "error": job.error,
    }


def _attempts_link(job: RefireJob) -> str:
    """The re-fired attempts since the job started (created_after is inclusive)."""
    params = QueryDict(mutable=True)
    params["trigger"] = "refire"
    params["created_after"] = job.created.strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{reverse('logs:list')}?{params.urlencode()}"


@staff_required
def refire_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(RefireJob, pk=pk)
    context = {
        "job": job,
        "progress": _progress(job),
        "filtered_link": f"{reverse('logs:list')}?{job.filters}",
        "attempts_link": _attempts_link(job),
    }
    return render(request, "logs/refire_job.html", context)


@staff_required
def refire_job_progress(request: HttpRequest, pk: int) -> JsonResponse:
    return JsonResponse(_progress(get_object_or_404(RefireJob, pk=pk)))
