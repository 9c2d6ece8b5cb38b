"""Metrics, traces and logs for paygate, applied from outside the hexagon.

Nothing in `domain/` or `application/` imports this package: the composition root wraps
use cases and ports with `observability.decorators` / `observability.ports`, the HTTP
entrypoint wraps its app with `observability.asgi.ObservabilityMiddleware`, and each worker
calls `observability.tracing.configure_tracing` and `observability.logging.configure_logging`.

Submodules are imported explicitly (no re-exports here), so `paygate serve` can import
`observability.multiprocess` before prometheus-client is loaded.
"""
