"""deploy/alerts.yml checked by Prometheus's own tool: the rules parse
(`promtool check rules`) and deploy/alerts.test.yml makes every alert fire
on a synthetic series and stay quiet on a healthy one (`promtool test rules`).

CI (CI=true) installs promtool through the Makefile; a missing promtool fails
there and is only skipped on a developer machine."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "alerts.yml"
RULE_TESTS = DEPLOY / "alerts.test.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(
            "promtool is missing in CI: `make promtool` installs it (Debian package prometheus)"
        )
    pytest.skip("promtool not installed (make promtool); CI fails instead of skipping")


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool(), *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def alert_names() -> set[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule}


def rule_tests() -> list[dict[str, Any]]:
    return yaml.safe_load(RULE_TESTS.read_text())["tests"]  # type: ignore[no-any-return]


def test_promtool_checks_the_rules() -> None:
    result = run("check", "rules", RULES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in result.stdout


def test_promtool_rule_tests_pass() -> None:
    result = run("test", "rules", RULE_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_fires_in_some_test_and_not_when_healthy() -> None:
    fired: set[str] = set()
    quiet_when_healthy: set[str] = set()
    for case in rule_tests():
        for check in case.get("alert_rule_test", []):
            if check.get("exp_alerts"):
                fired.add(check["alertname"])
            elif case["name"].startswith("healthy"):
                quiet_when_healthy.add(check["alertname"])
    alerts = alert_names()
    assert alerts - fired == set(), "alerts never shown firing in alerts.test.yml"
    assert alerts - quiet_when_healthy == set(), "alerts not checked on the healthy system"
    assert fired <= alerts, "alerts.test.yml names alerts that alerts.yml does not have"


def test_promtool_notices_a_wrong_expectation(tmp_path: Path) -> None:
    """The rule tests can fail: the same file with one expected label changed does."""
    shutil.copy(RULES, tmp_path / RULES.name)
    doc = yaml.safe_load(RULE_TESTS.read_text())
    firing = next(
        check
        for case in doc["tests"]
        for check in case["alert_rule_test"]
        if check.get("exp_alerts")
    )
    firing["exp_alerts"][0]["exp_labels"]["severity"] = "nonsense"
    broken = tmp_path / RULE_TESTS.name
    broken.write_text(yaml.safe_dump(doc))
    result = run("test", "rules", broken)
    assert result.returncode != 0, result.stdout
    assert firing["alertname"] in result.stdout + result.stderr
