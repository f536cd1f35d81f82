"""The delivery tests' loopback receiver, for figures made by real attempts."""

import pytest

from tests.delivery.receiver import Receiver


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()
