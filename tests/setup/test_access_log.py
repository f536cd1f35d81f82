"""An API key sent as key= or api_key= never reaches a log file (SPEC §14): a real
gunicorn, started as bin/run-all starts it, writes its access log to a file we read."""

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from integr8.gunicorn_logging import redacted

ROOT = Path(__file__).resolve().parents[2]
KEY = "itk_live_Sup3rS3cretKeyValue"


def run_all_logger_class() -> str:
    script = (ROOT / "bin" / "run-all").read_text()
    return re.search(r"--logger-class[ =](\S+)", script).group(1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(port: int, path: str, headers: dict | None = None) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_access_log_of_a_real_gunicorn_never_holds_the_key(tmp_path):
    port, access_log = free_port(), tmp_path / "access.log"
    command = [str(Path(sys.executable).parent / "gunicorn"), "integr8.wsgi"]
    command += ["-b", f"127.0.0.1:{port}", "-w", "1", "--access-logfile", str(access_log)]
    command += ["--logger-class", run_all_logger_class()]
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="integr8.test_settings")
    server = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                request(port, "/api/v1/")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.1)
        request(port, f"/no-such-page/?key={KEY}&sub1=a")
        request(port, f"/no-such-page/?sub1=a&API_KEY={KEY}", {"Referer": f"https://x/?key={KEY}"})
        request(port, "/api/v1/", {"Authorization": f"Bearer {KEY}"})
    finally:
        server.terminate()
        server.wait(timeout=10)

    logged = access_log.read_text()
    assert "/no-such-page/?key=****&sub1=a" in logged
    assert "API_KEY=****" in logged
    assert KEY not in logged


def test_redaction_keeps_everything_but_the_keys():
    assert redacted("GET /conversion/?transaction_id=t&key=abc&x=1 HTTP/1.1") == (
        "GET /conversion/?transaction_id=t&key=****&x=1 HTTP/1.1"
    )
    assert (
        redacted("GET /c/?monkey=1&api_key=zz HTTP/1.1") == "GET /c/?monkey=1&api_key=**** HTTP/1.1"
    )
