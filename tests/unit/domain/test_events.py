"""Event types come from the status enums; a subscription names some of them, or all."""

from __future__ import annotations

import pytest

from domain.events import (
    CONTRACT_TYPES,
    EVENT_TYPES,
    Subscription,
    UnknownEventType,
    payment_event,
    refund_event,
)
from domain.payment import PaymentStatus
from domain.refund import RefundStatus


class TestEventTypes:
    def test_every_payment_status_is_an_event_type(self) -> None:
        for status in PaymentStatus:
            assert payment_event(status) == f"payment.{status.value}"
            assert payment_event(status) in EVENT_TYPES

    def test_every_refund_status_is_an_event_type(self) -> None:
        for status in RefundStatus:
            assert refund_event(status) == f"refund.{status.value}"
            assert refund_event(status) in EVENT_TYPES

    def test_the_contracts_names_are_known_ahead_of_their_statuses(self) -> None:
        assert {"payment.requires_capture", "payment.canceled"} <= CONTRACT_TYPES <= EVENT_TYPES

    def test_nothing_else_is_an_event_type(self) -> None:
        assert "payment.created" not in EVENT_TYPES
        assert "charge.succeeded" not in EVENT_TYPES
        assert "*" not in EVENT_TYPES


class TestSubscription:
    def test_named_types_are_wanted_and_no_others(self) -> None:
        subscription = Subscription.of(["payment.succeeded", "refund.failed"])
        assert subscription.wants("payment.succeeded")
        assert subscription.wants("refund.failed")
        assert not subscription.wants("payment.failed")
        assert subscription.names == ["payment.succeeded", "refund.failed"]

    def test_a_star_wants_every_type_even_one_added_later(self) -> None:
        subscription = Subscription.of(["*"])
        assert subscription.wants("payment.pending")
        assert subscription.wants("payment.some_future_status")
        assert subscription.names == ["*"]

    def test_a_star_among_names_is_every_type(self) -> None:
        assert Subscription.of(["payment.failed", "*"]).names == ["*"]

    def test_repeated_names_count_once_and_are_listed_sorted(self) -> None:
        subscription = Subscription.of(["refund.failed", "payment.failed", "refund.failed"])
        assert subscription.names == ["payment.failed", "refund.failed"]

    def test_an_unknown_type_is_refused_by_name(self) -> None:
        with pytest.raises(UnknownEventType, match=r"payment\.created") as error:
            Subscription.of(["payment.succeeded", "payment.created"])
        assert error.value.code == "validation_error"
        assert error.value.details == {"unknown": ["payment.created"]}

    def test_an_empty_list_is_refused(self) -> None:
        with pytest.raises(UnknownEventType, match="at least one"):
            Subscription.of([])

    def test_the_contracts_future_types_may_be_subscribed_to(self) -> None:
        subscription = Subscription.of(["payment.requires_capture", "payment.canceled"])
        assert subscription.wants("payment.canceled")
