"""Hand-written in-memory fakes for every port of `application.ports`."""

from tests.unit.fakes.channel import FakeChannel
from tests.unit.fakes.external import FakeOrders, FakeRisk
from tests.unit.fakes.gateway import Gateway, card
from tests.unit.fakes.idempotency import FakeIdempotencyStore
from tests.unit.fakes.platform import (
    FakeClock,
    FakeDestinations,
    FakeVault,
    FakeWebhookSender,
    SequentialIds,
)
from tests.unit.fakes.storage import FakeDatabase, FakeUnitOfWork, FakeUnitOfWorkFactory

__all__ = [
    "FakeChannel",
    "FakeClock",
    "FakeDatabase",
    "FakeDestinations",
    "FakeIdempotencyStore",
    "FakeOrders",
    "FakeRisk",
    "FakeUnitOfWork",
    "FakeUnitOfWorkFactory",
    "FakeVault",
    "FakeWebhookSender",
    "Gateway",
    "SequentialIds",
    "card",
]
