"""One settings object, read from `PAYGATE_*` environment variables.

Every adapter choice a deployment makes is here; nothing else reads the environment
for paygate's own settings (OpenTelemetry reads its standard `OTEL_*` variables itself).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from adapters.platform.vault import decode_key
from entrypoints.edge.canonical_log import AccessLogPolicy

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./paygate.db"
DATABASE_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


class ConfigurationError(ValueError):
    """A setting paygate cannot use. The message names the variable, never its value (a
    URL or a key may be a secret)."""


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "on", "true", "yes"):
        return True
    if value in ("0", "off", "false", "no"):
        return False
    raise ValueError(f"expected on/off, got {text!r}")


MIN_SANDBOX_SECRET = 16


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = 20
    database_statement_timeout: float = 5.0  # seconds, PostgreSQL; 0: unbounded
    database_pooler: str = "none"  # none | pgbouncer (transaction pooling), docs/scaling.md
    admin_token: str | None = field(default=None, repr=False)
    master_key: str | None = field(default=None, repr=False)
    master_key_file: Path | None = None
    previous_master_key: str | None = field(default=None, repr=False)  # while rotating
    previous_master_key_file: Path | None = None
    # signs the sandbox's notifications; None: no one can, every one is refused (ADR 0039)
    sandbox_secret: str | None = field(default=None, repr=False)
    sandbox_latency_ms: int = 0
    sandbox_authorization_ttl: float = 7 * 24 * 3600.0  # seconds a sandbox hold lasts
    stripe_api_key: str | None = field(default=None, repr=False)
    stripe_webhook_secret: str | None = field(default=None, repr=False)
    stripe_api_base: str = "https://api.stripe.com"
    worker: bool = True
    webhook_allow_private: bool = False  # merchant webhooks to loopback/private addresses
    event_retention_days: int = 30  # how long the event feed keeps an event
    risk_url: str | None = None
    order_url: str | None = None
    channel_url: str | None = None
    channel_urls: str | None = None  # more remote channel services: "name=url,name=url"
    default_route: str = "sandbox"  # channels tried in order when no rule routes a payment
    service_token: str | None = field(default=None, repr=False)  # gateway <-> split services
    remote_timeout: float = 5.0
    breaker_failure_threshold: int = 5
    breaker_recovery_seconds: float = 30.0
    body_limit: int = 64 * 1024
    body_timeout: float = 30.0  # seconds a request's body may take to arrive: then 408
    header_timeout: float = 10.0  # seconds a request's headers may take: then closed
    max_connections: int = 1000  # per worker process; past it uvicorn answers 503
    rate_limit_per_second: float = 2000.0
    rate_limit_burst: int = 4000
    metrics: bool = True
    metrics_token: str | None = field(default=None, repr=False)  # /metrics: this bearer only
    tracing: bool = True
    service_name: str = "paygate"
    log_level: str = "INFO"
    access_log: str = "on"  # on | off | sample:RATE; problems are always written
    auto_upgrade: bool = True

    def __post_init__(self) -> None:
        # Imported here, not above: `ConfigurationError` alone (every CLI command's) needs
        # neither SQLAlchemy nor the persistence adapters.
        from adapters.persistence.engine import url_problem

        _check_database_url(self.database_url)
        problem = url_problem(self.database_url, self.database_pooler)
        if problem is not None:
            raise ConfigurationError(problem)
        if self.event_retention_days < 1:
            raise ConfigurationError("PAYGATE_EVENT_RETENTION_DAYS must be 1 or more (days)")
        if self.sandbox_secret is not None and len(self.sandbox_secret) < MIN_SANDBOX_SECRET:
            raise ConfigurationError(
                f"PAYGATE_SANDBOX_SECRET must be at least {MIN_SANDBOX_SECRET} characters "
                "(e.g. `openssl rand -hex 32`): whoever knows it can settle sandbox payments")
        if not self.sandbox_authorization_ttl > 0:
            raise ConfigurationError(
                "PAYGATE_SANDBOX_AUTHORIZATION_TTL must be a number of seconds above 0")
        try:
            AccessLogPolicy.parse(self.access_log)
        except ValueError as error:
            raise ConfigurationError(f"PAYGATE_ACCESS_LOG: {error}") from None
        for name in ("master_key", "previous_master_key"):
            if getattr(self, name):
                _check_master_key(name, getattr(self, name))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build from `PAYGATE_<FIELD>` variables; an unparseable value fails loudly."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = env.get(f"PAYGATE_{spec.name.upper()}")
            if raw is None or raw == "":
                continue
            values[spec.name] = _parse(spec.name, str(spec.type), raw)
        return cls(**values)

    def but(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def _parse(name: str, kind: str, raw: str) -> Any:
    try:
        if kind.startswith("bool"):
            return _flag(raw)
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
        if kind.startswith("Path"):
            return Path(raw)
        return raw
    except ValueError as error:
        raise ConfigurationError(f"PAYGATE_{name.upper()}: {error}") from error


def _check_database_url(url: str) -> None:
    from sqlalchemy.engine import make_url

    example = "e.g. sqlite+aiosqlite:///./paygate.db or postgresql+asyncpg://user@host/db"
    try:
        driver = make_url(url).drivername
    except Exception:  # SQLAlchemy raises several kinds for a bad URL
        raise ConfigurationError(
            f"PAYGATE_DATABASE_URL is not a database URL ({example})") from None
    if driver not in DATABASE_DRIVERS:
        raise ConfigurationError(
            f"PAYGATE_DATABASE_URL names the driver {driver!r}; paygate speaks "
            f"{' and '.join(d + '://' for d in DATABASE_DRIVERS)} ({example})")


def _check_master_key(name: str, key: str) -> None:
    try:
        decode_key(key)
    except ValueError:
        raise ConfigurationError(
            f"PAYGATE_{name.upper()} must be the base64 of 32 random bytes "
            "(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32))"
            ".decode())')") from None
