"""The outcome of a risk assessment."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidRiskDecision


class Verdict(StrEnum):
    APPROVE = "approve"
    REVIEW = "review"
    REJECT = "reject"


@dataclass(frozen=True, slots=True)
class RiskDecision:
    """approve / review / reject, a 0-100 score (higher is riskier) and the reasons."""

    verdict: Verdict
    score: int
    reasons: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.score, bool) or not isinstance(self.score, int):
            raise InvalidRiskDecision("risk score must be an integer")
        if not 0 <= self.score <= 100:
            raise InvalidRiskDecision(f"risk score must be within 0-100, got {self.score}")
        try:
            verdict = Verdict(self.verdict)
        except ValueError:
            raise InvalidRiskDecision(f"unknown risk verdict {self.verdict!r}") from None
        object.__setattr__(self, "verdict", verdict)

    @classmethod
    def approve(cls, score: int = 0, *reasons: str) -> RiskDecision:
        return cls(Verdict.APPROVE, score, reasons)
