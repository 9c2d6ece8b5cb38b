import pytest

from application.errors import (
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    Unavailable,
    ValidationFailed,
)
from application.idempotency import MAX_KEY_LENGTH, Idempotency
from application.ports.storage import StoredResponse
from domain.errors import InvalidReference
from tests.unit.fakes import FakeClock, FakeIdempotencyStore

CREATED = StoredResponse(201, b'{"payment_no":"pay_1"}', {"Content-Type": "application/json"})


class Counted:
    """An action that counts its runs and answers what it is told."""

    def __init__(self, *answers: StoredResponse | Exception) -> None:
        self.answers = list(answers)
        self.runs = 0

    async def __call__(self) -> StoredResponse:
        answer = self.answers[min(self.runs, len(self.answers) - 1)]
        self.runs += 1
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def store() -> FakeIdempotencyStore:
    return FakeIdempotencyStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def idempotency(store: FakeIdempotencyStore, clock: FakeClock) -> Idempotency:
    return Idempotency(store, clock)


class TestIdempotency:
    async def test_the_same_key_and_body_replays_the_first_response(
        self, idempotency: Idempotency
    ) -> None:
        action = Counted(CREATED, StoredResponse(201, b"another"))
        first = await idempotency.run("mch_1", "key-1", "fp-a", action)
        second = await idempotency.run("mch_1", "key-1", "fp-a", action)
        assert first == (CREATED, False)
        assert second == (CREATED, True)
        assert action.runs == 1

    async def test_a_client_error_is_remembered_too(self, idempotency: Idempotency) -> None:
        refused = StoredResponse(422, b'{"error":{"code":"amount_exceeded"}}')
        action = Counted(refused, CREATED)
        await idempotency.run("mch_1", "key-1", "fp-a", action)
        assert await idempotency.run("mch_1", "key-1", "fp-a", action) == (refused, True)
        assert action.runs == 1

    async def test_the_same_key_with_another_body_is_refused(
        self, idempotency: Idempotency
    ) -> None:
        action = Counted(CREATED)
        await idempotency.run("mch_1", "key-1", "fp-a", action)
        with pytest.raises(IdempotencyKeyReused) as error:
            await idempotency.run("mch_1", "key-1", "fp-b", action)
        assert error.value.code == "idempotency_key_reused"
        assert action.runs == 1

    async def test_the_same_key_while_the_first_request_runs_is_in_use(
        self, idempotency: Idempotency
    ) -> None:
        async def first() -> StoredResponse:
            with pytest.raises(IdempotencyKeyInUse):
                await idempotency.run("mch_1", "key-1", "fp-a", Counted(CREATED))
            return CREATED

        assert await idempotency.run("mch_1", "key-1", "fp-a", first) == (CREATED, False)

    @pytest.mark.parametrize("status", [500, 502, 503])
    async def test_a_server_error_is_released_so_the_request_can_be_retried(
        self, idempotency: Idempotency, store: FakeIdempotencyStore, status: int
    ) -> None:
        action = Counted(StoredResponse(status, b"down"), CREATED)
        assert await idempotency.run("mch_1", "key-1", "fp-a", action) == (
            StoredResponse(status, b"down"),
            False,
        )
        assert store.claims == {}
        assert await idempotency.run("mch_1", "key-1", "fp-a", action) == (CREATED, False)
        assert action.runs == 2

    async def test_an_exception_is_released_and_raised(
        self, idempotency: Idempotency, store: FakeIdempotencyStore
    ) -> None:
        action = Counted(Unavailable("database down"), CREATED)
        with pytest.raises(Unavailable):
            await idempotency.run("mch_1", "key-1", "fp-a", action)
        assert store.claims == {}
        assert await idempotency.run("mch_1", "key-1", "fp-a", action) == (CREATED, False)

    async def test_a_response_that_cannot_be_stored_is_still_answered(
        self, idempotency: Idempotency, store: FakeIdempotencyStore,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """The action committed (a payment exists): a 503 now would tell the client that
        nothing was written. The claim stays in flight, so a retry is `in use` until its
        lease runs out and then runs again, into the action's own duplicate check."""

        async def store_down(*args: object) -> None:
            raise Unavailable("database down")

        store.complete = store_down  # type: ignore[method-assign]
        action = Counted(CREATED)
        assert await idempotency.run("mch_1", "key-1", "fp-a", action) == (CREATED, False)
        assert [r.levelname for r in caplog.records] == ["ERROR"]
        assert "key-1" in caplog.text
        with pytest.raises(IdempotencyKeyInUse):
            await idempotency.run("mch_1", "key-1", "fp-a", action)
        assert action.runs == 1

    @pytest.mark.parametrize("key", ["", "k" * (MAX_KEY_LENGTH + 1)])
    async def test_a_key_of_the_wrong_length_is_a_validation_error(
        self, idempotency: Idempotency, store: FakeIdempotencyStore, key: str
    ) -> None:
        action = Counted(CREATED)
        with pytest.raises(ValidationFailed, match="1 to 255") as error:
            await idempotency.run("mch_1", key, "fp-a", action)
        assert error.value.code == "validation_error"
        assert (action.runs, store.claims) == (0, {})

    @pytest.mark.parametrize("key", ["   ", "key\u200b", "\u202ekey", " key", "k\x85y"])
    async def test_a_key_that_does_not_read_as_itself_is_a_validation_error(
        self, idempotency: Idempotency, store: FakeIdempotencyStore, key: str
    ) -> None:
        action = Counted(CREATED)
        with pytest.raises(InvalidReference, match="Idempotency-Key") as error:
            await idempotency.run("mch_1", key, "fp-a", action)
        assert error.value.code == "validation_error"
        assert (action.runs, store.claims) == (0, {})

    @pytest.mark.parametrize("key", ["k", "k" * MAX_KEY_LENGTH])
    async def test_keys_of_1_to_255_characters_are_accepted(
        self, idempotency: Idempotency, key: str
    ) -> None:
        assert await idempotency.run("mch_1", key, "fp-a", Counted(CREATED)) == (CREATED, False)

    async def test_keys_are_scoped_to_the_merchant(self, idempotency: Idempotency) -> None:
        action = Counted(CREATED)
        await idempotency.run("mch_1", "key-1", "fp-a", action)
        assert await idempotency.run("mch_2", "key-1", "fp-b", action) == (CREATED, False)
        assert action.runs == 2


class TestPurge:
    async def test_expired_keys_are_purged_batch_after_batch_until_none_is_left(
        self, store: FakeIdempotencyStore, clock: FakeClock
    ) -> None:
        idempotency = Idempotency(store, clock, purge_batch=2)
        for n in range(5):
            await idempotency.run("mch_1", f"old-{n}", "fp", Counted(CREATED))
        clock.advance(hours=23)
        await idempotency.run("mch_1", "recent", "fp", Counted(CREATED))
        clock.advance(hours=1, seconds=1)

        assert await idempotency.purge_expired() == {"idempotency_keys_purged": 5}
        assert list(store.claims) == [("mch_1", "recent")]
        assert store.purge_calls == [2, 2, 2]  # the third batch came back short: done

    async def test_nothing_expired_is_one_look(
        self, idempotency: Idempotency, store: FakeIdempotencyStore
    ) -> None:
        assert await idempotency.purge_expired() == {"idempotency_keys_purged": 0}
        assert store.purge_calls == [idempotency.purge_batch]
