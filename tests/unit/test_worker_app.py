"""The worker's faust app starts its web server but none of faust's own Kafka
clients: every agent is a consumer of ours (hookstream/worker.py)."""

from __future__ import annotations

from hookstream.metrics import Metrics
from hookstream.settings import Settings
from hookstream.worker import create_worker_app


def test_the_worker_app_starts_a_web_server_and_no_faust_kafka_client() -> None:
    settings = Settings(kafka_bootstrap_servers="127.0.0.1:1", secret_key="k")
    app, runtime = create_worker_app(settings, Metrics())
    started = {type(service).__name__ for service in app.on_init_dependencies()}
    assert "Web" in started
    # faust's default boot would add its Kafka clients, conductor and tables.
    assert not started & {"Consumer", "Producer", "Conductor", "TableManager"}
    assert not app.agents  # run_flows is runtime.run_flows, a batch consumer
    assert runtime.settings is settings
