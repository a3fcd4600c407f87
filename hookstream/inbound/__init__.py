"""Inbound webhooks: the ingress app, body parsing and verification."""
