"""What a drill saw, printed in one line (run with `-s` to read it) and checked by the drill."""

from __future__ import annotations

import json
from typing import Any

import httpx

FINAL = {"succeeded", "failed", "rejected", "requires_review", "refunded", "partially_refunded"}
UNRESOLVED = {"pending", "processing"}


def report(drill: str, **figures: Any) -> None:
    print(f"DRILL {drill} {json.dumps(figures, sort_keys=True)}")


def assert_contract_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert list(body) == ["error"], body
    assert set(body["error"]) == {"code", "message", "trace_id", "details"}, body
    assert body["error"]["code"] == code, body
    assert response.headers.get("x-trace-id"), dict(response.headers)
