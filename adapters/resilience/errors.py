"""What a remote call can end with besides an answer.

The one fact every caller needs is `sent`: whether the request may have reached the
dependency. A charge that was never sent failed harmlessly (`channel_unavailable`); a
charge that was sent and never answered may have moved money (`unknown`).
"""

from __future__ import annotations


class DependencyError(Exception):
    """A remote call that produced no usable answer."""

    def __init__(
        self, dependency: str, message: str, *, sent: bool, status: int | None = None
    ) -> None:
        super().__init__(f"{dependency}: {message}")
        self.dependency = dependency
        self.sent = sent
        self.status = status


class CircuitOpen(DependencyError):
    """The dependency's breaker is open: the call failed fast and nothing was sent."""

    def __init__(self, dependency: str) -> None:
        super().__init__(dependency, "circuit breaker is open", sent=False)


class CredentialsRefused(DependencyError):
    """The dependency answered 401 or 403: it refused paygate's credentials (a service token
    the two sides do not share, a revoked API key) before doing anything. Nothing was sent
    that acted, asking again cannot help, and it counts against the breaker, so a gateway
    set up wrong fails readiness instead of failing payments one by one (ADR 0011)."""

    def __init__(self, dependency: str, status: int) -> None:
        super().__init__(
            dependency, f"refused paygate's credentials ({status})", sent=False, status=status
        )
