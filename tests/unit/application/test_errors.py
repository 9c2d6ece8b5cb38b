"""What went wrong is one of two kinds: a broken business rule (`DomainError`), or
infrastructure that is down (`Unavailable`). The edges answer both with a stable code,
but nothing may mistake an outage for a rule the caller broke."""

from __future__ import annotations

from application.errors import NotFound, Unavailable, ValidationFailed
from domain.errors import DomainError


def test_an_outage_is_not_a_broken_business_rule() -> None:
    assert not issubclass(Unavailable, DomainError)
    assert issubclass(NotFound, DomainError)
    assert issubclass(ValidationFailed, DomainError)


def test_an_outage_carries_its_code_message_and_details_like_a_rule_does() -> None:
    error = Unavailable("the database did not answer", reason="OperationalError")

    assert (error.code, error.message, error.details) == (
        "unavailable", "the database did not answer", {"reason": "OperationalError"})
    assert str(error) == "unavailable: the database did not answer"
