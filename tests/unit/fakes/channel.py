"""A scriptable payment channel that behaves like the sandbox acquirer's test cards.

It remembers what "really" happened to each charge and refund, so the reconciler's
queries get the truth: an outcome that was unknown to the gateway turned out a success.
"""

from __future__ import annotations

import json
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import TypeVar

from application.errors import InvalidSignature
from application.ports.channel import (
    NOT_CAPTURED,
    CaptureRequest,
    ChannelEvent,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    RefundResult,
    VoidRequest,
)
from domain.card import CardDetails
from tests.unit.fakes.storage import FakeDatabase

SUCCEEDS = "4242424242424242"
DECLINED = "4000000000000002"
INSUFFICIENT_FUNDS = "4000000000009995"
PROCESSING_ERROR = "4000000000000119"
TIMES_OUT = "4000000000000259"
CAPTURE_DECLINED = "4000000000000341"
CAPTURE_TIMES_OUT = "4000000000001000"

ChargeScript = ChargeResult | BaseException
RefundScript = RefundResult | BaseException
Request = ChargeRequest | RefundRequest | CaptureRequest | VoidRequest


def declined(code: str) -> ChargeResult:
    return ChargeResult(Outcome.FAILED, failure_code=code, failure_message=code.replace("_", " "))


Result = TypeVar("Result", ChargeResult, RefundResult)


def _truth(reply: Result | BaseException, went_through: Result) -> Result:
    """What really happened: the answer when it was known, else (timeout, error) success."""
    if isinstance(reply, BaseException) or reply.outcome is Outcome.UNKNOWN:
        return went_through
    return reply


def _test_cards() -> dict[str, ChargeScript]:
    return {
        DECLINED: declined("card_declined"),
        INSUFFICIENT_FUNDS: declined("insufficient_funds"),
        PROCESSING_ERROR: declined("processing_error"),
        TIMES_OUT: ChargeResult(Outcome.UNKNOWN),
    }


class FakeChannel:
    """Charges succeed unless the card or the script says otherwise; calls are counted."""

    def __init__(self, name: str = "sandbox", db: FakeDatabase | None = None) -> None:
        self.name = name
        self.db = db
        self.by_card: dict[str, ChargeScript] = _test_cards()
        self.charge_script: deque[ChargeScript] = deque()
        self.refund_script: deque[RefundScript] = deque()
        self.charges: Counter[str] = Counter()
        self.refunds: Counter[str] = Counter()
        self.charge_requests: list[ChargeRequest] = []
        self.refund_requests: list[RefundRequest] = []
        self.charge_truth: dict[str, ChargeResult] = {}
        self.refund_truth: dict[str, RefundResult] = {}
        self.query_failure: Exception | None = None
        self.calls_in_transaction = 0
        # runs after a request was sent and before its answer returns: a notification may overtake
        self.before_answer: Callable[[Request], Awaitable[None]] | None = None
        self._tokens: dict[str, CardDetails] = {}
        # authorizations: the card behind each, and what its capture and void will answer
        self.authorizations: Counter[str] = Counter()
        self.captures: Counter[str] = Counter()
        self.voids: Counter[str] = Counter()
        self.capture_requests: list[CaptureRequest] = []
        self.capture_by_card: dict[str, ChargeScript] = {
            CAPTURE_DECLINED: declined("card_declined"),
            CAPTURE_TIMES_OUT: ChargeResult(Outcome.UNKNOWN),
        }
        self.move_script: deque[ChargeScript] = deque()
        self.capture_truth: dict[str, ChargeResult] = {}
        self.void_truth: dict[str, ChargeResult] = {}
        self.held_until: datetime | None = None  # what an authorization says of its hold
        # captures and voids sent again although the first one went through
        self.moves_repeated: Counter[str] = Counter()
        self._authorized_cards: dict[str, str] = {}

    # -- scripting ---------------------------------------------------------------------
    def script_charges(self, *replies: ChargeScript) -> None:
        self.charge_script.extend(replies)

    def script_refunds(self, *replies: RefundScript) -> None:
        self.refund_script.extend(replies)

    def settle_charge(self, payment_no: str, result: ChargeResult) -> None:
        """What the channel will say when asked about this charge."""
        self.charge_truth[payment_no] = result

    def settle_refund(self, refund_no: str, result: RefundResult) -> None:
        self.refund_truth[refund_no] = result

    # -- the port ------------------------------------------------------------------------
    async def tokenize(self, card: CardDetails) -> str:
        self._observe()
        token = f"tok_{len(self._tokens) + 1}"
        self._tokens[token] = card
        return token

    def script_moves(self, *replies: ChargeScript) -> None:
        """The next answers to captures and voids, whatever the card."""
        self.move_script.extend(replies)

    async def authorize(self, request: ChargeRequest) -> ChargeResult:
        """Like a charge (the same test cards, counted with the charges), holding only."""
        self.authorizations[request.idempotency_key] += 1
        card = request.card or self._tokens[request.token or ""]
        self._authorized_cards[request.payment_no] = card.number
        result = await self.charge(request)
        if result.outcome is Outcome.SUCCEEDED and self.held_until is not None:
            return ChargeResult(Outcome.SUCCEEDED, result.reference,
                                capture_before=self.held_until)
        return result

    async def capture(self, request: CaptureRequest) -> ChargeResult:
        self.captures[request.idempotency_key] += 1
        self.capture_requests.append(request)
        card = self._authorized_cards.get(request.payment_no, "")
        scripted = self.capture_by_card.get(card)
        return await self._move(request, self.capture_truth, scripted, "cap")

    async def void(self, request: VoidRequest) -> ChargeResult:
        self.voids[request.idempotency_key] += 1
        return await self._move(request, self.void_truth, None, "void")

    async def _move(
        self, request: CaptureRequest | VoidRequest, truth: dict[str, ChargeResult],
        scripted: ChargeScript | None, prefix: str,
    ) -> ChargeResult:
        self._observe()
        went_through = ChargeResult(Outcome.SUCCEEDED, f"{prefix}_{request.payment_no}")
        reply = self.move_script.popleft() if self.move_script else scripted or went_through
        known = truth.get(request.payment_no)
        if known is not None and known.outcome is Outcome.SUCCEEDED:
            self.moves_repeated[request.idempotency_key] += 1
        truth.setdefault(request.payment_no, _truth(reply, went_through))
        if self.before_answer is not None:
            await self.before_answer(request)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def charge(self, request: ChargeRequest) -> ChargeResult:
        self._observe()
        self.charges[request.idempotency_key] += 1
        self.charge_requests.append(request)
        card = request.card or self._tokens[request.token or ""]
        reply = (
            self.charge_script.popleft() if self.charge_script else self.by_card.get(card.number)
        )
        reference = f"ch_{request.payment_no}"
        if reply is None:
            reply = ChargeResult(Outcome.SUCCEEDED, reference)
        self.charge_truth.setdefault(  # per attempt: what the reconciler asks by
            request.idempotency_key, _truth(reply, ChargeResult(Outcome.SUCCEEDED, reference))
        )
        if self.before_answer is not None:
            await self.before_answer(request)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def refund(self, request: RefundRequest) -> RefundResult:
        self._observe()
        self.refunds[request.idempotency_key] += 1
        self.refund_requests.append(request)
        reference = f"re_{request.refund_no}"
        reply = (
            self.refund_script.popleft()
            if self.refund_script
            else RefundResult(Outcome.SUCCEEDED, reference)
        )
        self.refund_truth.setdefault(
            request.refund_no, _truth(reply, RefundResult(Outcome.SUCCEEDED, reference))
        )
        if self.before_answer is not None:
            await self.before_answer(request)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    async def query_charge(self, payment_no: str, reference: str | None) -> ChargeResult:
        self._observe()
        if self.query_failure is not None:
            raise self.query_failure
        never_sent = ChargeResult(Outcome.FAILED, failure_code="charge_not_found")
        return self.charge_truth.get(payment_no, never_sent)

    async def query_capture(self, payment_no: str, reference: str | None) -> ChargeResult:
        self._observe()
        if self.query_failure is not None:
            raise self.query_failure
        never_sent = ChargeResult(Outcome.FAILED, failure_code=NOT_CAPTURED)
        return self.capture_truth.get(payment_no, never_sent)

    async def query_void(self, payment_no: str, reference: str | None) -> ChargeResult:
        self._observe()
        if self.query_failure is not None:
            raise self.query_failure
        never_sent = ChargeResult(Outcome.FAILED, failure_code="void_not_found")
        return self.void_truth.get(payment_no, never_sent)

    async def query_refund(self, refund_no: str, reference: str | None) -> RefundResult:
        self._observe()
        if self.query_failure is not None:
            raise self.query_failure
        never_sent = RefundResult(Outcome.FAILED, failure_code="refund_not_found")
        return self.refund_truth.get(refund_no, never_sent)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, now: datetime
    ) -> ChannelEvent:
        if headers.get("x-fake-signature") != "valid":
            raise InvalidSignature("bad signature")
        data = json.loads(body)
        return ChannelEvent(
            data["id"],
            data["type"],
            data["payment_no"],
            data.get("refund_no"),
            data.get("reference"),
            data.get("failure_code"),
        )

    def _observe(self) -> None:
        self.calls_in_transaction += bool(self.db and self.db.open_units)
