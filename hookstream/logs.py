"""One structured (key=value) log format for every process, faust's and
aiokafka's own records included; while Kafka is unreachable, aiokafka's
errors are held back and the outage is told in a few lines
(streams/kafka_outage.py)."""

from __future__ import annotations

import logging.config
from typing import Any

FORMAT = "ts=%(asctime)s level=%(levelname)s pid=%(process)d logger=%(name)s %(message)s"


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document; the worker hands it to faust
    (``faust.Worker(logging_config=...)``), which would otherwise install its
    own ``[time] [pid] [LEVEL]`` format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"keyvalue": {"format": FORMAT}},
        "filters": {"kafka_outage": {"()": "streams.kafka_outage.log_filter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "keyvalue",
                "filters": ["kafka_outage"],
            }
        },
        "root": {"level": level, "handlers": ["stderr"]},
        # aiokafka logs every reconnect and rebalance step at INFO.
        "loggers": {"aiokafka": {"level": "WARNING"}},
    }


def configure(level: str = "INFO") -> None:
    logging.config.dictConfig(logging_config(level))
