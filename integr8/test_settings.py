"""Settings for the test suite: tasks run inline, loopback receivers are allowed."""

import os
import tempfile

from integr8.settings import *  # noqa: F403
from integr8.settings import DATABASES, Q_CLUSTER

Q_CLUSTER = {**Q_CLUSTER, "sync": True}
POSTBACK_ALLOW_NETWORKS = ["127.0.0.0/8", "::1/128"]
POSTBACK_IDLE_WAIT_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
OPS_EMAIL = "ops@example.com"
# Django's test client logs in without a request, which django-axes refuses: the
# throttling tests turn it on themselves (tests/setup/test_login_throttling.py).
AXES_ENABLED = False
# Suites call the API thousands of times; tests/api/test_throttling.py sets a rate.
API_RATE = ""
CLICK_RATE_PER_IP = CONVERSION_RATE_PER_IP = CUSTOM_POSTBACK_RATE_PER_IP = ""
# Counts stay in the test process even when REDIS_URL is set, so no test sees another
# run's; tests/setup/test_shared_cache.py tries the Redis cache itself.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not :memory:, so a real qcluster process can share the test database.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("SQLITE_TEST_PATH")
        or os.path.join(tempfile.gettempdir(), f"integr8-test-{os.getpid()}.sqlite3")
    }
