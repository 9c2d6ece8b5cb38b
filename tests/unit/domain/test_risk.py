import pytest

from domain.errors import InvalidRiskDecision
from domain.risk import RiskDecision, Verdict


class TestRiskDecision:
    @pytest.mark.parametrize("score", [0, 55, 100])
    def test_score_within_0_to_100_is_kept(self, score: int) -> None:
        assert RiskDecision(Verdict.REVIEW, score).score == score

    @pytest.mark.parametrize("score", [-1, 101])
    def test_score_out_of_bounds_is_a_validation_error(self, score: int) -> None:
        with pytest.raises(InvalidRiskDecision, match="0-100") as error:
            RiskDecision(Verdict.APPROVE, score)
        assert error.value.code == "validation_error"

    @pytest.mark.parametrize("score", [True, False, 12.0, "12", None])
    def test_score_must_be_a_real_integer(self, score: object) -> None:
        with pytest.raises(InvalidRiskDecision, match="integer"):
            RiskDecision(Verdict.APPROVE, score)  # type: ignore[arg-type]

    def test_verdict_given_as_text_becomes_a_verdict(self) -> None:
        decision = RiskDecision("reject", 90, ("blocked_card",))  # type: ignore[arg-type]
        assert decision.verdict is Verdict.REJECT
        assert decision.reasons == ("blocked_card",)

    def test_unknown_verdict_is_a_validation_error(self) -> None:
        with pytest.raises(InvalidRiskDecision, match="maybe") as error:
            RiskDecision("maybe", 50)  # type: ignore[arg-type]
        assert error.value.code == "validation_error"

    def test_approve_shortcut_carries_score_and_reasons(self) -> None:
        decision = RiskDecision.approve(7, "known_customer", "low_amount")
        assert decision == RiskDecision(Verdict.APPROVE, 7, ("known_customer", "low_amount"))
        assert RiskDecision.approve() == RiskDecision(Verdict.APPROVE, 0, ())
