"""The admin API: merchants, manual review and operator refunds."""

from __future__ import annotations

from pathlib import Path

import pytest
from http_harness import (
    CARD_DECLINED,
    CARD_OK,
    CARD_REVIEW,
    Api,
    Keys,
    assert_error,
)
from sqlalchemy.engine import make_url


class TestMerchants:
    async def test_a_new_merchant_gets_keys_that_sign_requests(self, api: Api) -> None:
        response = await api.admin("POST", "/admin/v1/merchants", {"name": "Initech"})

        assert response.status_code == 201, response.text
        created = response.json()
        assert set(created) == {"merchant_id", "api_key", "api_secret", "webhook_secret"}
        assert len({created["api_secret"], created["webhook_secret"], created["api_key"]}) == 3
        keys = Keys(**created)
        assert (await api.call(keys, "GET", "/api/v1/payments")).status_code == 200

    async def test_secrets_are_stored_sealed_and_no_route_shows_them_again(
        self, api: Api, http_sqlite_url: str
    ) -> None:
        keys = await api.new_merchant("Initech")
        await api.pay(keys)

        database = Path(str(make_url(http_sqlite_url).database))
        stored = b"".join(
            p.read_bytes() for p in database.parent.glob(f"{database.name}*") if p.is_file()
        )
        assert keys.api_key.encode() in stored
        assert keys.api_secret.encode() not in stored
        assert keys.webhook_secret.encode() not in stored
        for path in ("/admin/v1/merchants", f"/admin/v1/merchants/{keys.merchant_id}"):
            response = await api.admin("GET", path)
            assert response.status_code in (404, 405), response.text
            assert keys.api_secret not in response.text

    async def test_merchant_creation_with_an_idempotency_key_is_made_once_and_kept_sealed(
        self, api: Api, http_sqlite_url: str
    ) -> None:
        """An operator's retry after a lost answer gets the same merchant and secrets; the
        stored replay is sealed with the master key, like the merchant's own secrets."""
        before = await api.counts()
        onboard = {"Idempotency-Key": "onboard-initech"}

        first = await api.admin("POST", "/admin/v1/merchants", {"name": "Initech"},
                                headers=onboard)
        again = await api.admin("POST", "/admin/v1/merchants", {"name": "Initech"},
                                headers=onboard)
        other = await api.admin("POST", "/admin/v1/merchants", {"name": "Globex"},
                                headers=onboard)

        assert first.status_code == 201, first.text
        assert (again.status_code, again.json()) == (201, first.json())
        assert again.headers["idempotent-replayed"] == "true"
        assert_error(other, 422, "idempotency_key_reused")
        after = await api.counts()
        assert (after["merchants"], after["idempotency_keys"]) == (
            before["merchants"] + 1, before["idempotency_keys"] + 1)
        database = Path(str(make_url(http_sqlite_url).database))
        stored = b"".join(
            p.read_bytes() for p in database.parent.glob(f"{database.name}*") if p.is_file()
        )
        for secret in (first.json()["api_secret"], first.json()["webhook_secret"]):
            assert secret.encode() not in stored

    @pytest.mark.parametrize("fee_fixed", [10**12, 10**19, 10**20])
    async def test_a_fixed_fee_above_the_largest_payment_is_refused_and_writes_nothing(
        self, api: Api, fee_fixed: int
    ) -> None:
        before = await api.counts()
        response = await api.admin(
            "POST", "/admin/v1/merchants", {"name": "Initech", "fee_fixed": fee_fixed})
        assert_error(response, 422, "validation_error")
        assert await api.counts() == before

    async def test_two_merchants_never_share_keys(self, api: Api) -> None:
        first, second = await api.new_merchant("A"), await api.new_merchant("B")

        assert first.merchant_id != second.merchant_id
        assert first.api_key != second.api_key
        assert first.api_secret != second.api_secret

    @pytest.mark.parametrize(
        ("body", "status", "code"),
        [
            ({"name": ""}, 422, "validation_error"),
            ({"name": "x" * 201}, 422, "validation_error"),
            ({}, 422, "validation_error"),
            ({"name": "A", "owner": "me"}, 422, "validation_error"),
            ({"name": "A", "fee_basis_points": 10_001}, 422, "validation_error"),
            ({"name": "A", "fee_fixed": -1}, 422, "validation_error"),
            ({"name": 7}, 400, "malformed_request"),
            (b"{not json", 400, "malformed_request"),
        ],
    )
    async def test_a_bad_merchant_is_refused_and_nothing_is_written(
        self, api: Api, body: object, status: int, code: str
    ) -> None:
        before = await api.counts()

        response = await api.admin("POST", "/admin/v1/merchants", body)

        assert_error(response, status, code)
        assert await api.counts() == before


class TestReview:
    async def test_an_approved_payment_is_charged(self, api: Api, merchant: Keys) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)
        assert payment["status"] == "requires_review"

        response = await api.admin(
            "POST",
            f"/admin/v1/payments/{payment['payment_no']}/review",
            {"decision": "approve", "note": "known customer"},
        )

        assert response.status_code == 200, response.text
        assert response.json()["status"] == "succeeded"
        seen = await api.call(merchant, "GET", f"/api/v1/payments/{payment['payment_no']}")
        assert seen.json()["status"] == "succeeded"
        debits, credits = (await api.ledger_balance())["USD"]
        assert debits == credits > 0

    async def test_a_rejected_payment_ends_rejected_with_the_note(
        self, api: Api, merchant: Keys
    ) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)

        response = await api.admin(
            "POST",
            f"/admin/v1/payments/{payment['payment_no']}/review",
            {"decision": "reject", "note": "stolen card"},
        )

        assert response.status_code == 200, response.text
        rejected = response.json()
        assert rejected["status"] == "rejected"
        assert rejected["failure_message"] == "stolen card"
        assert (await api.counts())["ledger_entries"] == 0

    @pytest.mark.parametrize("card", [CARD_OK, CARD_DECLINED])
    async def test_a_payment_not_in_review_cannot_be_reviewed(
        self, api: Api, merchant: Keys, card: str
    ) -> None:
        payment = await api.pay(merchant, card=card)
        before = await api.counts()

        response = await api.admin(
            "POST", f"/admin/v1/payments/{payment['payment_no']}/review", {"decision": "reject"}
        )

        assert_error(response, 409, "invalid_status")
        assert await api.counts() == before

    async def test_a_decided_payment_cannot_be_decided_again(
        self, api: Api, merchant: Keys
    ) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)
        path = f"/admin/v1/payments/{payment['payment_no']}/review"
        await api.admin("POST", path, {"decision": "reject"})

        response = await api.admin("POST", path, {"decision": "approve"})

        assert_error(response, 409, "invalid_status")

    async def test_reviewing_an_unknown_payment_is_not_found(self, api: Api) -> None:
        response = await api.admin(
            "POST", "/admin/v1/payments/pay_nope/review", {"decision": "approve"}
        )

        assert_error(response, 404, "not_found")

    @pytest.mark.parametrize("body", [{"decision": "maybe"}, {}, {"decision": "approve", "x": 1}])
    async def test_a_bad_decision_is_a_validation_error(
        self, api: Api, merchant: Keys, body: dict[str, object]
    ) -> None:
        payment = await api.pay(merchant, card=CARD_REVIEW)

        response = await api.admin(
            "POST", f"/admin/v1/payments/{payment['payment_no']}/review", body
        )

        assert_error(response, 422, "validation_error")


class TestOperatorRefunds:
    async def test_the_operator_refunds_any_merchants_payment_under_the_same_rules(
        self, api: Api, merchant: Keys
    ) -> None:
        payment = await api.pay(merchant, amount=5_000)
        path = f"/admin/v1/payments/{payment['payment_no']}/refunds"

        partial = await api.admin("POST", path, {"amount": 1_500, "reason": "goodwill"})
        too_much = await api.admin("POST", path, {"amount": 3_501})
        zero = await api.admin("POST", path, {"amount": 0})
        rest = await api.admin("POST", path)
        again = await api.admin("POST", path, {"amount": 1})

        assert partial.status_code == 201, partial.text
        assert (partial.json()["amount"], partial.json()["reason"]) == (1_500, "goodwill")
        refused = assert_error(too_much, 422, "amount_exceeded")
        assert refused["details"] == [{"remaining": 3_500, "currency": "USD"}]
        assert_error(zero, 422, "invalid_amount")
        assert rest.json()["amount"] == 3_500
        assert_error(again, 409, "invalid_status")
        seen = await api.call(merchant, "GET", f"/api/v1/payments/{payment['payment_no']}")
        assert (seen.json()["status"], seen.json()["refunded_amount"]) == ("refunded", 5_000)
        listed = await api.call(
            merchant, "GET", f"/api/v1/payments/{payment['payment_no']}/refunds"
        )
        assert len(listed.json()["data"]) == 2

    async def test_refunding_an_unknown_payment_is_not_found(self, api: Api) -> None:
        assert_error(
            await api.admin("POST", "/admin/v1/payments/pay_nope/refunds", {"amount": 1}),
            404,
            "not_found",
        )
