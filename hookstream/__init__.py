"""hookstream: a Kafka-backed webhook platform."""
