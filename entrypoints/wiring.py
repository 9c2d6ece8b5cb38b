"""Adapter choices per environment: in-process adapters, or clients of split-out services."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from adapters.order.local import LocalOrderBook
from adapters.persistence import SqlUnitOfWorkFactory
from adapters.platform.vault import AesGcmVault, decode_key, read_key_file
from adapters.platform.webhooks import HttpWebhookSender
from adapters.resilience.breakers import Breakers
from adapters.resilience.remote import Policy, RemoteService
from adapters.risk.engine import RuleEngine
from adapters.risk.fingerprint import CardFingerprinter
from adapters.risk.remote import RemoteRiskClient
from adapters.risk.settings import RiskSettings
from application.ports.channel import ChannelPort
from application.ports.external import OrderPort, RiskPort
from domain.errors import DomainError
from domain.routing import check_channels
from entrypoints.settings import ConfigurationError, Settings

NO_MASTER_KEY = (
    "no master key: set PAYGATE_MASTER_KEY (the base64 of 32 random bytes) or "
    "PAYGATE_MASTER_KEY_FILE, the same on every process of one database; only "
    "`paygate quickstart` makes one"
)


def master_key_text(settings: Settings) -> str:
    """The configured master key; none configured is a configuration error (no process
    but the quickstart makes a key of its own, docs/adr/0022)."""
    key = _key_text(settings, "master_key")
    if key is None:
        raise ConfigurationError(NO_MASTER_KEY)
    return key


def _key_text(settings: Settings, name: str) -> str | None:
    key: str | None = getattr(settings, name)
    path: Path | None = getattr(settings, f"{name}_file")
    if key or path is None:
        return key or None
    variable = f"PAYGATE_{name.upper()}_FILE"
    try:
        text = read_key_file(path)
        decode_key(text)
    except OSError as error:
        raise ConfigurationError(f"{variable}: cannot read {path} ({error.strerror})") from None
    except ValueError:
        raise ConfigurationError(
            f"{variable}: {path} must hold the base64 of 32 random bytes") from None
    return text


def make_vault(settings: Settings) -> AesGcmVault:
    """Seals under PAYGATE_MASTER_KEY; opens under it and PAYGATE_PREVIOUS_MASTER_KEY."""
    previous = _key_text(settings, "previous_master_key")
    return AesGcmVault.from_base64(master_key_text(settings), *filter(None, [previous]))


def fingerprint_key(settings: Settings) -> str:
    """Derived from the master key so one secret configures both."""
    seed = master_key_text(settings)
    return hashlib.sha256(f"card-fingerprint:{seed}".encode()).hexdigest()


def make_webhook_sender(settings: Settings) -> HttpWebhookSender:
    return HttpWebhookSender(allow_private=settings.webhook_allow_private)


def service_headers(settings: Settings) -> dict[str, str]:
    """What the gateway sends the split-out services: their shared token, if any."""
    if not settings.service_token:
        return {}
    return {"Authorization": f"Bearer {settings.service_token}"}


def policy(settings: Settings) -> Policy:
    return Policy(timeout=settings.remote_timeout)


def make_risk(settings: Settings, breakers: Breakers) -> RiskPort:
    key = fingerprint_key(settings)
    if settings.risk_url:
        service = RemoteService.open("risk", settings.risk_url, breakers, policy(settings),
                                     headers=service_headers(settings))
        return RemoteRiskClient(service, CardFingerprinter(key))
    return RuleEngine(RiskSettings(fingerprint_key=key))


def make_orders(settings: Settings, engine: Any, breakers: Breakers) -> OrderPort:
    if settings.order_url:
        from adapters.order.remote import RemoteOrderClient

        service = RemoteService.open("order", settings.order_url, breakers, policy(settings),
                                     headers=service_headers(settings))
        return RemoteOrderClient(service)
    return LocalOrderBook(engine)


def notification_secret(settings: Settings) -> str:
    """The secret the sandbox's notifications are signed with. Unset, a random one that no
    sender knows: every notification is then refused (400), and the reconciler settles
    what a notification would have (docs/adr/0039). Never a default anyone could read."""
    return settings.sandbox_secret or secrets.token_hex(32)


def make_sandbox(settings: Settings, uow: SqlUnitOfWorkFactory | None = None) -> Any:
    """The sandbox acquirer, in the gateway (its charges kept in the gateway's database,
    through `uow`) or behind `paygate serve-channel` (in memory)."""
    from adapters.channel.sandbox import SandboxChannel
    from adapters.persistence.sandbox_charges import SqlSandboxCharges

    return SandboxChannel(
        secret=notification_secret(settings),
        latency=settings.sandbox_latency_ms / 1000,
        authorization_ttl=timedelta(seconds=settings.sandbox_authorization_ttl),
        book=SqlSandboxCharges(uow) if uow is not None else None,
    )


def make_channels(
    settings: Settings, breakers: Breakers, resources: list[Any],
    uow: SqlUnitOfWorkFactory | None = None,
) -> dict[str, ChannelPort]:
    channels: dict[str, ChannelPort] = {}
    if settings.channel_url:
        from adapters.channel.remote import RemoteChannelClient

        service = RemoteService.open(
            "channel:sandbox", settings.channel_url, breakers, policy(settings),
            headers=service_headers(settings),
        )
        channels["sandbox"] = RemoteChannelClient(service, notification_secret(settings))
    else:
        channels["sandbox"] = make_sandbox(settings, uow)
    if settings.stripe_api_key:
        from adapters.channel.stripe_channel import StripeChannel

        channels["stripe"] = StripeChannel.connect(
            settings.stripe_api_key,
            settings.stripe_webhook_secret or "",
            breakers,
            base_url=settings.stripe_api_base,
            policy=policy(settings),
        )
    for name, url in named_channel_urls(settings).items():
        from adapters.channel.remote import RemoteChannelClient

        if name in channels:
            raise ConfigurationError(f"PAYGATE_CHANNEL_URLS names {name!r}, a channel paygate "
                                     "already has")
        service = RemoteService.open(
            f"channel:{name}", url, breakers, policy(settings), headers=service_headers(settings)
        )
        channels[name] = RemoteChannelClient(service, notification_secret(settings), name=name)
    resources.extend(channels.values())
    return channels


def named_channel_urls(settings: Settings) -> dict[str, str]:
    """`PAYGATE_CHANNEL_URLS="backup=http://10.0.0.7:8002,..."`: more remote channel
    services (`paygate serve-channel`), each a channel of that name."""
    named: dict[str, str] = {}
    for item in (settings.channel_urls or "").split(","):
        if not item.strip():
            continue
        name, equals, url = item.strip().partition("=")
        if not equals or not name or not url or not name.replace("_", "").isalnum():
            raise ConfigurationError(
                "PAYGATE_CHANNEL_URLS must be name=url pairs separated by commas")
        named[name] = url
    return named


def default_route(settings: Settings, channels: Mapping[str, object]) -> tuple[str, ...]:
    """PAYGATE_DEFAULT_ROUTE: channel names separated by commas, each one configured."""
    names = [name.strip() for name in settings.default_route.split(",") if name.strip()]
    try:
        return check_channels(names, channels, "PAYGATE_DEFAULT_ROUTE")
    except DomainError as error:
        raise ConfigurationError(error.message) from None
