"""A merchant rolls an endpoint's signing secret over without dropping an event."""

from __future__ import annotations

from dataclasses import dataclass

from application.errors import NotFound
from application.ports.platform import Clock, IdGenerator, SecretVault
from application.ports.storage import UnitOfWorkFactory
from application.use_cases.create_webhook_endpoint import NewSecret, new_secret


@dataclass(frozen=True, slots=True)
class RotateWebhookSecret:
    """The new secret is shown once; for 24 h deliveries carry a signature with each."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    vault: SecretVault

    async def __call__(self, endpoint_id: str, merchant_id: str) -> NewSecret:
        secret = new_secret(self.ids)
        async with self.uow() as uow:
            endpoint = await uow.endpoints.get(endpoint_id, merchant_id, for_update=True)
            if endpoint is None or not endpoint.active:
                raise NotFound(f"no webhook endpoint {endpoint_id}")
            endpoint.rotate(self.vault.seal(secret), self.clock.now())
            await uow.endpoints.update(endpoint)
            await uow.commit()
        return NewSecret(endpoint, secret)
