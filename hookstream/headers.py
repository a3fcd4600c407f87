"""HTTP header names hookstream sends or reads, in one place."""

EVENT_ID = "X-Etl-Webhook-Event-Id"
EVENT = "X-Etl-Webhook-Event"
WEBHOOK_ID = "X-Etl-Webhook-Id"
ENTITY_ID = "X-Etl-Webhook-Entity-Id"
ENTITY_URL = "X-Etl-Webhook-Entity-URL"
SIGNATURE = "X-Etl-Webhook-Signature"
# The signature with the replaced secret, during the 24 h after a secret change.
SIGNATURE_PREVIOUS = "X-Etl-Webhook-Signature-Previous"
ATTEMPT = "X-Etl-Webhook-Attempt"

# Standard Webhooks (https://www.standardwebhooks.com/)
SW_ID = "webhook-id"
SW_TIMESTAMP = "webhook-timestamp"
SW_SIGNATURE = "webhook-signature"

AUTHORIZATION = "Authorization"
CONTENT_TYPE = "Content-Type"
USER_AGENT = "User-Agent"
RETRY_AFTER = "Retry-After"

USER_AGENT_VALUE = "hookstream/0.1"

# Never shown in the delivery log or logs.
REDACTED = frozenset(
    h.lower() for h in (AUTHORIZATION, SIGNATURE, SIGNATURE_PREVIOUS, SW_SIGNATURE)
)
