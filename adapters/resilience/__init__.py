"""Timeouts, retries and circuit breakers shared by every remote call paygate makes."""

from adapters.resilience.breakers import Breakers, BreakerState
from adapters.resilience.errors import CircuitOpen, DependencyError
from adapters.resilience.remote import Policy, RemoteService

__all__ = [
    "BreakerState",
    "Breakers",
    "CircuitOpen",
    "DependencyError",
    "Policy",
    "RemoteService",
]
