"""A business span leaves out what the business span around it was called with.

A payment's children (RiskCheck, CreateOrder, ChannelPayment) ran with the merchant, the
order, the amount and the currency of CreatePayment, and carried them again: a third of a
sampled payment's attribute values, each cleaned, locked, stored and encoded. A child now
carries what it adds: a value its parent does not have, or has with another value
(docs/adr/0037). Without a business span around it, a span carries everything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from opentelemetry.trace import StatusCode

from observability.attributes import Attributes
from observability.spans import BusinessSpan, not_said_by
from tests.unit.observability.span_capture import Spans, spans_with_rate


@dataclass(frozen=True)
class Call:
    attributes: Attributes


def read(call: object) -> Attributes:
    assert isinstance(call, Call)
    return dict(call.attributes)


def nothing(_: object) -> Attributes:
    return {}


def span(spans: Spans, name: str, after: object = nothing) -> BusinessSpan:
    return BusinessSpan(spans.tracer, name, read, after)  # type: ignore[arg-type]


PARENT = {"merchant_id": "mer_1", "order_no": "ORDER-1", "amount": 1050, "currency": "USD"}


@pytest.fixture
def spans() -> Spans:
    return spans_with_rate(1.0)


async def run(business_span: BusinessSpan, call: Call, inner: object = None) -> object:
    async def body(_: Call) -> object:
        if inner is not None:
            return await inner  # type: ignore[misc]
        return None
    return await business_span.call(body, (call,), {})


class TestAChildSaysWhatItAdds:
    async def test_a_value_equal_to_the_parents_is_left_out_and_a_new_one_kept(
        self, spans: Spans
    ) -> None:
        child = run(span(spans, "Child"), Call({**PARENT, "payment_no": "pay_1"}))
        await run(span(spans, "Parent"), Call(PARENT), child)
        assert dict(spans.named("Parent").attributes) == PARENT
        assert dict(spans.named("Child").attributes) == {"payment_no": "pay_1"}

    async def test_a_value_that_differs_from_the_parents_is_kept(self, spans: Spans) -> None:
        child = run(span(spans, "Child"), Call({**PARENT, "amount": 600}))
        await run(span(spans, "Parent"), Call(PARENT), child)
        assert dict(spans.named("Child").attributes) == {"amount": 600}

    async def test_without_a_business_parent_a_span_carries_everything(
        self, spans: Spans
    ) -> None:
        await run(span(spans, "Alone"), Call(PARENT))
        assert dict(spans.named("Alone").attributes) == PARENT

    async def test_a_grandchild_leaves_out_what_any_ancestor_said(self, spans: Spans) -> None:
        grandchild = run(span(spans, "Grandchild"),
                         Call({**PARENT, "payment_no": "pay_1", "refund_no": "ref_1"}))
        child = run(span(spans, "Child"), Call({"payment_no": "pay_1"}), grandchild)
        await run(span(spans, "Parent"), Call(PARENT), child)
        assert dict(spans.named("Grandchild").attributes) == {"refund_no": "ref_1"}

    async def test_siblings_and_later_spans_do_not_inherit_from_each_other(
        self, spans: Spans
    ) -> None:
        async def two_children(_: Call) -> None:
            await run(span(spans, "First"), Call({"payment_no": "pay_1"}))
            await run(span(spans, "Second"), Call({"payment_no": "pay_1"}))
        await span(spans, "Parent").call(two_children, (Call(PARENT),), {})
        await run(span(spans, "After"), Call({"merchant_id": "mer_1"}))
        assert dict(spans.named("First").attributes) == {"payment_no": "pay_1"}
        assert dict(spans.named("Second").attributes) == {"payment_no": "pay_1"}
        assert dict(spans.named("After").attributes) == {"merchant_id": "mer_1"}

    async def test_concurrent_parents_do_not_see_each_others_attributes(
        self, spans: Spans
    ) -> None:
        async def parent(number: int) -> None:
            child = run(span(spans, f"Child{number}"), Call({**PARENT, "order_no": "ORDER-1"}))
            await run(span(spans, f"Parent{number}"),
                      Call({**PARENT, "order_no": f"ORDER-{number}"}), child)
        await asyncio.gather(parent(1), parent(2))
        assert dict(spans.named("Child1").attributes) == {}
        assert dict(spans.named("Child2").attributes) == {"order_no": "ORDER-1"}

    async def test_a_result_equal_to_the_parents_call_is_left_out_too(
        self, spans: Spans
    ) -> None:
        child = span(spans, "Child", after=lambda _: {"currency": "USD", "outcome": "ok"})
        await run(span(spans, "Parent"), Call(PARENT), run(child, Call({})))
        assert dict(spans.named("Child").attributes) == {"outcome": "ok"}

    async def test_a_failing_child_still_leaves_out_its_parents_values(
        self, spans: Spans
    ) -> None:
        async def failing(_: Call) -> None:
            raise ValueError("declined")
        child = span(spans, "Child").call(failing, (Call({**PARENT, "payment_no": "p"}),), {})
        with pytest.raises(ValueError, match="declined"):
            await run(span(spans, "Parent"), Call(PARENT), child)
        failed = spans.named("Child")
        assert dict(failed.attributes) == {"payment_no": "p", "error.type": "ValueError"}
        assert failed.status.status_code is StatusCode.ERROR

    async def test_a_fault_is_read_from_all_the_attributes(self, spans: Spans) -> None:
        parent_call = Call({**PARENT, "outcome": "unknown"})
        child = span(spans, "Child", after=lambda _: {"outcome": "unknown"})
        await run(span(spans, "Parent"), parent_call, run(child, Call({})))
        unknown = spans.named("Child")
        assert "outcome" not in unknown.attributes  # the parent says it
        assert unknown.status.status_code is StatusCode.ERROR
        assert unknown.attributes["error.type"] == "unknown"


class TestNotSaidBy:
    def test_nothing_around_leaves_the_attributes_as_they_are(self) -> None:
        attributes: Attributes = {"a": 1}
        assert not_said_by(attributes, {}) is attributes

    def test_a_key_with_an_equal_value_goes_and_others_stay_in_order(self) -> None:
        assert list(not_said_by({"c": 3, "a": 1, "b": 2}, {"a": 1, "b": 5}).items()) == [
            ("c", 3), ("b", 2)]
