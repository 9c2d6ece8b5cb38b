"""`paygate merchants list`: the merchant ids that disable, routing, settle --merchant and
payments list --merchant need, without digging them out of the audit trail."""

from __future__ import annotations

from cli_harness import Paygate


def test_merchants_list_names_every_merchant_oldest_first_without_secrets(
    paygate: Paygate,
) -> None:
    acme = paygate.json("merchants", "create", "--name", "Acme Ltd")
    bolt = paygate.json("merchants", "create", "--name", "Bolt", "--fee-bps", "150")
    paygate.json("merchants", "disable", bolt["merchant_id"])

    listed = paygate.json("merchants", "list")
    table = paygate("merchants", "list")

    assert [(m["merchant_id"], m["name"], m["api_key"], m["active"]) for m in listed] == [
        (acme["merchant_id"], "Acme Ltd", acme["api_key"], True),
        (bolt["merchant_id"], "Bolt", bolt["api_key"], False),
    ]
    assert (listed[1]["fee_basis_points"], listed[1]["fee_fixed"]) == (150, 30)
    assert listed[0]["created_at"].endswith("Z")
    assert table.exit_code == 0, table.output
    assert acme["merchant_id"] in table.stdout
    assert "Bolt" in table.stdout
    for secret in (acme["api_secret"], acme["webhook_secret"]):
        assert secret not in table.stdout
        assert secret not in str(listed)


def test_merchants_list_of_no_merchant_is_empty(paygate: Paygate) -> None:
    assert paygate.json("merchants", "list") == []
    assert paygate("merchants", "list").exit_code == 0


def test_merchants_list_never_cuts_an_id_short_however_long_the_names(
    paygate: Paygate,
) -> None:
    """The id is what an operator copies from here: an ellipsis in it is no id."""
    made = paygate.json("merchants", "create", "--name", "The Very Long Trading Name Ltd " * 3)

    table = paygate("merchants", "list")

    assert table.exit_code == 0, table.output
    assert made["merchant_id"] in table.stdout
