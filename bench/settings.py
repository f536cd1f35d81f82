"""Benchmark settings: the platform's own settings plus a bare redirect view as baseline."""

from integr8.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
