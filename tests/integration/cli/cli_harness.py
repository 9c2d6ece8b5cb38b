"""Running the real `paygate` CLI against a real SQLite file.

`Paygate` invokes the click group in-process (fast) with the environment a deployment
would set; `take_payment` puts payments in the same database through the use case, the
way the API would, optionally at a moment of the test's choosing.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from click.testing import CliRunner, Result
from dependency_injector import providers
from sqlalchemy import delete, func, select
from sqlalchemy.pool import NullPool

from adapters.persistence import create_engine
from adapters.persistence.schema import idempotency_keys, payments, refunds, settlements
from application.commands import CreatePaymentCommand, CreateRefundCommand
from application.views import payment_view, refund_view
from domain.authorization import CaptureMethod
from domain.card import CardDetails
from entrypoints.cli.main import cli
from entrypoints.container import Container, build_container, close_container
from entrypoints.settings import Settings

CARD_OK = "4242424242424242"
CARD_UNKNOWN = "4000000000000259"
CARD_REVIEW = "4000000000004954"
TABLES = {
    "payments": payments,
    "refunds": refunds,
    "settlements": settlements,
    "idempotency_keys": idempotency_keys,
}


class FixedClock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


class Paygate:
    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)
        self._runner = CliRunner()

    def __call__(self, *args: str) -> Result:
        return self._runner.invoke(cli, list(args), env=self.env, catch_exceptions=True)

    def json(self, *args: str) -> Any:
        """Run a command that must succeed, with `--json`, and decode what it printed."""
        result = self(*args, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout)

    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    def take_payment(
        self,
        merchant_id: str,
        order_no: str,
        amount: int = 10_000,
        *,
        card: str = CARD_OK,
        currency: str = "USD",
        at: datetime | None = None,
        capture_method: CaptureMethod = CaptureMethod.AUTOMATIC,
        description: str | None = None,
    ) -> dict[str, Any]:
        """A payment made through the use case, as the API makes it; `at` fixes the clock."""
        command = CreatePaymentCommand(
            merchant_id=merchant_id,
            order_no=order_no,
            amount=amount,
            currency=currency,
            channel="sandbox",
            card=CardDetails(card, 12, 2030, "123"),
            capture_method=capture_method,
            description=description,
        )

        async def take(container: Container) -> dict[str, Any]:
            return payment_view(await container.use_cases.create_payment()(command))

        return self._use(take, at)

    def refund_at(
        self, payment_no: str, amount: int, at: datetime | None = None,
        reason: str | None = None,
    ) -> dict[str, Any]:
        """A refund made through the use case (as the API makes one) at the moment `at`."""
        command = CreateRefundCommand(
            payment_no=payment_no, merchant_id=None, amount=amount, reason=reason)

        async def refund(container: Container) -> dict[str, Any]:
            return refund_view((await container.use_cases.create_refund()(command)).refund)

        return self._use(refund, at)

    def _use(
        self, work: Callable[[Container], Awaitable[dict[str, Any]]], at: datetime | None
    ) -> dict[str, Any]:
        async def main() -> dict[str, Any]:
            container = build_container(self.settings())
            if at is not None:
                container.core.clock.override(providers.Object(FixedClock(at)))
            try:
                return await work(container)
            finally:
                await close_container(container)

        return asyncio.run(main())

    def counts(self) -> dict[str, int]:
        async def count() -> dict[str, int]:
            engine = create_engine(self.settings().database_url, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    return {
                        name: int(
                            (await conn.execute(select(func.count()).select_from(t))).scalar_one()
                        )
                        for name, t in TABLES.items()
                    }
            finally:
                await engine.dispose()

        return asyncio.run(count())

    def forget_idempotency_keys(self) -> None:
        """Lose every stored key, as a killed command's released claim or a day's expiry do."""

        async def forget() -> None:
            engine = create_engine(self.settings().database_url, poolclass=NullPool)
            try:
                async with engine.begin() as conn:
                    await conn.execute(delete(idempotency_keys))
            finally:
                await engine.dispose()

        asyncio.run(forget())


def assert_clean_failure(result: Result, exit_code: int, *words: str) -> None:
    """A refused command: its exit code, the words on stderr, and never a traceback."""
    assert result.exit_code == exit_code, (result.output, result.exception)
    assert "Traceback" not in result.output
    if exit_code == 1:
        assert result.exception is None or isinstance(result.exception, SystemExit)
    for word in words:
        assert word in result.stderr, result.stderr
