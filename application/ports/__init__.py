"""The ports: what the use cases need from the outside world, as `typing.Protocol`s."""

from application.ports.channel import (
    ChannelEvent,
    ChannelPort,
    Channels,
    ChargeRequest,
    ChargeResult,
    Outcome,
    RefundRequest,
    RefundResult,
)
from application.ports.external import OrderPort, OrderRequest, RiskPort, RiskRequest
from application.ports.platform import Clock, IdGenerator, SecretVault, WebhookSender
from application.ports.storage import (
    Cursor,
    IdempotencyStore,
    LedgerRepository,
    MerchantRepository,
    Page,
    PaymentQuery,
    PaymentRepository,
    RefundQuery,
    RefundRepository,
    SettlementRepository,
    StoredResponse,
    UnitOfWork,
    UnitOfWorkFactory,
    WebhookEvent,
    WebhookRepository,
)

__all__ = [
    "ChannelEvent", "ChannelPort", "Channels", "ChargeRequest", "ChargeResult", "Clock",
    "Cursor", "IdGenerator", "IdempotencyStore", "LedgerRepository", "MerchantRepository",
    "OrderPort", "OrderRequest", "Outcome", "Page", "PaymentQuery", "PaymentRepository",
    "RefundQuery", "RefundRepository", "RefundRequest", "RefundResult", "RiskPort",
    "RiskRequest", "SecretVault", "SettlementRepository", "StoredResponse", "UnitOfWork",
    "UnitOfWorkFactory", "WebhookEvent", "WebhookRepository", "WebhookSender",
]
