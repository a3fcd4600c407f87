"""Harness shared by the tests and the benchmark: real processes, servers and
Kafka readers started the way operators start them. Never imported by the
product code."""
