"""A real `python manage.py qcluster` against the test database, for tests that need one.

The test process runs with django-q2's sync mode (tasks inline); a worker started here
runs with the production settings module instead, pointed at the test database
(SQLite file or PostgreSQL test database) and at the same Redis when REDIS_URL is set.
Tests that use it must commit their data: `pytest.mark.django_db(transaction=True)`.

    with QCluster() as cluster:   # or the `qcluster` fixture
        ...
        cluster.kill()            # SIGKILL to the whole process group
        cluster.start()
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from django.db import connection

BASE_DIR = Path(__file__).resolve().parent.parent


def worker_environment(**overrides) -> dict:
    """Environment for a worker that shares this test run's database and broker."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "Q_SYNC", "SQLITE_PATH", "DATABASE_URL")
    }
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        env["SQLITE_PATH"] = str(name)
    else:
        parts = urlsplit(os.environ["DATABASE_URL"])
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    env.update(
        DJANGO_SETTINGS_MODULE="integr8.settings",
        PYTHONUNBUFFERED="1",
        Q_WORKERS="2",
        POSTBACK_ALLOW_NETWORKS="127.0.0.0/8,::1/128",
        POSTBACK_LEASE_MARGIN="1",
        POSTBACK_IDLE_WAIT_SECONDS="20",
        LOG_LEVEL="INFO",
    )
    env.update({key: str(value) for key, value in overrides.items()})
    return env


class QCluster:
    def __init__(self, **env):
        self.env = env
        self.process: subprocess.Popen | None = None
        self.pgid: int | None = None
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - kept open for the run
            prefix="integr8-qcluster-", suffix=".log", delete=False
        )

    def start(self) -> "QCluster":
        assert self.process is None, "already running"
        # Whatever the test wrote must be visible to the worker.
        connection.close()
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=worker_environment(**self.env),
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so kill() takes every child
        )
        self.pgid = self.process.pid
        return self

    def kill(self) -> None:
        """SIGKILL to the whole process group: nothing gets to clean up."""
        self._signal_group(signal.SIGKILL)
        self._reap(10)
        self.pgid = None

    def stop(self, grace: float = 3) -> None:
        """SIGTERM (django-q2 stops its workers), then SIGKILL what is left."""
        if self.process is None:
            return
        self._signal_group(signal.SIGTERM)
        if not self._reap(grace):
            self.kill()
        self._signal_group(signal.SIGKILL)  # stragglers of the group, if any
        self.pgid = None

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def _signal_group(self, sig) -> None:
        if self.pgid is None:
            return
        try:
            os.killpg(self.pgid, sig)
        except ProcessLookupError:
            pass

    def _reap(self, timeout: float) -> bool:
        if self.process is None:
            return True
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self.process = None
        # Children of the group may outlive the parent for a moment.
        time.sleep(0.2)
        return True

    def __enter__(self) -> "QCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log.close()
        if exc[0] is None:
            os.unlink(self.log.name)
        else:
            print(f"qcluster output kept in {self.log.name}:\n{self.output()[-4000:]}")
