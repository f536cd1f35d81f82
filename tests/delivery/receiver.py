"""A publisher's server on loopback whose answers a test scripts, and which can hang."""

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Answer:
    status: int = 200
    body: bytes | str = b"OK"
    headers: dict = field(default_factory=dict)
    hold: bool = False  # keep the request open until the receiver is released or closed
    answer_after_release: bool = False  # wait for the release, then answer normally


@dataclass
class Received:
    method: str
    path: str  # path with query string, as on the request line
    headers: dict
    body: bytes
    at: float = field(default_factory=time.monotonic)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


class Receiver:
    """ThreadingHTTPServer on host:port; answers from `script` in order, then `default`."""

    def __init__(self, host: str = "127.0.0.1"):
        self.script: list[Answer] = []
        self.default = Answer()
        self.requests: list[Received] = []
        self.release = threading.Event()
        self._arrived = threading.Condition()
        self.server = ThreadingHTTPServer((host, 0), self._handler_class())
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # senders that gave up
        self.host, self.port = host, self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def answer(self, *answers: Answer) -> None:
        self.script.extend(answers)

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Block until `count` requests have arrived; returns them all."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.requests) >= count, timeout):
                raise AssertionError(f"{len(self.requests)} of {count} requests arrived")
            return list(self.requests)

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def _next_answer(self, received: Received) -> Answer:
        with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
            return self.script.pop(0) if self.script else self.default

    def _handler_class(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait for a delayed ACK

            def log_message(self, *args):
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {key.lower(): value for key, value in self.headers.items()}
                answer = receiver._next_answer(Received(self.command, self.path, headers, body))
                if answer.answer_after_release:
                    receiver.release.wait(120)
                if answer.hold:
                    receiver.release.wait(120)
                    self.close_connection = True  # hang up without an answer
                    return
                payload = answer.body.encode() if isinstance(answer.body, str) else answer.body
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        return Handler
