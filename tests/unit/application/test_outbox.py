"""Every committed move is one event, written in the transaction of the move: one outbox
entry per transaction, its events in the order they happened, each carrying the object as
the API shows it after that move."""

from __future__ import annotations

from application.ports.channel import Outcome, RefundResult
from application.ports.events import OutboxEntry
from application.views import payment_view
from tests.unit.fakes import Gateway
from tests.unit.fakes.channel import DECLINED, TIMES_OUT
from tests.unit.fakes.external import REJECT_CARD, REVIEW_CARD

HOOK = "https://merchant.example/hooks"


def entries(gateway: Gateway) -> list[OutboxEntry]:
    return [entry for _, entry in sorted(gateway.db.outbox.items())]


def types(entry: OutboxEntry) -> list[str]:
    return [event.type for event in entry.events]


class TestAnnouncements:
    async def test_a_payment_writes_one_entry_per_transaction(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)

        created, charged = entries(gateway)
        assert types(created) == ["payment.pending"]
        assert types(charged) == ["payment.processing", "payment.succeeded"]
        assert {created.merchant_id, charged.merchant_id} == {merchant_id}
        assert charged.events[-1].data == payment_view(payment)
        assert created.created_at == charged.created_at == gateway.clock.now()

    async def test_each_event_shows_the_payment_as_its_move_left_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, DECLINED)

        _, charged = entries(gateway)
        processing, failed = (event.data for event in charged.events)
        assert (processing["status"], processing["failure_code"]) == ("processing", None)
        assert (failed["status"], failed["failure_code"]) == ("failed", "card_declined")

    async def test_every_event_has_an_id_of_its_own(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id)
        await gateway.pay(merchant_id)
        ids = [e.event_id for entry in entries(gateway) for e in entry.events]
        assert len(ids) == len(set(ids)) == 6
        assert all(i.startswith("evt_") for i in ids)

    async def test_risk_decisions_are_the_state_the_payment_is_created_in(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id, REVIEW_CARD)
        await gateway.pay(merchant_id, REJECT_CARD)
        assert [types(e) for e in entries(gateway)] == [
            ["payment.requires_review"], ["payment.rejected"]
        ]

    async def test_an_unknown_outcome_leaves_processing_as_the_last_event(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT)
        gateway.clock.advance(minutes=5)
        await gateway.reconcile()
        assert [types(e) for e in entries(gateway)] == [
            ["payment.pending"], ["payment.processing"], ["payment.succeeded"]
        ]
        assert gateway.db.payment(payment.payment_no).status.value == "succeeded"

    async def test_an_approved_review_announces_processing_then_the_outcome(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, REVIEW_CARD)
        await gateway.review(payment.payment_no, "approve")
        assert [types(e) for e in entries(gateway)][1:] == [
            ["payment.processing"], ["payment.succeeded"]
        ]

    async def test_a_refund_announces_itself_then_what_it_did_to_the_payment(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id)
        await gateway.refund(payment.payment_no, 2_500, merchant_id)
        gateway.channel.script_refunds(RefundResult(Outcome.FAILED, failure_code="declined"))
        await gateway.refund(payment.payment_no, 2_500, merchant_id)

        assert [types(e) for e in entries(gateway)][2:] == [
            ["refund.pending"],
            ["refund.succeeded", "payment.partially_refunded"],
            ["refund.pending"],
            ["refund.failed"],
        ]

    async def test_only_the_contracts_final_states_are_marked_for_the_notify_url(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, notify_url=HOOK)
        await gateway.refund(payment.payment_no, None, merchant_id)

        marked = [(e.type, e.notify) for entry in entries(gateway) for e in entry.events]
        assert marked == [
            ("payment.pending", False),
            ("payment.processing", False),
            ("payment.succeeded", True),
            ("refund.pending", False),
            ("refund.succeeded", True),
            ("payment.refunded", True),
        ]
        assert {entry.notify_url for entry in entries(gateway)} == {HOOK}

    async def test_without_a_notify_url_nothing_is_marked_for_it(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        await gateway.pay(merchant_id)
        assert [e.notify for entry in entries(gateway) for e in entry.events] == [False] * 3
        assert {entry.notify_url for entry in entries(gateway)} == {None}

    async def test_a_move_lost_to_a_race_is_announced_once_by_the_retry_that_wins(
        self, gateway: Gateway, merchant_id: str
    ) -> None:
        payment = await gateway.pay(merchant_id, TIMES_OUT)
        gateway.db.racing_writers[payment.payment_no] = 1

        await gateway.notify("charge.succeeded", payment.payment_no)

        assert [types(e) for e in entries(gateway)] == [
            ["payment.pending"], ["payment.processing"], ["payment.succeeded"]
        ]
