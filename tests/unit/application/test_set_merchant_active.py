import pytest

from application.commands import CreateMerchantCommand
from application.errors import NotFound
from application.use_cases.set_merchant_active import SetMerchantActive
from tests.unit.fakes import Gateway


async def test_an_operator_disables_a_merchant_and_enables_it_again(gateway: Gateway) -> None:
    new = await gateway.create_merchant(CreateMerchantCommand(name="Acme"))
    merchant_id = new.merchant.merchant_id
    set_active = SetMerchantActive(gateway.uow, gateway.trail)

    disabled = await set_active(merchant_id, active=False)
    assert (disabled.merchant_id, disabled.active) == (merchant_id, False)
    assert not gateway.db.merchants[merchant_id].active

    enabled = await set_active(merchant_id, active=True)
    assert enabled.active
    assert gateway.db.merchants[merchant_id].active


async def test_disabling_twice_changes_nothing_more(gateway: Gateway) -> None:
    new = await gateway.create_merchant(CreateMerchantCommand(name="Acme"))
    set_active = SetMerchantActive(gateway.uow, gateway.trail)
    await set_active(new.merchant.merchant_id, active=False)

    again = await set_active(new.merchant.merchant_id, active=False)

    assert not again.active
    assert not gateway.db.merchants[new.merchant.merchant_id].active


async def test_an_unknown_merchant_is_not_found(gateway: Gateway) -> None:
    with pytest.raises(NotFound, match="mch_nope"):
        await SetMerchantActive(gateway.uow, gateway.trail)("mch_nope", active=False)
