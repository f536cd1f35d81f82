"""A real SMTP server on loopback (aiosmtpd) that keeps what it is sent."""

import socket
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller

from tests.delivery.receiver import Receiver


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.content)
        message["X-Rcpt-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted"

    def subjects(self) -> list[str]:
        return [str(message["Subject"]) for message in self.messages]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(settings):
    """Mail goes over SMTP to a server on 127.0.0.1; `smtp.messages` holds what arrived."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield mailbox
    controller.stop()


@pytest.fixture
def make_receiver():
    """Webhook receivers on loopback addresses (127.0.0.2 for the blocked case)."""
    servers: list[Receiver] = []

    def make(host: str = "127.0.0.1") -> Receiver:
        servers.append(Receiver(host))
        return servers[-1]

    yield make
    for server in servers:
        server.close()
