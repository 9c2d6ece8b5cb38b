"""promtool on the SLO rules (deploy/prometheus/slo.yml, docs/adr/0018): valid, and their
alert tests passing. Apart from the other promtool tests, so that the suite's workers run
the two in parallel: each SLO test file takes seconds of promtool's CPU."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

from deploy_assets import load_yaml, slo_rules
from promtool_runner import DEPLOY, run_promtool


def test_slo_rules_are_valid(promtool: str) -> None:
    """Three SLIs over seven windows, their 30-day ratios and budgets, two alerts each."""
    result = run_promtool(promtool, "check", "rules", "slo.yml", cwd=DEPLOY / "prometheus")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 33 rules found" in result.stdout


SLO_TESTS = ("slo_test.yml", "slo_long_test.yml")
# seconds of CPU each on an idle machine (hours of series, evaluated every minute or five):
# generous, for a machine shared with other work
SLO_TEST_TIMEOUT = 300


def test_every_slo_alert_pages_on_a_fast_burn_tickets_a_slow_one_and_resolves(
    promtool: str
) -> None:
    """For each SLO: a fast burn pages within minutes, a slow one only tickets, a 2-minute
    blip pages nothing, and an outage's alerts resolve once it is over (both files at once:
    each takes seconds of CPU)."""
    def run(name: str) -> subprocess.CompletedProcess[str]:
        return run_promtool(promtool, "test", "rules", name, cwd=DEPLOY / "prometheus",
                            timeout=SLO_TEST_TIMEOUT)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(run, SLO_TESTS))
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_slo_tests_cover_every_slo_alert_firing_and_silent() -> None:
    """Each alert of slo.yml is expected to fire somewhere and to stay silent somewhere."""
    alerts = {rule["alert"] for rule in slo_rules() if "alert" in rule}
    firing: set[str] = set()
    silent: set[str] = set()
    for name in SLO_TESTS:
        for test in load_yaml(f"prometheus/{name}")["tests"]:
            for check in test["alert_rule_test"]:
                (firing if check["exp_alerts"] else silent).add(check["alertname"])
    assert len(alerts) == 6
    assert firing == alerts
    assert silent == alerts
