"""`WrittenPayments`: what the payments this process committed last were, bounded."""

from __future__ import annotations

import pytest

from adapters.persistence.payments import WrittenPayments, _update_of


def test_it_remembers_the_latest_version_of_each_payment() -> None:
    memory = WrittenPayments(limit=4)
    memory.keep({"pay_1": (0, ("pending",)), "pay_2": (0, ("pending",))})
    memory.keep({"pay_1": (1, ("succeeded",))})

    assert memory.get("pay_1") == (1, ("succeeded",))
    assert memory.get("pay_2") == (0, ("pending",))
    assert memory.get("pay_3") is None
    assert len(memory) == 2


def test_the_least_recently_written_payments_are_forgotten_first() -> None:
    memory = WrittenPayments(limit=2)
    memory.keep({"pay_1": (0, ())})
    memory.keep({"pay_2": (0, ())})
    memory.keep({"pay_1": (1, ())})  # written again: now the newest
    memory.keep({"pay_3": (0, ())})

    assert memory.get("pay_2") is None
    assert memory.get("pay_1") == (1, ())
    assert memory.get("pay_3") == (0, ())
    assert len(memory) == 2


def test_a_unit_that_wrote_more_than_the_limit_keeps_its_newest() -> None:
    memory = WrittenPayments(limit=1)
    memory.keep({"pay_1": (0, ()), "pay_2": (0, ())})

    assert memory.get("pay_1") is None
    assert memory.get("pay_2") == (0, ())
    assert len(memory) == 1


def test_it_remembers_at_least_one_payment() -> None:
    with pytest.raises(ValueError, match="at least one"):
        WrittenPayments(limit=0)
    assert len(WrittenPayments(limit=1)) == 0


def test_an_update_of_a_set_of_columns_is_built_once() -> None:
    first = _update_of(("status", "updated_at"))
    sql = str(first)

    assert _update_of(("status", "updated_at")) is first
    assert "SET status=" in sql
    assert "updated_at=" in sql
    assert "version=" in sql
    assert "channel=" not in sql
