"""A merchant registers a webhook endpoint; its signing secret is shown this once."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import ValidationFailed
from application.ports.platform import Clock, IdGenerator, SecretVault, WebhookDestinations
from application.ports.storage import UnitOfWorkFactory
from domain.events import Subscription
from domain.webhook_endpoint import WebhookEndpoint

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, as Stripe marks its webhook secrets


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateEndpointCommand:
    merchant_id: str
    url: str
    events: list[str]


@dataclass(frozen=True, slots=True)
class NewSecret:
    """The only place an endpoint's plain secret exists outside the merchant's systems."""

    endpoint: WebhookEndpoint
    secret: str


def new_secret(ids: IdGenerator) -> str:
    return SECRET_PREFIX + ids.new_secret()


@dataclass(frozen=True, slots=True)
class CreateWebhookEndpoint:
    """Everything is checked before anything is written: the event types, then the URL
    (https, and a host that resolves to public addresses only)."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    vault: SecretVault
    destinations: WebhookDestinations

    async def __call__(self, command: CreateEndpointCommand) -> NewSecret:
        subscription = Subscription.of(command.events)
        refusal = await self.destinations.refusal(command.url)
        if refusal is not None:
            raise ValidationFailed(f"url: {refusal}")
        secret = new_secret(self.ids)
        endpoint = WebhookEndpoint(
            endpoint_id=self.ids.new_id("we"),
            merchant_id=command.merchant_id,
            url=command.url,
            subscription=subscription,
            secret_sealed=self.vault.seal(secret),
            created_at=self.clock.now(),
        )
        async with self.uow() as uow:
            await uow.endpoints.add(endpoint)
            await uow.commit()
        return NewSecret(endpoint, secret)
