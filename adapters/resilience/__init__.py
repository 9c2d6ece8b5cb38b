"""Timeouts, retries and circuit breakers shared by every remote call paygate makes."""

from adapters.resilience.breakers import Breakers, BreakerState
from adapters.resilience.errors import CircuitOpen, CredentialsRefused, DependencyError
from adapters.resilience.remote import DEFAULT_POLICY, Policy, RemoteService

__all__ = [
    "DEFAULT_POLICY",
    "BreakerState",
    "Breakers",
    "CircuitOpen",
    "CredentialsRefused",
    "DependencyError",
    "Policy",
    "RemoteService",
]
