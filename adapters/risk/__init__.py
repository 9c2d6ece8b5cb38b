"""Risk: the built-in rule engine, and a client for a remote risk service."""

from adapters.risk.engine import RuleEngine
from adapters.risk.fingerprint import CardFingerprinter
from adapters.risk.remote import RemoteRiskClient
from adapters.risk.settings import RiskSettings, VelocityRule, load_risk_settings
from adapters.risk.velocity import InMemoryVelocityCounter, VelocityCounter
from adapters.risk.wire import RiskFacts, answer_assessment

__all__ = [
    "CardFingerprinter",
    "InMemoryVelocityCounter",
    "RemoteRiskClient",
    "RiskFacts",
    "RiskSettings",
    "RuleEngine",
    "VelocityCounter",
    "VelocityRule",
    "answer_assessment",
    "load_risk_settings",
]
