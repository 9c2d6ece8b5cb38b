"""The payment recorder's remembered labels are the ones the label functions give."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.errors import DuplicateOrder, InvalidChannel
from domain.money import Money
from observability.outcomes import (
    DEFAULT_CHANNELS,
    channel_label,
    currency_label,
    currency_of,
    major_units,
    payment_status,
)
from observability.recorders import PaymentRecorder


class Calls:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def record_payment(self, *args: Any) -> None:
        self.calls.append(args)


@dataclass
class Shaped:
    """A payment or a command: whatever attributes the recorder may read."""

    status: Any = None
    channel: Any = None
    amount: Any = None
    currency: Any = None


def expected(command: Shaped, payment: Shaped | None, error: BaseException | None,
             seconds: float) -> tuple[Any, ...]:
    source = payment if error is None else command
    channel = channel_label(getattr(source, "channel", None), DEFAULT_CHANNELS)
    currency = currency_label(currency_of(source))
    amount = None if error is not None else major_units(getattr(payment, "amount", None),
                                                       currency)
    return payment_status(payment, error), channel, currency, seconds, amount


channels = st.sampled_from(["sandbox", "stripe", "paypal", None, 7])
currencies = st.sampled_from(["USD", "JPY", "BHD", "XYZ", None])
amounts = st.one_of(
    st.builds(Money, st.integers(min_value=1, max_value=10**9), st.sampled_from(["USD", "JPY"])),
    st.integers(min_value=0, max_value=10**9), st.none(), st.just(True),
)
statuses = st.sampled_from(["succeeded", "failed", "rejected", "requires_review", "pending",
                            "refunded", "odd", None])
errors = st.sampled_from([None, DuplicateOrder("again"), InvalidChannel("no"), RuntimeError()])
shapes = st.builds(Shaped, statuses, channels, amounts, st.one_of(currencies, st.none()))


@given(st.lists(st.tuples(shapes, shapes, errors), min_size=1, max_size=30))
def test_every_recorded_payment_has_the_labels_the_label_functions_give(
    attempts: list[tuple[Shaped, Shaped, BaseException | None]],
) -> None:
    calls = Calls()
    recorder = PaymentRecorder(calls, DEFAULT_CHANNELS)  # type: ignore[arg-type]
    for command, payment, error in attempts * 2:  # the second time from what it remembered
        recorder(command, None if error else payment, error, 0.25)
    assert calls.calls == [
        expected(command, None if error else payment, error, 0.25)
        for command, payment, error in attempts * 2
    ]


def test_an_unhashable_label_source_is_worked_out_every_time() -> None:
    calls = Calls()
    recorder = PaymentRecorder(calls, DEFAULT_CHANNELS)  # type: ignore[arg-type]
    command = Shaped(channel=["sandbox"], currency="USD")
    recorder(command, None, RuntimeError(), 0.1)
    assert calls.calls == [("failed", "unknown", "USD", 0.1, None)]
