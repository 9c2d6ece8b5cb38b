import pytest

from application.commands import CreateMerchantCommand
from application.errors import ValidationFailed
from domain.errors import InvalidFeeSchedule
from domain.settlement import FeeSchedule
from tests.unit.fakes import Gateway


class TestCreateMerchant:
    async def test_secrets_are_shown_once_and_stored_only_sealed(self, gateway: Gateway) -> None:
        new = await gateway.create_merchant(CreateMerchantCommand(name="  Acme Ltd  "))

        stored = gateway.db.merchants[new.merchant.merchant_id]
        assert stored.name == "Acme Ltd"
        assert stored.api_key.startswith("key_")
        assert stored.created_at == gateway.clock.now()
        assert stored.active
        assert new.api_secret != new.webhook_secret
        assert new.api_secret not in stored.api_secret_sealed
        assert new.webhook_secret not in stored.webhook_secret_sealed
        assert gateway.vault.open(stored.api_secret_sealed) == new.api_secret
        assert gateway.vault.open(stored.webhook_secret_sealed) == new.webhook_secret

    async def test_the_price_comes_from_the_command(self, gateway: Gateway) -> None:
        command = CreateMerchantCommand(name="Acme", fee_basis_points=150, fee_fixed=0)
        new = await gateway.create_merchant(command)
        assert gateway.db.merchants[new.merchant.merchant_id].fees == FeeSchedule(150, 0)

    @pytest.mark.parametrize("name", ["", "   ", "x" * 201])
    async def test_a_name_must_be_1_to_200_characters(self, gateway: Gateway, name: str) -> None:
        with pytest.raises(ValidationFailed, match="1 to 200"):
            await gateway.create_merchant(CreateMerchantCommand(name=name))
        assert gateway.db.merchants == {}

    async def test_an_invalid_price_is_refused_and_nothing_is_stored(
        self, gateway: Gateway
    ) -> None:
        with pytest.raises(InvalidFeeSchedule):
            await gateway.create_merchant(CreateMerchantCommand(name="Acme", fee_fixed=-1))
        assert gateway.db.merchants == {}
