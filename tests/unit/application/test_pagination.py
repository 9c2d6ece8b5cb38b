import base64
from datetime import UTC, datetime, timedelta, timezone

import pytest

from application.errors import ValidationFailed
from application.pagination import MAX_LIMIT, check_limit, decode_cursor, encode_cursor
from application.ports.storage import Cursor

MOMENT = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TestCursor:
    @pytest.mark.parametrize(
        "cursor",
        [
            Cursor(MOMENT, "pay_000001"),
            Cursor(MOMENT.astimezone(timezone(timedelta(hours=9))), "ref_1"),
            Cursor(MOMENT, "key|with|bars"),
            Cursor(MOMENT, "ünïcode"),
        ],
    )
    def test_a_cursor_survives_the_round_trip(self, cursor: Cursor) -> None:
        text = encode_cursor(cursor)
        assert text is not None
        assert decode_cursor(text) == cursor

    def test_an_encoded_cursor_is_url_safe_and_unpadded(self) -> None:
        text = encode_cursor(Cursor(MOMENT, "pay_>>>???"))
        assert text is not None
        assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    def test_no_cursor_means_the_first_page(self) -> None:
        assert encode_cursor(None) is None
        assert decode_cursor(None) is None
        assert decode_cursor("") is None

    @pytest.mark.parametrize(
        "text",
        [
            "a",  # impossible base64 length
            "%%%%",
            b64(b"\xff\xfe\xfd"),  # not UTF-8
            b64(b"no separator"),
            b64(b"yesterday|pay_1"),
            b64(b"2026-11-23T10:00:00|pay_1"),  # naive time
            b64(b"2026-11-23T10:00:00+00:00|"),  # no key
            b64(b"2026-11-23T10:00:00+00:00|pay_\x00"),  # a key no row can have
            b64(b"0001-01-01T00:00:00+14:00|pay_1"),  # before year 1 in UTC
            b64(b"9999-12-31T23:59:59-14:00|pay_1"),  # after year 9999 in UTC
        ],
    )
    def test_a_cursor_this_api_never_returned_is_a_validation_error(self, text: str) -> None:
        with pytest.raises(ValidationFailed, match="cursor") as error:
            decode_cursor(text)
        assert error.value.code == "validation_error"


class TestLimit:
    @pytest.mark.parametrize("limit", [1, 20, MAX_LIMIT])
    def test_limits_from_1_to_100_are_accepted(self, limit: int) -> None:
        assert check_limit(limit) == limit

    @pytest.mark.parametrize("limit", [0, -1, 101, True, 20.0, "20", None])
    def test_other_limits_are_a_validation_error(self, limit: object) -> None:
        with pytest.raises(ValidationFailed, match="between 1 and 100"):
            check_limit(limit)  # type: ignore[arg-type]
