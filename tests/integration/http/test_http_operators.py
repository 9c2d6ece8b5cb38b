"""Named operators on the admin API: each role against each admin route (allowed, or
403 writing nothing), one audit row per change, in the change's transaction, and a trail
no route can alter. On SQLite and PostgreSQL (`any_db_url`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from dependency_injector import providers
from http_harness import CARD_OK, CARD_REVIEW, Api, ApiFactory, FakeClock, Keys, assert_error

from application.errors import Unavailable
from application.ports.storage import AuditQuery, UnitOfWork, UnitOfWorkFactory
from domain.operator import BOOTSTRAP_ACTOR, Role
from entrypoints.http.roles import ADMIN_ROUTES

ROLES = (Role.VIEWER, Role.OPERATOR, Role.ADMIN)
Request = tuple[str, str, Any]  # method, path, body
Setup = Callable[[Api, Keys, FakeClock], Awaitable[Request]]


async def _in_review(api: Api, keys: Keys, clock: FakeClock) -> Request:
    paid = await api.pay(keys, f"O-{datetime.now(UTC).timestamp()}", card=CARD_REVIEW)
    return "POST", f"/admin/v1/payments/{paid['payment_no']}/review", {
        "decision": "approve", "note": "called the customer"}


async def _paid(api: Api, keys: Keys, clock: FakeClock) -> Request:
    paid = await api.pay(keys, f"O-{datetime.now(UTC).timestamp()}", card=CARD_OK)
    return "POST", f"/admin/v1/payments/{paid['payment_no']}/refunds", {
        "amount": 100, "reason": "damaged"}


async def _authorized(api: Api, keys: Keys, clock: FakeClock, move: str) -> Request:
    held = await api.pay(keys, f"O-{datetime.now(UTC).timestamp()}", capture_method="manual")
    return "POST", f"/admin/v1/payments/{held['payment_no']}/{move}", {}


async def _capture(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return await _authorized(api, keys, clock, "capture")


async def _cancel(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return await _authorized(api, keys, clock, "cancel")


async def _new_merchant(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return "POST", "/admin/v1/merchants", {"name": "Initech"}


async def _yesterdays_business(api: Api, keys: Keys, clock: FakeClock) -> Request:
    other = await api.new_merchant("Settled Ltd")
    clock.moment -= timedelta(days=1)
    await api.pay(other, "O-YESTERDAY", amount=10_000)
    day = clock.moment.date().isoformat()
    clock.moment += timedelta(days=1)
    return "POST", "/admin/v1/settlements", {"merchant_id": other.merchant_id, "date": day}


async def _settlements(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return "GET", f"/admin/v1/settlements?merchant_id={keys.merchant_id}", None


async def _routing(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return "GET", f"/admin/v1/merchants/{keys.merchant_id}/routing", None


async def _set_routing(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return "PUT", f"/admin/v1/merchants/{keys.merchant_id}/routing", {
        "rules": [{"currency": "USD", "channels": ["sandbox"]}]}


async def _audit(api: Api, keys: Keys, clock: FakeClock) -> Request:
    return "GET", "/admin/v1/audit?actor=bootstrap", None


# the route's line in the role table, how to make a request of it that can succeed, what
# the audit row says it did (None: a read, which writes no row)
ROUTES: dict[str, tuple[Setup, str | None]] = {
    "GET /admin/v1/settlements": (_settlements, None),
    "GET /admin/v1/audit": (_audit, None),
    "GET /admin/v1/merchants/{merchant_id}/routing": (_routing, None),
    "POST /admin/v1/payments/{payment_no}/review": (_in_review, "payment.review"),
    "POST /admin/v1/payments/{payment_no}/refunds": (_paid, "payment.refund"),
    "POST /admin/v1/payments/{payment_no}/capture": (_capture, "payment.capture"),
    "POST /admin/v1/payments/{payment_no}/cancel": (_cancel, "payment.cancel"),
    "POST /admin/v1/merchants": (_new_merchant, "merchant.create"),
    "POST /admin/v1/settlements": (_yesterdays_business, "settlement.run"),
    "PUT /admin/v1/merchants/{merchant_id}/routing": (_set_routing, "merchant.routing"),
}


class FailingCommits:
    """The database's units of work, except that the next unit that writes fails at its
    COMMIT, after every statement of the change ran: what it saw of the trail is kept."""

    def __init__(self, inner: UnitOfWorkFactory) -> None:
        self.inner, self.armed = inner, False
        self.rows_seen_before_commit: list[str] = []

    def __call__(
        self, *, read_only: bool = False, snapshot: bool = True, single_statement: bool = False
    ) -> Any:
        if single_statement:  # a spent signature, not the change (docs/adr/0033)
            return self.inner(single_statement=True)  # type: ignore[call-arg]
        unit = self.inner(read_only=read_only, snapshot=snapshot)
        if read_only or not self.armed:
            return unit
        self.armed = False
        return _FailingUnit(unit, self)


class _FailingUnit:
    def __init__(self, unit: UnitOfWork, owner: FailingCommits) -> None:
        self._unit, self._owner = unit, owner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unit, name)

    async def __aenter__(self) -> _FailingUnit:
        await self._unit.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._unit.__aexit__(*exc)

    async def commit(self) -> None:
        trail = await self._unit.audit.list(AuditQuery(limit=100))
        self._owner.rows_seen_before_commit = [e.action for e in trail.items]
        raise Unavailable("the database failed at COMMIT")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC))


@pytest.fixture
def failing() -> dict[str, FailingCommits]:
    """Where `db_api` leaves its units of work, to fail one commit on demand."""
    return {}


@pytest.fixture
async def db_api(
    open_api: ApiFactory, any_db_url: str, clock: FakeClock, failing: dict[str, FailingCommits]
) -> Api:
    def adapt(container: Any) -> None:
        container.core.clock.override(providers.Object(clock))
        units = FailingCommits(container.core.uow())
        failing["units"] = units
        container.core.uow.override(providers.Object(units))

    return await open_api(any_db_url, adapt=adapt)


async def _tokens(api: Api) -> dict[Role, str]:
    create = api.container.use_cases.create_operator()
    return {role: (await create(BOOTSTRAP_ACTOR, f"{role}-1", str(role))).token
            for role in ROLES}


async def _trail(api: Api, **query: Any) -> list[Any]:
    return (await api.container.use_cases.list_audit()(AuditQuery(limit=100, **query))).items


@pytest.mark.parametrize("route", list(ROUTES))
async def test_each_role_is_allowed_or_refused_each_admin_route_as_the_table_says(
    db_api: Api, clock: FakeClock, route: str
) -> None:
    api, (setup, action) = db_api, ROUTES[route]
    tokens = await _tokens(api)
    keys = await api.new_merchant("Acme Ltd")
    for role in ROLES:
        method, path, body = await setup(api, keys, clock)
        before = await api.counts()

        response = await api.admin(method, path, body, token=tokens[role])

        if not role.covers(ADMIN_ROUTES[route]):
            assert_error(response, 403, "forbidden")
            assert await api.counts() == before, f"{role} was refused {route} but wrote"
            continue
        assert response.status_code in (200, 201), (role, route, response.text)
        rows = await _trail(api, actor=f"{role}-1")
        if action is None:
            assert rows == []
            continue
        [row] = rows
        assert (row.action, row.role) == (action, role)
        assert row.trace_id == response.headers["x-trace-id"]
        assert row.object_id in path or row.object_id in response.text


async def test_the_role_table_has_one_line_per_admin_route_and_no_other(api: Api) -> None:
    schema = (await api.client.get("/schema/openapi.json")).json()
    served = {f"{method.upper()} {path}" for path, item in schema["paths"].items()
              if path.startswith("/admin/") for method in item}
    assert served == set(ADMIN_ROUTES) == set(ROUTES)


@pytest.mark.parametrize("route", [r for r, (_, action) in ROUTES.items() if action])
async def test_a_failure_after_the_change_rolls_back_the_change_and_its_audit_row(
    db_api: Api, clock: FakeClock, failing: dict[str, FailingCommits], route: str
) -> None:
    api, (setup, action) = db_api, ROUTES[route]
    keys = await api.new_merchant("Acme Ltd")
    method, path, body = await setup(api, keys, clock)
    before = await api.counts()
    failing["units"].armed = True

    response = await api.admin(method, path, body)

    assert_error(response, 503, "unavailable")
    assert await api.counts() == before
    committed = [e.action for e in await _trail(api)]
    # inside the failed unit, just before its COMMIT, the row was there with the change
    assert sorted(failing["units"].rows_seen_before_commit) == sorted([*committed, action])


async def test_the_bootstrap_token_is_named_bootstrap_in_the_trail(db_api: Api) -> None:
    created = await db_api.admin("POST", "/admin/v1/merchants", {"name": "Initech"})

    [row] = await _trail(db_api)
    assert (row.actor, row.role, row.action) == ("bootstrap", Role.ADMIN, "merchant.create")
    assert (row.object_type, row.object_id) == ("merchant", created.json()["merchant_id"])


async def test_a_disabled_or_unknown_operator_token_is_unauthenticated(api: Api) -> None:
    tokens = await _tokens(api)
    await api.container.use_cases.disable_operator()(BOOTSTRAP_ACTOR, "admin-1", "left")
    before = await api.counts()

    for token in (tokens[Role.ADMIN], tokens[Role.ADMIN] + "x", "pgo_unknown"):
        response = await api.admin("POST", "/admin/v1/merchants", {"name": "X"}, token=token)
        assert_error(response, 401, "unauthenticated")
    assert await api.counts() == before
    ok = await api.admin("GET", "/admin/v1/settlements", token=tokens[Role.VIEWER])
    assert ok.status_code == 200, ok.text


async def test_operator_tokens_work_without_a_bootstrap_token(
    open_api: ApiFactory, http_sqlite_url: str
) -> None:
    api = await open_api(http_sqlite_url, admin_token=None)
    tokens = await _tokens(api)

    response = await api.admin("POST", "/admin/v1/merchants", {"name": "X"},
                               token=tokens[Role.ADMIN])

    assert response.status_code == 201, response.text


async def test_the_audit_route_filters_by_actor_object_and_time_and_pages_newest_first(
    db_api: Api, clock: FakeClock
) -> None:
    api = db_api
    tokens = await _tokens(api)
    keys = await api.new_merchant("Acme Ltd")
    refunded = await api.pay(keys, "O-1")
    for n in range(3):
        clock.moment += timedelta(seconds=10)
        response = await api.admin(
            "POST", f"/admin/v1/payments/{refunded['payment_no']}/refunds",
            {"amount": 100, "reason": f"r{n}"}, token=tokens[Role.OPERATOR])
        assert response.status_code == 201, response.text
    audit = "/admin/v1/audit"

    first = (await api.admin("GET", f"{audit}?actor=operator-1&limit=2",
                             token=tokens[Role.VIEWER])).json()
    rest = (await api.admin("GET", f"{audit}?actor=operator-1&limit=2&cursor="
                            f"{first['next_cursor']}", token=tokens[Role.VIEWER])).json()
    merchant = (await api.admin("GET", f"{audit}?object={keys.merchant_id}")).json()
    since = (clock.moment - timedelta(seconds=10)).isoformat().replace("+00:00", "Z")
    until = clock.moment.isoformat().replace("+00:00", "Z")
    window = (await api.admin("GET", f"{audit}?from={since}&to={until}")).json()
    bad = await api.admin("GET", f"{audit}?from=yesterday")

    reasons = [row["reason"] for row in first["data"] + rest["data"]]
    assert [r.split(": ")[-1] for r in reasons] == ["r2", "r1", "r0"]
    assert rest["next_cursor"] is None
    assert set(first["data"][0]) == {"id", "actor", "role", "action", "object", "object_type",
                                      "before", "after", "reason", "trace_id", "created_at"}
    assert first["data"][0] | {"id": "", "object": "", "trace_id": "", "created_at": ""} == {
        "id": "", "actor": "operator-1", "role": "operator", "action": "payment.refund",
        "object": "", "object_type": "refund", "before": None, "after": "pending",
        "reason": first["data"][0]["reason"], "trace_id": "", "created_at": ""}
    assert [row["action"] for row in merchant["data"]] == ["merchant.create"]
    assert [row["reason"].split(": ")[-1] for row in window["data"]] == ["r1"]
    assert_error(bad, 422, "validation_error")


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "POST"])
async def test_no_route_alters_the_trail(api: Api, method: str) -> None:
    await api.new_merchant("Acme Ltd")
    [row] = await _trail(api)
    before = await api.counts()

    for path in ("/admin/v1/audit", f"/admin/v1/audit/{row.entry_id}"):
        response = await api.admin(method, path, {"actor": "mallory"})
        assert response.status_code in (404, 405), response.text

    assert await api.counts() == before
    assert await _trail(api) == [row]


async def test_the_schema_says_an_audit_row_s_after_is_the_status_when_it_was_written(
    api: Api
) -> None:
    """A capture's row says `requires_capture` after, though the capture went on to
    succeed: the row is written with the claim, and the schema says so."""
    schema = (await api.client.get("/schema/openapi.json")).json()
    row = schema["components"]["schemas"]["AuditEntryOut"]["properties"]
    assert "when the row was written" in row["after"]["description"]
    assert "not its final outcome" in row["after"]["description"]
    assert "before the action" in row["before"]["description"]
