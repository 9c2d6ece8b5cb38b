"""A merchant: who owns payments, and the price they pay."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from domain.settlement import FeeSchedule


@dataclass(slots=True, kw_only=True)
class Merchant:
    """Secrets are kept sealed (encrypted by an adapter); the domain never sees them in clear."""

    merchant_id: str
    name: str
    api_key: str
    api_secret_sealed: str = field(repr=False)
    webhook_secret_sealed: str = field(repr=False)
    created_at: datetime
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    active: bool = True
