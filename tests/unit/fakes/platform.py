"""Time that only moves when a test moves it, predictable ids, a toy vault, a webhook sink."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    current: datetime = START

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current

    def set(self, moment: datetime) -> None:
        self.current = moment


@dataclass
class SequentialIds:
    """`pay_000001`, `ref_000002`...: one counter for every prefix, so ids never collide."""

    issued: int = 0

    def new_id(self, prefix: str) -> str:
        self.issued += 1
        return f"{prefix}_{self.issued:06d}"

    def new_secret(self) -> str:
        self.issued += 1
        return f"secret-{self.issued:06d}"


class FakeVault:
    """Sealing is reversible string wrapping: enough to prove plain secrets are not stored."""

    PREFIX = "sealed:"

    def seal(self, plaintext: str) -> str:
        return self.PREFIX + plaintext[::-1]

    def open(self, sealed: str) -> str:
        if not sealed.startswith(self.PREFIX):
            raise ValueError("not sealed by this vault")
        return sealed[len(self.PREFIX) :][::-1]


@dataclass(frozen=True)
class Post:
    url: str
    body: bytes
    headers: dict[str, str]
    traceparent: str | None = None
    endpoint: str | None = None


@dataclass
class FakeDestinations:
    """Refuses what a test lists, with the reason given; every other URL is a destination."""

    refused: dict[str, str] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def refusal(self, url: str) -> str | None:
        self.asked.append(url)
        return self.refused.get(url)


@dataclass
class FakeWebhookSender:
    """Records every POST; answers the scripted statuses (or raises them), then 200."""

    script: deque[int | Exception] = field(default_factory=deque)
    posts: list[Post] = field(default_factory=list)
    during_post: Callable[[], Awaitable[object]] | None = None  # e.g. another worker's run

    def answer(self, *replies: int | Exception) -> None:
        self.script.extend(replies)

    async def post(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str],
        traceparent: str | None = None,
        *,
        endpoint: str | None = None,
    ) -> int:
        self.posts.append(Post(url, body, dict(headers), traceparent, endpoint))
        if self.during_post is not None:
            hook, self.during_post = self.during_post, None
            await hook()
        reply = self.script.popleft() if self.script else 200
        if isinstance(reply, Exception):
            raise reply
        return reply
