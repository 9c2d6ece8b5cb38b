"""The SDK's OTLP/HTTP span exporter, encoding with `observability.otlp_encoding`.

Everything but the encoding stays the SDK's: the `OTEL_EXPORTER_OTLP_*` settings, the HTTP
session, compression, retries and its own metrics. The SDK has no hook for the encoder, so
`export` follows the SDK's (1.45) with the encoder swapped, and reaches the SDK's private
HTTP client to send the bytes. Whenever that client is not there (another SDK version) or
anything out of the ordinary happens (shut down, a batch over the size limit, a span the
fast encoder cannot write), the SDK's own `export` handles the batch as it always did.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as SdkOTLPSpanExporter,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExportResult

from observability.otlp_encoding import encode_spans

HTTP_RESPONSE_STATUS_CODE = "http.response.status_code"
_log = logging.getLogger(__name__)


class OTLPSpanExporter(SdkOTLPSpanExporter):
    """`OTLPSpanExporter(endpoint=...)`, as the SDK's, with spans encoded several times faster."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.encodes_fast = _has_sdk_internals(self)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if not self.encodes_fast or self._shutdown:
            return super().export(spans)
        try:
            data = encode_spans(spans)
        except Exception:  # whatever it is, the SDK's encoder reports it its own way
            _log.debug("fast OTLP encoding failed: the SDK encodes this batch", exc_info=True)
            return super().export(spans)
        if 0 < self._max_request_size < len(data):
            return super().export(spans)  # it logs and counts the dropped batch
        with self._metrics.export_operation(len(spans)) as result:
            sent = self._client.export(data)
            if not sent.success:
                result.error = sent.error
                if sent.status_code is not None:
                    result.error_attrs = {HTTP_RESPONSE_STATUS_CODE: sent.status_code}
                return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS


def _has_sdk_internals(exporter: SdkOTLPSpanExporter) -> bool:
    """The SDK version this was written against (1.45) keeps these; others fall back."""
    client = getattr(exporter, "_client", None)
    metrics = getattr(exporter, "_metrics", None)
    return (
        callable(getattr(client, "export", None))
        and callable(getattr(metrics, "export_operation", None))
        and isinstance(getattr(exporter, "_max_request_size", None), int)
        and isinstance(getattr(exporter, "_shutdown", None), bool)
    )
