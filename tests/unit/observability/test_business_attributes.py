"""What `business_attributes` reads from a command or a result."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.money import Money
from observability.attributes import _readable, business_attributes


@dataclass(frozen=True)
class Command:
    amount: object
    currency: str | None = "USD"


@pytest.mark.parametrize(("amount", "shown"), [
    (2**63 - 1, 2**63 - 1), (-(2**63), -(2**63)), (0, 0),
    (2**63, None), (-(2**63) - 1, None), (10**30, None),  # refused input, no int64
    (True, None), (10.5, None), ("100", None),
])
def test_an_amount_is_shown_only_as_an_int64(amount: object, shown: int | None) -> None:
    attributes = business_attributes(Command(amount))
    assert attributes.get("amount") == shown
    assert attributes["currency"] == "USD"


def test_a_money_gives_its_minor_units_and_its_currency() -> None:
    assert business_attributes(Command(Money(1050, "EUR"), currency=None)) == {
        "amount": 1050, "currency": "EUR"}


def test_the_objects_own_currency_wins_over_its_moneys() -> None:
    assert business_attributes(Command(Money(1050, "EUR"), currency="USD"))["currency"] == "USD"


# -- the fields a type can have, read once per type (what a slotted object lacks is never
#    asked for): every kind of object must read the same as a plain getattr of each name.
@dataclass(frozen=True, slots=True)
class SlottedCommand:
    merchant_id: str
    order_no: str
    amount: Money
    channel: str | None = None


@dataclass(slots=True)
class SlottedResult:
    payment_no: str
    status: str
    failure_code: str | None = None

    @property
    def outcome(self) -> str:
        return "succeeded" if self.status == "succeeded" else "failed"


class Plain:  # instances with a __dict__: any name may appear on one instance only
    pass


class Delegating:  # a __getattr__ answers for names no class declares
    __slots__ = ("inner",)

    def __init__(self, inner: object) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@dataclass(frozen=True, slots=True)
class Risk:
    verdict: str
    score: int


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    role: str


@dataclass(slots=True)
class Reviewed(SlottedResult):  # a subclass adds slots of its own
    risk: Risk | None = None
    actor: Actor | None = None


def test_a_slotted_command_reads_the_fields_it_has() -> None:
    command = SlottedCommand("mer_1", "ORD-1", Money(1050, "EUR"), channel="sandbox")
    assert business_attributes(command) == {
        "merchant_id": "mer_1", "order_no": "ORD-1", "channel": "sandbox",
        "amount": 1050, "currency": "EUR"}
    # the same type with a field unset reads without it, the plan notwithstanding
    assert business_attributes(SlottedCommand("mer_1", "ORD-2", Money(5, "USD"))) == {
        "merchant_id": "mer_1", "order_no": "ORD-2", "amount": 5, "currency": "USD"}


def test_a_property_is_read_like_a_field() -> None:
    assert business_attributes(SlottedResult("pay_1", "succeeded")) == {
        "payment_no": "pay_1", "status": "succeeded", "outcome": "succeeded"}
    assert business_attributes(SlottedResult("pay_2", "failed", "card_declined")) == {
        "payment_no": "pay_2", "status": "failed", "outcome": "failed",
        "failure_code": "card_declined"}


def test_a_subclass_reads_its_own_fields_and_its_parents() -> None:
    reviewed = Reviewed("pay_1", "succeeded", risk=Risk("review", 55),
                        actor=Actor("alice", "admin"))
    assert business_attributes(reviewed) == {
        "payment_no": "pay_1", "status": "succeeded", "outcome": "succeeded",
        "risk.decision": "review", "risk.score": 55,
        "paygate.operator": "alice", "paygate.operator.role": "admin"}
    # the parent type read after its subclass keeps its own plan
    assert "risk.decision" not in business_attributes(SlottedResult("pay_3", "succeeded"))


def test_an_object_with_a_dict_is_asked_every_name_each_time() -> None:
    first, second = Plain(), Plain()
    first.merchant_id = "mer_1"  # type: ignore[attr-defined]
    assert business_attributes(first) == {"merchant_id": "mer_1"}
    second.payment_no, second.status = "pay_9", "failed"  # type: ignore[attr-defined]
    second.amount, second.currency = 700, "JPY"  # type: ignore[attr-defined]
    assert business_attributes(second) == {
        "payment_no": "pay_9", "amount": 700, "currency": "JPY", "status": "failed"}


def test_an_object_answering_through_getattr_is_asked_every_name() -> None:
    inner = Plain()
    inner.refund_no, inner.attempt_key = "ref_1", "att_1"  # type: ignore[attr-defined]
    assert business_attributes(Delegating(inner)) == {
        "refund_no": "ref_1", "attempt_key": "att_1"}
    other = Plain()
    other.channel = "stripe"  # type: ignore[attr-defined]
    assert business_attributes(Delegating(other)) == {"channel": "stripe"}


def test_a_class_attribute_counts_as_a_field() -> None:
    @dataclass(frozen=True, slots=True)
    class Refund:
        refund_no: str
        channel = "sandbox"  # declared on the class, not a slot

    assert business_attributes(Refund("ref_1")) == {"refund_no": "ref_1", "channel": "sandbox"}


def test_none_and_values_of_other_types_read_as_nothing() -> None:
    assert business_attributes(None) == {}
    assert business_attributes("pay_1") == {}
    assert business_attributes(42) == {}


class Intercepting:  # a __getattribute__ of its own may answer anything
    __slots__ = ()

    def __getattribute__(self, name: str) -> object:
        return "intercepted" if name == "merchant_id" else object.__getattribute__(self, name)


def test_a_slotted_type_is_asked_only_the_names_it_declares() -> None:
    assert _readable(SlottedCommand) == (("merchant_id", "order_no", "channel"), True, (), False)
    assert _readable(SlottedResult) == (("payment_no",), False, ("status", "outcome",
                                                                  "failure_code"), False)
    assert _readable(Reviewed)[3] is True
    assert _readable(str) == _readable(int) == ((), False, (), False)  # an order's number


@pytest.mark.parametrize("kind", [Plain, Delegating, Intercepting])
def test_a_type_that_may_answer_any_name_is_asked_every_name(kind: type) -> None:
    assert _readable(kind) == (
        ("merchant_id", "payment_no", "order_no", "refund_no", "channel", "attempt_key"),
        True, ("status", "outcome", "failure_code"), True)


def test_an_intercepting_type_reads_what_it_answers() -> None:
    assert business_attributes(Intercepting()) == {"merchant_id": "intercepted"}
