-- Frontdesk schema, Postgres dialect.
--
-- Keep this file in step with ../sqlite/00001_init.sql: same tables, same
-- columns, same constraints; only the types differ.
--
-- Conventions:
--   * ids are TEXT uuid v7 strings generated in Go, so both dialects agree.
--   * JSON columns are TEXT, not jsonb: jsonb rewrites the document (key order,
--     whitespace, duplicate keys), and graphs and engine state must come back
--     byte for byte the same on both dialects. Go validates the JSON before
--     writing. Analytics can still cast with data::jsonb.
--   * Parents carry UNIQUE (workspace_id, id) so NOT NULL children can use a
--     composite foreign key: the database itself refuses a row that points at
--     another tenant's parent.
--   * Nullable references that must survive the parent's deletion use a plain
--     foreign key with ON DELETE SET NULL (a composite one would null the
--     workspace_id too); storage checks their tenant in Go.

-- +goose Up

-- Refuses UPDATE on append-only and immutable tables. The custom SQLSTATE lets
-- storage map it to ErrInvalid in one place.
-- +goose StatementBegin
CREATE FUNCTION frontdesk_refuse_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rows of % are immutable', TG_TABLE_NAME
        USING ERRCODE = 'FD001';
END
$$;
-- +goose StatementEnd

CREATE TABLE workspaces (
    id            TEXT        PRIMARY KEY,
    name          TEXT        NOT NULL,
    out_of_office BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE users (
    id                TEXT        PRIMARY KEY,
    workspace_id      TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email             TEXT        NOT NULL CHECK (email <> '' AND email = lower(email)),
    name              TEXT        NOT NULL DEFAULT '',
    role              TEXT        NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    manage_assistants BOOLEAN     NOT NULL DEFAULT FALSE,
    password_hash     TEXT        NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, email),
    UNIQUE (workspace_id, id)
);

CREATE TABLE assistants (
    id               TEXT        PRIMARY KEY,
    workspace_id     TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name             TEXT        NOT NULL,
    default_language TEXT        NOT NULL DEFAULT 'en',
    languages        TEXT        NOT NULL DEFAULT '["en"]',
    settings         TEXT        NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE channels (
    id               TEXT        PRIMARY KEY,
    workspace_id     TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name             TEXT        NOT NULL,
    kind             TEXT        NOT NULL DEFAULT 'web' CHECK (kind IN ('web')),
    public_key       TEXT        NOT NULL UNIQUE,
    allowed_origins  TEXT        NOT NULL DEFAULT '[]',
    default_response TEXT        NOT NULL DEFAULT '{}',
    -- One assistant per channel: connecting another one overwrites this.
    assistant_id     TEXT        NULL REFERENCES assistants (id) ON DELETE SET NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX channels_assistant_idx ON channels (assistant_id);

CREATE TABLE drafts (
    assistant_id TEXT        PRIMARY KEY,
    workspace_id TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Bumped on every save; a save names the revision it started from.
    revision     BIGINT      NOT NULL DEFAULT 0 CHECK (revision >= 0),
    graph        TEXT        NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT        NULL REFERENCES users (id) ON DELETE SET NULL,
    FOREIGN KEY (workspace_id, assistant_id) REFERENCES assistants (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX drafts_workspace_idx ON drafts (workspace_id);

CREATE TABLE versions (
    id           TEXT        PRIMARY KEY,
    workspace_id TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    assistant_id TEXT        NOT NULL,
    number       INTEGER     NOT NULL CHECK (number > 0),
    graph        TEXT        NOT NULL,
    published_at TIMESTAMPTZ NOT NULL,
    -- No foreign key: who published is history, and deleting a user must not
    -- rewrite an immutable row.
    published_by TEXT        NULL,
    UNIQUE (assistant_id, number),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, assistant_id) REFERENCES assistants (workspace_id, id) ON DELETE CASCADE
);
CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
    FOR EACH ROW EXECUTE FUNCTION frontdesk_refuse_update();

CREATE TABLE conversations (
    id           TEXT        PRIMARY KEY,
    workspace_id TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- NULL for preview chats started from the builder, or once the channel
    -- is deleted: the conversation and its leads outlive the channel.
    channel_id   TEXT        NULL REFERENCES channels (id) ON DELETE SET NULL,
    assistant_id TEXT        NULL REFERENCES assistants (id) ON DELETE SET NULL,
    -- The pinned version: publishing never moves a chat in progress.
    version_id   TEXT        NULL REFERENCES versions (id) ON DELETE SET NULL,
    visitor_id   TEXT        NOT NULL,
    status       TEXT        NOT NULL CHECK (status IN ('bot', 'unassigned', 'assigned', 'closed')),
    assignee_id  TEXT        NULL REFERENCES users (id) ON DELETE SET NULL,
    state        TEXT        NOT NULL DEFAULT '{}',
    -- Optimistic concurrency: every state or status change bumps it.
    version      BIGINT      NOT NULL DEFAULT 1,
    -- The last message seq handed out; the next message gets last_seq + 1.
    last_seq     BIGINT      NOT NULL DEFAULT 0,
    preview      BOOLEAN     NOT NULL DEFAULT FALSE,
    language     TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    closed_at    TIMESTAMPTZ NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX conversations_inbox_idx ON conversations (workspace_id, status, updated_at);
CREATE INDEX conversations_assignee_idx ON conversations (workspace_id, assignee_id);
CREATE INDEX conversations_visitor_idx ON conversations (workspace_id, visitor_id);
CREATE INDEX conversations_assistant_idx ON conversations (workspace_id, assistant_id, created_at);
CREATE INDEX conversations_channel_idx ON conversations (channel_id);
CREATE INDEX conversations_version_idx ON conversations (version_id);

CREATE TABLE messages (
    id              TEXT        PRIMARY KEY,
    workspace_id    TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT        NOT NULL,
    seq             BIGINT      NOT NULL CHECK (seq > 0),
    client_id       TEXT        NULL,
    author          TEXT        NOT NULL CHECK (author IN ('visitor', 'bot', 'agent', 'system')),
    -- No foreign key: the transcript must not change when a user is deleted.
    author_id       TEXT        NULL,
    body            TEXT        NOT NULL DEFAULT '',
    payload         TEXT        NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (conversation_id, seq),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
-- A retried client message is stored once.
CREATE UNIQUE INDEX messages_client_id_key ON messages (conversation_id, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX messages_workspace_idx ON messages (workspace_id, conversation_id);

CREATE TABLE timers (
    id              TEXT        PRIMARY KEY,
    workspace_id    TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT        NOT NULL,
    name            TEXT        NOT NULL CHECK (name <> ''),
    fire_at         TIMESTAMPTZ NOT NULL,
    payload         TEXT        NOT NULL DEFAULT '{}',
    -- pending: waits for fire_at; claimed: a worker holds it until
    -- claimed_until, after which another worker may claim it again.
    state           TEXT        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed')),
    claimed_until   TIMESTAMPTZ NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    UNIQUE (conversation_id, name),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX timers_pending_idx ON timers (fire_at) WHERE state = 'pending';
CREATE INDEX timers_claimed_idx ON timers (claimed_until) WHERE state = 'claimed';
CREATE INDEX timers_workspace_idx ON timers (workspace_id, conversation_id);

CREATE TABLE leads (
    id              TEXT          PRIMARY KEY,
    workspace_id    TEXT          NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT          NULL REFERENCES conversations (id) ON DELETE SET NULL,
    kind            TEXT          NOT NULL CHECK (kind IN ('lead', 'deal')),
    person_name     TEXT          NOT NULL DEFAULT '',
    email           TEXT          NOT NULL DEFAULT '',
    phone           TEXT          NOT NULL DEFAULT '',
    org_name        TEXT          NOT NULL DEFAULT '',
    org_address     TEXT          NOT NULL DEFAULT '',
    -- Money is exact: NUMERIC here, decimal text on SQLite, never a float.
    value           NUMERIC(20, 4) NULL CHECK (value >= 0),
    currency        TEXT          NOT NULL DEFAULT '',
    expected_close  DATE          NULL,
    notes           TEXT          NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ   NOT NULL
);
CREATE INDEX leads_workspace_idx ON leads (workspace_id, created_at);
CREATE INDEX leads_conversation_idx ON leads (conversation_id);

CREATE TABLE conversation_events (
    id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id    TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- No foreign keys on assistant and version: analytics keep their history
    -- after an assistant is deleted, and the log is never updated.
    assistant_id    TEXT        NULL,
    version_id      TEXT        NULL,
    conversation_id TEXT        NOT NULL,
    type            TEXT        NOT NULL CHECK (type <> ''),
    node_id         TEXT        NULL,
    data            TEXT        NOT NULL DEFAULT '{}',
    preview         BOOLEAN     NOT NULL DEFAULT FALSE,
    created_at      TIMESTAMPTZ NOT NULL,
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_events_assistant_idx ON conversation_events (workspace_id, assistant_id, created_at);
CREATE INDEX conversation_events_conversation_idx ON conversation_events (workspace_id, conversation_id, id);
CREATE INDEX conversation_events_version_idx ON conversation_events (workspace_id, version_id);
CREATE TRIGGER conversation_events_append_only BEFORE UPDATE ON conversation_events
    FOR EACH ROW EXECUTE FUNCTION frontdesk_refuse_update();

CREATE TABLE webhook_outbox (
    id              TEXT        PRIMARY KEY,
    workspace_id    TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- The stable id receivers deduplicate on; a redelivery reuses it.
    event_id        TEXT        NOT NULL UNIQUE,
    event_type      TEXT        NOT NULL CHECK (event_type <> ''),
    payload         TEXT        NOT NULL,
    status          TEXT        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER     NOT NULL DEFAULT 0,
    -- While pending: when the row may be claimed next. A claim pushes it out
    -- by the lease, so a worker that dies mid-delivery is retried.
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT        NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    delivered_at    TIMESTAMPTZ NULL
);
CREATE INDEX webhook_outbox_due_idx ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_outbox_workspace_idx ON webhook_outbox (workspace_id, status, created_at);

-- +goose Down
DROP TABLE webhook_outbox;
DROP TABLE conversation_events;
DROP TABLE leads;
DROP TABLE timers;
DROP TABLE messages;
DROP TABLE conversations;
DROP TABLE versions;
DROP TABLE drafts;
DROP TABLE channels;
DROP TABLE assistants;
DROP TABLE users;
DROP TABLE workspaces;
DROP FUNCTION frontdesk_refuse_update();
