"""Settings shared by the adapter integration tests: short timeouts keep the suite fast."""

from __future__ import annotations

from adapters.resilience import Policy

WEBHOOK_SECRET = "whsec_paygate_fake"
QUICK = Policy(
    timeout=0.3, attempts=3, deadline=5, wait_initial=0.01, wait_max=0.02, wait_jitter=0.01
)
