"""JSON lines on stdout, one event per line, carrying the trace and span ids.

Two filters run on the handler, so every record passes them whichever logger emitted it:
`TraceContextFilter` stamps the ids at emit time (in the request's context), and
`RedactionFilter` scrubs the message and the extra fields before anything is written.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Final, TextIO

from observability.redaction import redact_text, redact_value
from observability.trace_ids import current_span_id, current_trace_id

# uvicorn adds `color_message`, the message again with ANSI colour codes: never written.
_DROPPED: Final = frozenset({"color_message"})
_STANDARD: Final = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message", "asctime", "trace_id", "span_id", "taskName",
} | _DROPPED
_MARK: Final = "_paygate_handler"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What the caller passed with `extra=`, less the fields that are never written."""
    return {key: value for key, value in record.__dict__.items() if key not in _STANDARD}


class TraceContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id = current_trace_id()
        record.span_id = current_span_id()
        return True


class RedactionFilter(logging.Filter):
    """Rewrites the record in place: the formatted message and every extra field."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        record.msg, record.args = redact_text(message), ()
        for key, value in extra_fields(record).items():
            setattr(record, key, redact_value({key: value})[key])  # type: ignore[index]
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "trace_id": getattr(record, "trace_id", None),
            "span_id": getattr(record, "span_id", None),
            **extra_fields(record),
        }
        if record.exc_info:
            event["exception"] = redact_text(self.formatException(record.exc_info))
        if record.stack_info:
            event["stack"] = redact_text(self.formatStack(record.stack_info))
        return json.dumps(event, default=str, ensure_ascii=False)


def json_handler(stream: TextIO | None = None) -> logging.Handler:
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.addFilter(TraceContextFilter())
    handler.addFilter(RedactionFilter())
    handler.setFormatter(JsonFormatter())
    setattr(handler, _MARK, True)
    return handler


def configure_logging(level: int | str = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every logger to one JSON handler on the root (replacing an earlier one).

    Servers that install their own handlers (uvicorn: pass `log_config=None`) are routed
    to the root as well, so their lines are JSON and scrubbed too.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _MARK, False)]:
        root.removeHandler(old)
    handler = json_handler(stream)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    return handler
