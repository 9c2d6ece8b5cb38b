"""`ParentBasedShortcut` decides exactly as the SDK's `ParentBased`, a sampled local
parent's child in one step."""

from __future__ import annotations

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
