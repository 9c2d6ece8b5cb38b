"""The SLO alert tests can fail: edits of slo.yml that a careless change could make (a
lower burn rate, the short window alone) make the test group that pins them fail. Each
mutant runs only that group of slo_test.yml, not the whole file: promtool evaluates every
SLO rule at every minute of a test, and the other groups cannot notice these edits."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from deploy_assets import load_yaml
from promtool_runner import DEPLOY, run_promtool

SLO_TEST_TIMEOUT = 300

SLO_MUTANTS = {  # the edit, and the test group of slo_test.yml that must then fail
    "pages at 12x instead of 14.4x": (
        ("(14.4 * ", "(12 * "),
        "payment success: the channel unreachable pages within 5 minutes"),
    "pages on the short windows alone": (
        ("job:slo_payment_success_errors:ratio_rate1h > ",
         "job:slo_payment_success_errors:ratio_rate5m > "),
        "payment success: a 2-minute blip of 20 % faults pages nothing"),
}


@pytest.mark.parametrize("mutant", SLO_MUTANTS)
def test_the_slo_tests_fail_on_a_lower_burn_rate_or_without_the_long_window(
    promtool: str, tmp_path: Path, mutant: str
) -> None:
    """slo_test.yml pins the page's burn rate (a fast burn pages at 5 minutes, not 4) and
    its long window (a 2-minute blip over the threshold in 5 minutes pages nothing)."""
    (before, after), group = SLO_MUTANTS[mutant]
    rules = (DEPLOY / "prometheus" / "slo.yml").read_text()
    assert before in rules
    tests = load_yaml("prometheus/slo_test.yml")
    tests["tests"] = [test for test in tests["tests"] if test["name"] == group]
    assert len(tests["tests"]) == 1
    (tmp_path / "slo_test.yml").write_text(yaml.safe_dump(tests, sort_keys=False))
    (tmp_path / "slo.yml").write_text(rules.replace(before, after))
    mutated = run_promtool(promtool, "test", "rules", "slo_test.yml", cwd=tmp_path,
                           timeout=SLO_TEST_TIMEOUT)
    # failed on the alert it pins (the whole file passes unmutated: test_slo_promtool.py)
    assert mutated.returncode != 0, mutated.stdout
    assert "PaymentSuccessBudgetBurn" in mutated.stdout + mutated.stderr
