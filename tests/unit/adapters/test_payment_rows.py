"""A payment's row: what the repository binds for its insert and its updates."""

from adapters.persistence.payments import payment_from_row, payment_to_row
from domain.payment import PaymentStatus
from tests.unit.domain.builders import payment_in


class _Row:
    """A row as the database hands it back: every column an attribute."""

    def __init__(self, columns: dict[str, object]) -> None:
        self.__dict__.update(columns)


def test_every_status_verdict_and_capture_method_is_bound_as_a_plain_string() -> None:
    for status in PaymentStatus:
        payment = payment_in(status)
        row = payment_to_row(payment)
        risk = payment.risk
        assert (type(row["status"]), row["status"]) == (str, status.value)
        assert (type(row["capture_method"]), row["capture_method"]) == (
            str, payment.capture_method.value)
        if risk is None:
            assert row["risk_verdict"] is None
        else:
            assert (type(row["risk_verdict"]), row["risk_verdict"]) == (str, risk.verdict.value)


def test_a_row_reads_back_as_the_payment_it_was_made_of() -> None:
    for status in PaymentStatus:
        payment = payment_in(status)
        payment.take_moves()
        again = payment_from_row(_Row(payment_to_row(payment)))  # type: ignore[arg-type]
        assert again == payment, status
