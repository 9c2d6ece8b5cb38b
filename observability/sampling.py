"""The SDK's `ParentBased` sampler, deciding a sampled local parent's child in one step.

Every business span of a sampled request is such a child: `CreatePayment` under the server
span, `RiskCheck`, `CreateOrder` and `ChannelPayment` under it. `ParentBased` looks the
parent up, calls its `local_parent_sampled` delegate with keyword arguments, and that
delegate (`ALWAYS_ON`) looks the parent up again for its trace state: about thirty Python
calls to say "sampled". When the delegate is `ALWAYS_ON` (the default), this class gives
the same answer directly; every other case goes to `ParentBased` itself. It is a
`ParentBased`, with the same description, so everything that reads the sampler (the edge,
docs/adr/0019) sees what it saw (docs/adr/0038).
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes


class ParentBasedShortcut(ParentBased):
    """`ParentBased(root, ...)`, the same decisions; a sampled local parent's child is
    sampled in one step when `local_parent_sampled` is `ALWAYS_ON`."""

    def __init__(
        self, root: Sampler, remote_parent_sampled: Sampler = ALWAYS_ON,
        remote_parent_not_sampled: Sampler = ALWAYS_OFF,
        local_parent_sampled: Sampler = ALWAYS_ON,
        local_parent_not_sampled: Sampler = ALWAYS_OFF,
    ) -> None:
        super().__init__(root, remote_parent_sampled, remote_parent_not_sampled,
                         local_parent_sampled, local_parent_not_sampled)
        self.samples_sampled_local_children = local_parent_sampled is ALWAYS_ON
        # The last answer for a child with no attributes of its own, by its parent's trace
        # state: the SDK only reads a result, so a request's spans can share one.
        self._last_sampled_child: tuple[TraceState | None, SamplingResult] = (
            None, SamplingResult(Decision.RECORD_AND_SAMPLE, None, None))
        # The last root decision, by trace id. The edge asks about a request's trace id
        # before its server span exists (docs/adr/0019), then the SDK asks again about the
        # same id when it starts that span: the second time gets the first answer.
        self._last_root: tuple[int, SamplingResult] = (0, self._last_sampled_child[1])

    def should_sample(
        self, parent_context: Context | None, trace_id: int, name: str,
        kind: SpanKind | None = None, attributes: Attributes = None,
        links: Sequence[Link] | None = None, trace_state: TraceState | None = None,
    ) -> SamplingResult:
        parent = get_current_span(parent_context).get_span_context()
        if not parent.is_valid:
            if attributes is not None or not trace_id:
                return super().should_sample(parent_context, trace_id, name, kind, attributes,
                                             links, trace_state)
            last_root = self._last_root  # one read: another thread may replace it
            if last_root[0] == trace_id:
                return last_root[1]
            result = super().should_sample(parent_context, trace_id, name, kind, None,
                                           links, trace_state)
            self._last_root = (trace_id, result)
            return result
        if (self.samples_sampled_local_children and not parent.is_remote
                and parent.trace_flags.sampled):
            # what ALWAYS_ON answers: sampled, the attributes, the parent's state
            state = parent.trace_state
            if attributes is not None:
                return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, state)
            last = self._last_sampled_child  # one read: another thread may replace it
            if last[0] is state:
                return last[1]
            result = SamplingResult(Decision.RECORD_AND_SAMPLE, None, state)
            self._last_sampled_child = (state, result)
            return result
        return super().should_sample(parent_context, trace_id, name, kind, attributes,
                                     links, trace_state)
