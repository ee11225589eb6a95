-- Webhook subscriptions and their deliveries, SQLite dialect.
--
-- Keep this file in step with ../postgres/00003_webhooks.sql: same tables,
-- same columns, same constraints; only the types differ. See that file for
-- what the columns mean.

-- +goose Up
CREATE TABLE webhook_subscriptions (
    id                         TEXT     PRIMARY KEY,
    workspace_id               TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url                        TEXT     NOT NULL CHECK (url <> '' AND length(url) <= 2048),
    events                     TEXT     NOT NULL DEFAULT '[]',
    enabled                    BOOLEAN  NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    secret                     TEXT     NOT NULL CHECK (secret <> ''),
    previous_secret            TEXT     NOT NULL DEFAULT '',
    previous_secret_expires_at DATETIME NULL,
    created_at                 DATETIME NOT NULL,
    updated_at                 DATETIME NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX webhook_subscriptions_workspace_idx ON webhook_subscriptions (workspace_id, created_at);
CREATE INDEX webhook_subscriptions_rotation_idx ON webhook_subscriptions (previous_secret_expires_at)
    WHERE previous_secret_expires_at IS NOT NULL;

CREATE TABLE webhook_deliveries (
    id              TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    subscription_id TEXT     NOT NULL,
    outbox_id       TEXT     NOT NULL REFERENCES webhook_outbox (id) ON DELETE CASCADE,
    event_id        TEXT     NOT NULL,
    event_type      TEXT     NOT NULL CHECK (event_type <> ''),
    status          TEXT     NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER  NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at DATETIME NOT NULL,
    last_attempt_at DATETIME NULL,
    last_status     INTEGER  NOT NULL DEFAULT 0,
    last_error      TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    delivered_at    DATETIME NULL,
    UNIQUE (subscription_id, outbox_id),
    FOREIGN KEY (workspace_id, subscription_id) REFERENCES webhook_subscriptions (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_subscription_idx ON webhook_deliveries (workspace_id, subscription_id, created_at);
CREATE INDEX webhook_deliveries_outbox_idx ON webhook_deliveries (outbox_id);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
