"""Background tasks of the ops pages (django-q2 runs them by import path)."""

from django.http import QueryDict

from logs.filters import filter_logs
from postbacks import services
from postbacks.models import RefireJob


def run_refire_job(job_id: int) -> None:
    """Run a queued "Re-fire matching" job: its stored filters select the log rows.

    The filters were checked when the job was created; should they no longer parse,
    filter_logs gives no rows and the job ends with nothing re-opened.
    """
    query_string = RefireJob.objects.filter(pk=job_id).values_list("filters", flat=True).first()
    if query_string is None:
        return
    logs, _ = filter_logs(QueryDict(query_string))
    services.run_refire_job(job_id, logs)
