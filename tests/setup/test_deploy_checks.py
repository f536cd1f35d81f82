"""The production settings the README documents pass `manage.py check --deploy`; on a
laptop (no TLS) the cookies stay non-Secure so that signing in over http works."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "track.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://track.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "SECURE_PROXY_SSL_HEADER": "1",
    "OPS_EMAIL": "ops@example.com",
}


def check(env: dict) -> subprocess.CompletedProcess:
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "integr8.settings", **env}
    # Set by the browser tests' live server for the test process; never in deployment.
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_documented_production_settings_pass_check_deploy():
    result = check(PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout
    readme = (ROOT / "README.md").read_text()
    for name, value in PRODUCTION.items():
        if name != "SECRET_KEY":
            assert f"{name}={value}" in readme, name


def test_without_tls_the_checks_say_what_is_missing():
    result = check({**PRODUCTION, "SECURE_SSL_REDIRECT": "0"})
    assert result.returncode != 0
    for warning in ("W004", "W008", "W012", "W016"):
        assert warning in result.stderr + result.stdout
