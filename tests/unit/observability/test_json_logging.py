"""JSON log lines: one event per line, trace correlation, and nothing secret in them."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from observability.logging import configure_logging, json_handler, write_line
from observability.redaction import redact_text
from tests.unit.observability.span_capture import Spans

CARD = "4242424242424242"
SECRET = "sk_live_8f3a9c"
SIGNATURE = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    output = io.StringIO()
    logger = logging.getLogger("paygate.test")
    handler = json_handler(output)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield output
    logger.removeHandler(handler)


def events(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_event_is_one_json_line_with_extras(stream: io.StringIO) -> None:
    log = logging.getLogger("paygate.test")
    log.info("payment %s created", "pay_1", extra={"payment_no": "pay_1", "amount": 1050})
    log.warning("line one\nline two")
    first, second = events(stream)
    assert {key: first[key] for key in ("level", "logger", "message", "payment_no", "amount")} == {
        "level": "INFO", "logger": "paygate.test", "message": "payment pay_1 created",
        "payment_no": "pay_1", "amount": 1050}
    assert str(first["timestamp"]).endswith("Z")
    assert second["message"] == "line one\nline two"
    assert len(stream.getvalue().splitlines()) == 2


def test_lines_carry_the_ids_of_the_current_span(stream: io.StringIO, spans: Spans) -> None:
    log = logging.getLogger("paygate.test")
    log.info("outside")
    with spans.tracer.start_as_current_span("request") as span:
        log.info("inside")
    outside, inside = events(stream)
    assert (outside["trace_id"], outside["span_id"]) == (None, None)
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert inside["span_id"] == format(span.get_span_context().span_id, "016x")


def test_uvicorn_color_message_is_left_out_of_the_json(stream: io.StringIO) -> None:
    log = logging.getLogger("paygate.test")
    log.info("hi", extra={"color_message": "\x1b[32mhi\x1b[0m", "client": "127.0.0.1"})
    (event,) = events(stream)
    assert "color_message" not in event
    assert (event["message"], event["client"]) == ("hi", "127.0.0.1")
    assert "\x1b" not in stream.getvalue()
    assert "\\u001b" not in stream.getvalue()


def test_card_numbers_cvcs_secrets_and_signatures_never_reach_the_output(
    stream: io.StringIO,
) -> None:
    log = logging.getLogger("paygate.test")
    log.info("charging card %s cvc=123 for merchant", CARD)
    log.info("request", extra={
        "headers": {"X-Signature": SIGNATURE, "Authorization": f"Bearer {SECRET}",
                    "X-API-Key": "key_public"},
        "body": {"payment_method": {"number": "4000 0000 0000 0002", "cvc": "321"}},
        "api_secret": SECRET,
        "raw_headers": [(b"x-signature", SIGNATURE.encode()), (b"host", b"paygate")],
    })
    log.info('upstream said {"cvc": "456", "webhook_secret": "%s"}', SECRET)
    log.info("X-Paygate-Signature: t=1700000000,v1=%s", SIGNATURE)
    try:
        raise ValueError(f"card {CARD} refused")
    except ValueError:
        log.exception("charge failed")
    output = stream.getvalue()
    for secret in (CARD, "4000 0000 0000 0002", "cvc=123", '"321"', '"456"', SECRET, SIGNATURE):
        assert secret not in output
    assert "key_public" in output  # the rest is kept
    assert '"paygate"' in output
    assert len(events(stream)) == 5


@pytest.mark.parametrize(("text", "expected"), [
    (f"card {CARD} ok", "card [REDACTED] ok"),
    ("order 1234567890123456 ok", "order 1234567890123456 ok"),  # fails Luhn: not a card
    ("Authorization: Bearer abc.def", "Authorization: [REDACTED]"),
    ("token=abc&amount=5", "token=[REDACTED]&amount=5"),
    ("invalid signature for merchant", "invalid signature for merchant"),
    ("2026-11-23 12:00:00", "2026-11-23 12:00:00"),
])
def test_redaction_rules(text: str, expected: str) -> None:
    assert redact_text(text) == expected


def test_configure_logging_routes_every_logger_through_one_json_handler() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    output = io.StringIO()
    try:
        configure_logging("INFO", output)
        handler = configure_logging("INFO", output)
        logging.getLogger("uvicorn.error").info("started with secret=%s", SECRET)
        ours = [h for h in root.handlers if getattr(h, "_paygate_handler", False)]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    assert ours == [handler]
    [event] = [json.loads(line) for line in output.getvalue().splitlines()]
    assert event["logger"] == "uvicorn.error"
    assert event["message"] == "started with secret=[REDACTED]"


@pytest.fixture
def json_root() -> Iterator[io.StringIO]:
    """The process's logging as `configure_logging` leaves it, writing to a buffer."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    output = io.StringIO()
    root.handlers[:] = []
    configure_logging("INFO", output)
    yield output
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_write_line_writes_what_a_record_would_straight_to_the_root_stream(
    json_root: io.StringIO, spans: Spans
) -> None:
    direct = logging.getLogger("paygate.fast.direct")
    routed = logging.getLogger("paygate.fast.routed")
    captured = io.StringIO()
    routed.addHandler(json_handler(captured))  # a handler of its own: a record is made
    routed.propagate = False
    try:
        with spans.tracer.start_as_current_span("request") as span:
            write_line(direct, logging.WARNING, "POST /x 401", {"status": 401, "route": "/x"})
            write_line(routed, logging.WARNING, "POST /x 401", {"status": 401, "route": "/x"})
        write_line(direct, logging.DEBUG, "below the level", {})
    finally:
        routed.handlers.clear()
        routed.propagate = True

    [fast] = events(json_root)
    [slow] = events(captured)
    for event in (fast, slow):
        assert (event["level"], event["message"], event["status"], event["route"]) == (
            "WARNING", "POST /x 401", 401, "/x")
        assert event["trace_id"] == format(span.get_span_context().trace_id, "032x")
        assert event["span_id"] == format(span.get_span_context().span_id, "016x")
        assert str(event["timestamp"]).endswith("Z")
    assert list(fast)[:6] == ["timestamp", "level", "logger", "message", "trace_id", "span_id"]
    assert set(fast) == set(slow)
