"""`ParentBasedShortcut` decides exactly as the SDK's `ParentBased`, a sampled local
parent's child in one step."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags, TraceState

from observability.edge_sampling import drops_children_of_unsampled, follows_parent
from observability.sampling import ParentBasedShortcut

SAMPLED, NOT_SAMPLED = TraceFlags(TraceFlags.SAMPLED), TraceFlags(TraceFlags.DEFAULT)
STATE = TraceState([("vendor", "1")])
LOW_ID, HIGH_ID = 0x1, 0xFFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF_FFFF  # ratio 0.5: in, out


def parent(remote: bool, flags: TraceFlags, state: TraceState | None = STATE) -> Context:
    ids = SpanContext(0xABC, 0xDEF, is_remote=remote, trace_flags=flags, trace_state=state)
    return trace.set_span_in_context(NonRecordingSpan(ids))


PARENTS = {
    "none": None,
    "invalid": trace.set_span_in_context(trace.INVALID_SPAN),
    "invalid, flagged sampled": trace.set_span_in_context(NonRecordingSpan(
        SpanContext(0, 0, is_remote=False, trace_flags=SAMPLED))),
    "local sampled": parent(False, SAMPLED),
    "local sampled, no state": parent(False, SAMPLED, None),
    "local not sampled": parent(False, NOT_SAMPLED),
    "remote sampled": parent(True, SAMPLED),
    "remote not sampled": parent(True, NOT_SAMPLED),
}
DELEGATES: dict[str, dict[str, Sampler]] = {
    "defaults": {},
    "local sampled off": {"local_parent_sampled": ALWAYS_OFF},
    "local not sampled on": {"local_parent_not_sampled": ALWAYS_ON},
    "remote both flipped": {"remote_parent_sampled": ALWAYS_OFF,
                            "remote_parent_not_sampled": ALWAYS_ON},
}


@pytest.mark.parametrize("delegates", DELEGATES.values(), ids=DELEGATES.keys())
@pytest.mark.parametrize("context", PARENTS.values(), ids=PARENTS.keys())
@pytest.mark.parametrize("trace_id", [LOW_ID, HIGH_ID], ids=["low id", "high id"])
@pytest.mark.parametrize("attributes", [None, {"a": 1}], ids=["no attributes", "attributes"])
def test_every_decision_is_the_sdks(
    delegates: dict[str, Sampler], context: Context | None, trace_id: int,
    attributes: dict[str, int] | None,
) -> None:
    root = TraceIdRatioBased(0.5)
    expected = ParentBased(root, **delegates).should_sample(
        context, trace_id, "RiskCheck", SpanKind.INTERNAL, attributes)
    got = ParentBasedShortcut(root, **delegates).should_sample(
        context, trace_id, "RiskCheck", SpanKind.INTERNAL, attributes)
    assert got.decision is expected.decision
    assert dict(got.attributes) == dict(expected.attributes)
    assert got.trace_state == expected.trace_state


@pytest.mark.parametrize("delegates", DELEGATES.values(), ids=DELEGATES.keys())
def test_one_sampler_asked_about_every_parent_in_turn_answers_as_the_sdk(
    delegates: dict[str, Sampler],
) -> None:
    """The same sampler keeps its last answer for a sampled local parent's child: asked
    about every parent, one after the other, in both orders and twice, it must never
    hand one parent's answer to another."""
    root = TraceIdRatioBased(0.5)
    shortcut, sdk = ParentBasedShortcut(root, **delegates), ParentBased(root, **delegates)
    other_state = parent(False, SAMPLED, TraceState([("vendor", "2")]))
    contexts = [*PARENTS.values(), other_state]
    for context in [*contexts, *reversed(contexts), *contexts]:
        for attributes in (None, {"a": 1}, None):
            got = shortcut.should_sample(context, LOW_ID, "RiskCheck", attributes=attributes)
            expected = sdk.should_sample(context, LOW_ID, "RiskCheck", attributes=attributes)
            assert got.decision is expected.decision
            assert dict(got.attributes) == dict(expected.attributes)
            assert got.trace_state == expected.trace_state


def test_a_sampled_local_parents_child_is_sampled_with_its_state() -> None:
    result = ParentBasedShortcut(ALWAYS_OFF).should_sample(
        PARENTS["local sampled"], LOW_ID, "CreateOrder", attributes={"b": 2})
    assert result.decision is Decision.RECORD_AND_SAMPLE
    assert result.trace_state is STATE
    assert dict(result.attributes) == {"b": 2}


def test_the_current_context_is_read_when_none_is_given() -> None:
    token = otel_context.attach(PARENTS["local sampled"])  # type: ignore[arg-type]
    try:
        result = ParentBasedShortcut(ALWAYS_OFF).should_sample(None, LOW_ID, "RiskCheck")
    finally:
        otel_context.detach(token)
    assert result.decision is Decision.RECORD_AND_SAMPLE


def test_it_describes_itself_as_parent_based_and_the_edge_still_trusts_it() -> None:
    root = TraceIdRatioBased(0.1)
    shortcut = ParentBasedShortcut(root)
    assert isinstance(shortcut, ParentBased)
    assert shortcut.get_description() == ParentBased(root).get_description()
    assert follows_parent(shortcut)
    assert drops_children_of_unsampled(shortcut)
    assert not follows_parent(ParentBasedShortcut(root, local_parent_sampled=ALWAYS_OFF))


class Alternating(Sampler):
    """A root sampler that answers the opposite each time it is asked."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def should_sample(self, parent_context: Context | None, trace_id: int, name: str,
                      kind: SpanKind | None = None, attributes: Any = None,
                      links: Any = None, trace_state: Any = None) -> SamplingResult:
        self.asked.append(trace_id)
        sampled = len(self.asked) % 2 == 1
        return SamplingResult(Decision.RECORD_AND_SAMPLE if sampled else Decision.DROP,
                              attributes)

    def get_description(self) -> str:
        return "Alternating"


def test_a_root_asked_about_twice_in_a_row_gets_its_first_answer() -> None:
    """The edge decides a request's trace id, then the SDK asks again when it starts the
    server span: the root sampler is asked once, and both answers are the same."""
    root = Alternating()
    shortcut = ParentBasedShortcut(root)
    first = shortcut.should_sample(None, LOW_ID, "POST", SpanKind.SERVER)
    again = shortcut.should_sample(None, LOW_ID, "POST", SpanKind.SERVER, links=())
    assert again is first
    assert first.decision is Decision.RECORD_AND_SAMPLE
    assert root.asked == [LOW_ID]
    other = shortcut.should_sample(None, HIGH_ID, "POST", SpanKind.SERVER)
    assert other.decision is Decision.DROP  # another trace id: asked anew
    assert root.asked == [LOW_ID, HIGH_ID]


def test_a_root_with_attributes_or_without_an_id_is_always_asked() -> None:
    root = Alternating()
    shortcut = ParentBasedShortcut(root)
    shortcut.should_sample(None, LOW_ID, "POST")
    with_attributes = shortcut.should_sample(None, LOW_ID, "POST", attributes={"a": 1})
    assert root.asked == [LOW_ID, LOW_ID]
    assert dict(with_attributes.attributes) == {"a": 1}
    shortcut.should_sample(None, 0, "POST")
    shortcut.should_sample(None, 0, "POST")
    assert root.asked == [LOW_ID, LOW_ID, 0, 0]


@pytest.mark.parametrize("trace_id", [0, LOW_ID, HIGH_ID], ids=["zero", "low", "high"])
def test_root_answers_asked_twice_are_the_sdks(trace_id: int) -> None:
    root = TraceIdRatioBased(0.5)
    shortcut, sdk = ParentBasedShortcut(root), ParentBased(root)
    for context in (None, PARENTS["invalid"], PARENTS["invalid, flagged sampled"]):
        for _ in range(2):
            got = shortcut.should_sample(context, trace_id, "POST", SpanKind.SERVER)
            expected = sdk.should_sample(context, trace_id, "POST", SpanKind.SERVER)
            assert got.decision is expected.decision
            assert got.trace_state == expected.trace_state
            assert dict(got.attributes) == dict(expected.attributes)
