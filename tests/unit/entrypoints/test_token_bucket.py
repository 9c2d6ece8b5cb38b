"""The per-merchant rate limit: `rate` a second, up to `burst` at once."""

from __future__ import annotations

from entrypoints.http.auth import TokenBucket


def test_the_burst_is_allowed_then_the_next_waits_for_a_token() -> None:
    bucket = TokenBucket(rate=2.0, burst=2)
    assert [bucket.take("m", 100.0) for _ in range(2)] == [0.0, 0.0]
    assert bucket.take("m", 100.0) == 0.5
    assert bucket.take("m", 100.5) == 0.0


def test_each_merchant_has_its_own_bucket() -> None:
    bucket = TokenBucket(rate=1.0, burst=1)
    assert bucket.take("busy", 100.0) == 0.0
    assert bucket.take("busy", 100.0) > 0
    assert bucket.take("calm", 100.0) == 0.0


def test_a_request_whose_clock_was_read_earlier_costs_one_token_not_the_lag() -> None:
    """Concurrent requests read the clock, then await the credentials' lookup: one that
    read it earlier may take its token after a later one. The lag is no negative refill
    (at 2,000 a second, 2 s of lag drained the whole burst of 4,000: a false 429)."""
    bucket = TokenBucket(rate=2000.0, burst=4000)
    assert bucket.take("m", 102.0) == 0.0
    assert bucket.take("m", 100.0) == 0.0  # read 2 s earlier, answered later
    assert bucket.take("m", 102.0) == 0.0
    assert bucket.take("m", 101.0) == 0.0


def test_a_late_reading_does_not_move_the_refill_back() -> None:
    bucket = TokenBucket(rate=1.0, burst=1)
    assert bucket.take("m", 100.0) == 0.0
    assert bucket.take("m", 99.0) > 0  # no token: the earlier reading adds none
    assert bucket.take("m", 101.0) == 0.0  # one second after 100.0, not after 99.0
