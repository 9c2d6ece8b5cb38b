"""Payment channels: the sandbox acquirer, Stripe, and a client of a remote channel service."""

from adapters.channel.remote import RemoteChannelClient
from adapters.channel.sandbox import REFUND_FAILURE_AMOUNT, SandboxChannel
from adapters.channel.sandbox_notifications import sign_sandbox_notification
from adapters.channel.stripe_channel import StripeChannel

__all__ = [
    "REFUND_FAILURE_AMOUNT",
    "RemoteChannelClient",
    "SandboxChannel",
    "StripeChannel",
    "sign_sandbox_notification",
]
