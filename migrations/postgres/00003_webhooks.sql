-- Webhook subscriptions and their deliveries, Postgres dialect.
--
-- Keep this file in step with ../sqlite/00003_webhooks.sql: same tables, same
-- columns, same constraints; only the types differ.
--
-- webhook_outbox (migration 1) holds one row per event, written in the
-- transaction of the change it reports. The dispatcher fans each event out
-- into one webhook_deliveries row per matching subscription, so retries,
-- backoff and the dead letter are per receiver: one slow or failing receiver
-- never holds back another.

-- +goose Up

-- A receiver of a workspace's events. The signing secrets are stored as they
-- are, not hashed: HMAC needs the key itself to sign each delivery.
CREATE TABLE webhook_subscriptions (
    id                         TEXT        PRIMARY KEY,
    workspace_id               TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Checked against SSRF rules when saved, and again at every dial.
    url                        TEXT        NOT NULL CHECK (url <> '' AND length(url) <= 2048),
    -- A JSON array of event types, or ["*"] for every type.
    events                     TEXT        NOT NULL DEFAULT '[]',
    enabled                    BOOLEAN     NOT NULL DEFAULT TRUE,
    secret                     TEXT        NOT NULL CHECK (secret <> ''),
    -- During a rotation the old secret keeps signing (beside the new one)
    -- until previous_secret_expires_at, so receivers can switch without a gap.
    previous_secret            TEXT        NOT NULL DEFAULT '',
    previous_secret_expires_at TIMESTAMPTZ NULL,
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX webhook_subscriptions_workspace_idx ON webhook_subscriptions (workspace_id, created_at);
CREATE INDEX webhook_subscriptions_rotation_idx ON webhook_subscriptions (previous_secret_expires_at)
    WHERE previous_secret_expires_at IS NOT NULL;

-- One event for one subscription. The body is rebuilt from the outbox row on
-- every attempt, so it is the same bytes each time, under the same event id.
CREATE TABLE webhook_deliveries (
    id              TEXT        PRIMARY KEY,
    workspace_id    TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    subscription_id TEXT        NOT NULL,
    outbox_id       TEXT        NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    event_id        TEXT        NOT NULL,
    event_type      TEXT        NOT NULL CHECK (event_type <> ''),
    status          TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    -- Counts claims: a claim that never reported (a crash) counts too.
    attempts        INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- While pending: when the row may be claimed next. A claim pushes it out
    -- by the lease, so a worker that dies mid-delivery is retried.
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_attempt_at TIMESTAMPTZ NULL,
    -- The receiver's HTTP status on the last attempt; 0 when none came back.
    last_status     INTEGER     NOT NULL DEFAULT 0,
    last_error      TEXT        NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ NULL,
    -- Fanning an event out twice (a lease expired mid fan-out) adds nothing.
    UNIQUE (subscription_id, outbox_id),
    FOREIGN KEY (workspace_id, subscription_id) REFERENCES webhook_subscriptions (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (workspace_id, subscription_id, created_at);
CREATE INDEX webhook_deliveries_outbox_idx ON webhook_deliveries (outbox_id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
