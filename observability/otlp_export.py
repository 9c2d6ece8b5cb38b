"""paygate's OTLP/HTTP span exporter: a `SpanExporter` of its own, on public ground only.

It encodes a batch with `observability.otlp_encoding` (the same bytes as the SDK's encoder,
several times faster) and, should that ever fail, with the SDK's public encoder
(`opentelemetry.exporter.otlp.proto.common.trace_encoder.encode_spans`); it posts with an
`urllib3.PoolManager` it owns (urllib3 logs a request at DEBUG only; httpx would
write an INFO line per batch), and applies the size limit itself. It reads the standard
`OTEL_EXPORTER_OTLP_[TRACES_]{ENDPOINT,HEADERS,TIMEOUT,COMPRESSION,CERTIFICATE,
CLIENT_CERTIFICATE,CLIENT_KEY}` settings, as the SDK's exporter does.

What it says: with no collector listening, ONE warning when a batch first cannot be
delivered, nothing while the collector stays unreachable (each dropped batch is a debug
line), and ONE line when a batch is delivered again. A collector that is down is an
operator's fact to learn once, not a line every few seconds.

A batch is tried once, and again (twice at most, within the timeout) only when the
collector answers 429, 502, 503 or 504, i.e. asks to be called back; an unreachable
collector is not retried: the next batch, a few seconds later, is the retry.
"""

from __future__ import annotations

import gzip
import logging
import os
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Final

import urllib3
from opentelemetry.exporter.otlp.proto.common.trace_encoder import (
    encode_spans as sdk_encode_spans,
)
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_CERTIFICATE,
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
    OTEL_EXPORTER_OTLP_CLIENT_KEY,
    OTEL_EXPORTER_OTLP_COMPRESSION,
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_HEADERS,
    OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.util.re import parse_env_headers

from observability.otlp_encoding import encode_spans

DEFAULT_ENDPOINT: Final = "http://localhost:4318/v1/traces"
DEFAULT_TIMEOUT: Final = 10.0  # seconds
DEFAULT_MAX_REQUEST_SIZE: Final = 64 * 1024 * 1024  # bytes, as the SDK's exporter
RETRY_STATUSES: Final = frozenset({429, 502, 503, 504})
RETRIES: Final = 2
_log = logging.getLogger(__name__)


def _setting(env: Mapping[str, str], traces: str, general: str) -> str | None:
    return env.get(traces) or env.get(general) or None


def endpoint_from_env(env: Mapping[str, str]) -> str:
    """The traces URL: the signal's own variable as is, or the general one + /v1/traces."""
    own = env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    if own:
        return own
    general = env.get(OTEL_EXPORTER_OTLP_ENDPOINT)
    return f"{general.rstrip('/')}/v1/traces" if general else DEFAULT_ENDPOINT


class OTLPSpanExporter(SpanExporter):
    """`OTLPSpanExporter(endpoint=...)`; any argument left out is read from `OTEL_*`."""

    def __init__(
        self, endpoint: str | None = None, *, headers: Mapping[str, str] | None = None,
        timeout: float | None = None, compression: str | None = None,
        max_request_size: int | None = None, env: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if env is None else env
        self.endpoint = endpoint or endpoint_from_env(env)
        if timeout is None:
            configured = _setting(env, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
                                  OTEL_EXPORTER_OTLP_TIMEOUT)
            timeout = float(configured) if configured else DEFAULT_TIMEOUT
        self.timeout = timeout
        compression = (compression or _setting(
            env, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, OTEL_EXPORTER_OTLP_COMPRESSION) or "none")
        self.gzip = compression.strip().lower() == "gzip"
        self.max_request_size = (DEFAULT_MAX_REQUEST_SIZE if max_request_size is None
                                 else max_request_size)
        sent_headers = {"Content-Type": "application/x-protobuf"}
        configured_headers = _setting(env, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
                                      OTEL_EXPORTER_OTLP_HEADERS)
        sent_headers.update(
            headers if headers is not None
            else parse_env_headers(configured_headers or "", liberal=True))
        if self.gzip:
            sent_headers["Content-Encoding"] = "gzip"
        self._headers = sent_headers
        self._client = urllib3.PoolManager(
            timeout=urllib3.Timeout(total=timeout), retries=False, ssl_context=_tls(env))
        self._stopped = threading.Event()
        self._state = threading.Lock()
        self._failed_batches = 0  # since the last delivered batch; > 0: the warning was said

    # -- SpanExporter ----------------------------------------------------------------------
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._stopped.is_set():
            return SpanExportResult.FAILURE
        data = self._encode(spans)
        if 0 < self.max_request_size < len(data):
            _log.warning("OTLP span batch dropped: %d bytes is over the %d-byte limit",
                         len(data), self.max_request_size)
            return SpanExportResult.FAILURE
        problem = self._post(gzip.compress(data) if self.gzip else data)
        if problem is None:
            self._delivered()
            return SpanExportResult.SUCCESS
        self._undelivered(problem, len(spans))
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._stopped.set()
        self._client.clear()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True  # nothing is held here: every batch is posted as it is exported

    # -- the parts --------------------------------------------------------------------------
    @staticmethod
    def _encode(spans: Sequence[ReadableSpan]) -> bytes:
        try:
            return encode_spans(spans)
        except Exception:  # whatever it is, the SDK's encoder writes this batch
            _log.debug("fast OTLP encoding failed: the SDK's encoder writes this batch",
                       exc_info=True)
            encoded: bytes = sdk_encode_spans(spans).SerializeToString()
            return encoded

    def _post(self, body: bytes) -> str | None:
        """None once the collector accepted `body`; otherwise what went wrong."""
        deadline = time.monotonic() + self.timeout
        for attempt in range(RETRIES + 1):
            try:
                answer = self._client.request(
                    "POST", self.endpoint, body=body, headers=self._headers)
            except (urllib3.exceptions.HTTPError, OSError) as error:
                return f"{type(error).__name__}: {error}"
            if 200 <= answer.status < 300:
                return None
            problem = f"HTTP {answer.status}"
            pause = 0.5 * 2**attempt
            if (answer.status not in RETRY_STATUSES or attempt == RETRIES
                    or time.monotonic() + pause > deadline or self._stopped.wait(pause)):
                return problem
        return problem  # pragma: no cover (the loop always returns)

    def _undelivered(self, problem: str, spans: int) -> None:
        with self._state:
            self._failed_batches += 1
            first = self._failed_batches == 1
        if first:
            _log.warning(
                "OTLP trace export to %s failed (%s): spans are dropped until the collector "
                "answers again; this is said once, and once more when it recovers",
                self.endpoint, problem)
        else:
            _log.debug("OTLP trace export to %s still failing (%s): %d spans dropped",
                       self.endpoint, problem, spans)

    def _delivered(self) -> None:
        with self._state:
            failed, self._failed_batches = self._failed_batches, 0
        if failed:
            _log.warning("OTLP trace export to %s recovered after %d undelivered batches",
                         self.endpoint, failed)


def _tls(env: Mapping[str, str]) -> ssl.SSLContext | None:
    """Certificates from `OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE` and the client pair."""
    authority = _setting(env, OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, OTEL_EXPORTER_OTLP_CERTIFICATE)
    certificate = _setting(env, OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
                           OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)
    key = _setting(env, OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY, OTEL_EXPORTER_OTLP_CLIENT_KEY)
    if authority is None and certificate is None:
        return None  # urllib3's default: the system's authorities
    context = ssl.create_default_context(cafile=authority)
    if certificate is not None:
        context.load_cert_chain(certificate, key)
    return context
