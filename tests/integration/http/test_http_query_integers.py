"""Integer query parameters (`after`, `limit`) take decimal digits with an optional minus
sign and no leading zero (a JSON integer, as in the bodies) and nothing else: `1.0`,
`1e3`, `+5`, spaces, `05`, `1_000` or other scripts' digits are
`400 malformed_request` naming the parameter, on every route that reads one, and change
nothing. (`1e3` read as 1000 would skip events 1-999 of the feed without a word.)"""

from __future__ import annotations

import pytest
from http_harness import Api, Keys, assert_error

NOT_INTEGERS = [
    "1.0", "2.0", "1e3", "1E2", "-1.0", "1.", "+5", "%2B5", "%205", "5%20", "%095", "1_000",
    "%D9%A5", "0x10", "", "-", "--1", "5-", "inf", "NaN", "true", "05", "00", "-01",
]


async def _targets(api: Api, keys: Keys) -> dict[str, str]:
    paid = await api.pay(keys)
    return {
        "events after": "/api/v1/events?after={}",
        "events limit": "/api/v1/events?limit={}",
        "payments limit": "/api/v1/payments?limit={}",
        "refunds limit": f"/api/v1/payments/{paid['payment_no']}/refunds?limit={{}}",
        "audit limit": "/admin/v1/audit?limit={}",
        "events limit after another": "/api/v1/events?type=payment.succeeded&limit={}",
    }


async def _get(api: Api, keys: Keys, target: str):  # type: ignore[no-untyped-def]
    if target.startswith("/admin/"):
        return await api.admin("GET", target)
    return await api.call(keys, "GET", target)


@pytest.mark.parametrize("value", NOT_INTEGERS)
async def test_a_query_integer_that_is_not_digits_is_malformed_everywhere(
    api: Api, merchant: Keys, value: str
) -> None:
    targets = await _targets(api, merchant)
    before = await api.counts()
    for name, template in targets.items():
        response = await _get(api, merchant, template.format(value))
        error = assert_error(response, 400, "malformed_request")
        parameter = name.split()[1] if name != "events limit after another" else "limit"
        assert parameter in error["message"], (name, value, error)
        assert "integer" in error["message"], (name, value, error)
    assert await api.counts() == before


@pytest.mark.parametrize(("value", "served"), [("5", 5), ("1", 1), ("100", 100)])
async def test_decimal_digits_are_read_as_the_number_they_spell(
    api: Api, merchant: Keys, value: str, served: int
) -> None:
    for i in range(6):
        await api.pay(merchant, f"ORDER-{i}")
    response = await api.call(merchant, "GET", f"/api/v1/payments?limit={value}")
    assert response.status_code == 200, response.text
    assert len(response.json()["data"]) == min(served, 6)
    for after in (value, "0"):
        feed = await api.call(merchant, "GET", f"/api/v1/events?after={after}")
        assert feed.status_code == 200, feed.text
    assert (await api.admin("GET", f"/admin/v1/audit?limit={value}")).status_code == 200


@pytest.mark.parametrize("query", ["limit=-1", "limit=-0", "after=-1", "limit=101"])
async def test_a_signed_or_out_of_range_integer_is_still_read_and_refused_by_range(
    api: Api, merchant: Keys, query: str
) -> None:
    """A minus sign is part of an integer: `-1` is out of range (422), not malformed."""
    error = assert_error(await api.call(merchant, "GET", f"/api/v1/events?{query}"), 422,
                         "validation_error")
    assert query.split("=")[0] in error["message"]
