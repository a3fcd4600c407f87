"""deploy/ stays true to the code: alerts and dashboard panels only use
metrics hookstream exports, and compose only sets settings that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import CollectorRegistry

from hookstream.metrics import Metrics
from hookstream.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SUFFIXES = ("_total", "_bucket", "_sum", "_count", "_created")


def exported_metrics() -> set[str]:
    names: set[str] = set()
    for family in Metrics(CollectorRegistry()).registry.collect():
        names.add(family.name)
        names.update(family.name + suffix for suffix in SUFFIXES)
    return names


def used_metrics(expression: str) -> set[str]:
    return set(re.findall(r"\b(hookstream_[a-z_]+)", expression))


def test_alert_rules_use_only_exported_metrics() -> None:
    rules = yaml.safe_load((DEPLOY / "alerts.yml").read_text())["groups"][0]["rules"]
    assert len(rules) >= 5
    known = exported_metrics()
    for rule in rules:
        assert rule["annotations"]["summary"], rule["alert"]
        assert used_metrics(rule["expr"]) <= known, rule["alert"]


def test_dashboard_panels_use_only_exported_metrics() -> None:
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "hookstream.json").read_text())
    known = exported_metrics()
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= used_metrics(target["expr"])
            assert used_metrics(target["expr"]) <= known, panel["title"]
    # Every metric family hookstream defines is on the dashboard.
    families = {f.name for f in Metrics(CollectorRegistry()).registry.collect()}
    shown = {name.removesuffix(s) for name in used for s in SUFFIXES if name.endswith(s)} | used
    assert families <= shown, families - shown


def test_compose_sets_only_real_settings() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    fields = {f"HOOKSTREAM_{name.upper()}" for name in Settings.model_fields} | {
        "KAFKA_BOOTSTRAP_SERVERS"
    }
    for name in ("worker", "api", "ingress"):
        env = compose["services"][name]["environment"]
        assert set(env) <= fields, set(env) - fields
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
