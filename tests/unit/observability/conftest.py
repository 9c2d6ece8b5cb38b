"""Fresh metrics, in-memory spans and a client for the tiny app, per test: nothing global."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from observability.litestar import instrument
from observability.metrics import Metrics
from tests.unit.observability.span_capture import Spans, spans_with_rate
from tests.unit.observability.tiny_app import http_client, tiny_app


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def spans() -> Iterator[Spans]:
    recorded = spans_with_rate(1.0)
    yield recorded
    recorded.provider.shutdown()


@pytest.fixture
async def client(metrics: Metrics, spans: Spans) -> AsyncIterator[httpx.AsyncClient]:
    async for http in http_client(instrument(tiny_app(metrics, spans), metrics, spans.provider)):
        yield http
