"""The ASGI callables' types, without depending on any framework."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
# Frameworks type their own scope and events precisely; any ASGI callable is accepted.
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]
