"""The HTTP edge: ASGI middlewares wrapped around the API from outside (the canonical log
line, slow-client deadlines, releasing a spent signature), kept apart from the handlers,
which know nothing of logging or tracing."""
