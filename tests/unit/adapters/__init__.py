"""Unit tests of the risk, channel, order-client and resilience adapters."""
