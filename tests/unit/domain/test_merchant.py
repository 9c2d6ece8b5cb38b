from domain.merchant import Merchant
from domain.settlement import FeeSchedule
from tests.unit.domain.builders import T0


class TestMerchant:
    def test_new_merchant_is_active_on_the_default_price(self) -> None:
        merchant = Merchant(
            merchant_id="mch_1",
            name="Acme",
            api_key="key_1",
            api_secret_sealed="sealed-api",
            webhook_secret_sealed="sealed-hook",
            created_at=T0,
        )
        assert merchant.active
        assert merchant.fees == FeeSchedule(290, 30)

    def test_repr_leaves_out_the_sealed_secrets(self) -> None:
        merchant = Merchant(
            merchant_id="mch_1",
            name="Acme",
            api_key="key_1",
            api_secret_sealed="sealed-api",
            webhook_secret_sealed="sealed-hook",
            created_at=T0,
        )
        assert "sealed-api" not in repr(merchant)
        assert "sealed-hook" not in repr(merchant)
        assert "Acme" in repr(merchant)
