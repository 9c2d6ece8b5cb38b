"""The original platform's `JAEGER_*` settings, mapped onto OTLP.

`JAEGER_ENDPOINT` was the Thrift collector (`http://jaeger:14268/api/traces`); the same
Jaeger answers OTLP/HTTP on port 4318, so that URL becomes `http://jaeger:4318/v1/traces`.
`JAEGER_SAMPLING_RATE` was a percentage (0-100); OTel takes a ratio (0-1).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

OTLP_HTTP_PORT = 4318
TRACES_PATH = "/v1/traces"
_LEGACY_PORTS = frozenset({14268, 14250})
_log = logging.getLogger(__name__)


def otlp_endpoint_from_jaeger(url: str) -> str:
    """The OTLP/HTTP traces URL of the Jaeger that `url` names."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme or "http"
    path = parts.path.rstrip("/")
    if parts.port in _LEGACY_PORTS or path == "/api/traces":
        return f"{scheme}://{_host(parts)}:{OTLP_HTTP_PORT}{TRACES_PATH}"
    if not path:
        return f"{scheme}://{parts.netloc}{TRACES_PATH}"
    return url.strip()


def _host(parts: SplitResult) -> str:
    """The host, an IPv6 literal back in its brackets (`hostname` drops them)."""
    host = parts.hostname or ""
    return f"[{host}]" if ":" in host else host


def sampling_rate(env: Mapping[str, str]) -> float:
    """`OTEL_TRACES_SAMPLER_ARG` (0-1) first, else `JAEGER_SAMPLING_RATE` (0-100), else 1."""
    ratio = _number(env, "OTEL_TRACES_SAMPLER_ARG")
    if ratio is not None:
        return min(max(ratio, 0.0), 1.0)
    percent = _number(env, "JAEGER_SAMPLING_RATE")
    if percent is not None:
        return min(max(percent / 100, 0.0), 1.0)
    return 1.0


def _number(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        _log.warning("%s=%r is not a number: ignored", name, raw)
        return None
