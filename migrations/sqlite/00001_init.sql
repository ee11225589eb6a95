-- Frontdesk schema, SQLite dialect.
--
-- Keep this file in step with ../postgres/00001_init.sql: same tables, same
-- columns, same constraints; only the types differ. See that file for the
-- conventions (TEXT ids and JSON, composite tenant foreign keys).
--
-- SQLite specifics:
--   * Time columns are declared DATETIME (DATE for dates) so the driver parses
--     them back into time.Time. Storage always writes UTC, which keeps the
--     driver's text format ordered, so fire_at <= ? compares correctly.
--   * BOOLEAN columns hold 0 or 1, enforced by CHECK.
--   * Money is decimal TEXT: REAL would be a binary float.
--   * Foreign keys need PRAGMA foreign_keys = ON, which storage sets on every
--     connection.

-- +goose Up
CREATE TABLE workspaces (
    id            TEXT     PRIMARY KEY,
    name          TEXT     NOT NULL,
    out_of_office BOOLEAN  NOT NULL DEFAULT 0 CHECK (out_of_office IN (0, 1)),
    created_at    DATETIME NOT NULL
);

CREATE TABLE users (
    id                TEXT     PRIMARY KEY,
    workspace_id      TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email             TEXT     NOT NULL CHECK (email <> '' AND email = lower(email)),
    name              TEXT     NOT NULL DEFAULT '',
    role              TEXT     NOT NULL CHECK (role IN ('owner', 'admin', 'agent')),
    manage_assistants BOOLEAN  NOT NULL DEFAULT 0 CHECK (manage_assistants IN (0, 1)),
    password_hash     TEXT     NOT NULL DEFAULT '',
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL,
    UNIQUE (workspace_id, email),
    UNIQUE (workspace_id, id)
);

CREATE TABLE assistants (
    id               TEXT     PRIMARY KEY,
    workspace_id     TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name             TEXT     NOT NULL,
    default_language TEXT     NOT NULL DEFAULT 'en',
    languages        TEXT     NOT NULL DEFAULT '["en"]',
    settings         TEXT     NOT NULL DEFAULT '{}',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    UNIQUE (workspace_id, id)
);

CREATE TABLE channels (
    id               TEXT     PRIMARY KEY,
    workspace_id     TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name             TEXT     NOT NULL,
    kind             TEXT     NOT NULL DEFAULT 'web' CHECK (kind IN ('web')),
    public_key       TEXT     NOT NULL UNIQUE,
    allowed_origins  TEXT     NOT NULL DEFAULT '[]',
    default_response TEXT     NOT NULL DEFAULT '{}',
    assistant_id     TEXT     NULL REFERENCES assistants (id) ON DELETE SET NULL,
    created_at       DATETIME NOT NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX channels_assistant_idx ON channels (assistant_id);

CREATE TABLE drafts (
    assistant_id TEXT     PRIMARY KEY,
    workspace_id TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    revision     INTEGER  NOT NULL DEFAULT 0 CHECK (revision >= 0),
    graph        TEXT     NOT NULL,
    updated_at   DATETIME NOT NULL,
    updated_by   TEXT     NULL REFERENCES users (id) ON DELETE SET NULL,
    FOREIGN KEY (workspace_id, assistant_id) REFERENCES assistants (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX drafts_workspace_idx ON drafts (workspace_id);

CREATE TABLE versions (
    id           TEXT     PRIMARY KEY,
    workspace_id TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    assistant_id TEXT     NOT NULL,
    number       INTEGER  NOT NULL CHECK (number > 0),
    graph        TEXT     NOT NULL,
    published_at DATETIME NOT NULL,
    published_by TEXT     NULL,
    UNIQUE (assistant_id, number),
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, assistant_id) REFERENCES assistants (workspace_id, id) ON DELETE CASCADE
);
-- +goose StatementBegin
CREATE TRIGGER versions_immutable BEFORE UPDATE ON versions
BEGIN
    SELECT RAISE(ABORT, 'rows of versions are immutable');
END;
-- +goose StatementEnd

CREATE TABLE conversations (
    id           TEXT     PRIMARY KEY,
    workspace_id TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    channel_id   TEXT     NULL REFERENCES channels (id) ON DELETE SET NULL,
    assistant_id TEXT     NULL REFERENCES assistants (id) ON DELETE SET NULL,
    version_id   TEXT     NULL REFERENCES versions (id) ON DELETE SET NULL,
    visitor_id   TEXT     NOT NULL,
    status       TEXT     NOT NULL CHECK (status IN ('bot', 'unassigned', 'assigned', 'closed')),
    assignee_id  TEXT     NULL REFERENCES users (id) ON DELETE SET NULL,
    state        TEXT     NOT NULL DEFAULT '{}',
    version      INTEGER  NOT NULL DEFAULT 1,
    last_seq     INTEGER  NOT NULL DEFAULT 0,
    preview      BOOLEAN  NOT NULL DEFAULT 0 CHECK (preview IN (0, 1)),
    language     TEXT     NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    closed_at    DATETIME NULL,
    UNIQUE (workspace_id, id)
);
CREATE INDEX conversations_inbox_idx ON conversations (workspace_id, status, updated_at);
CREATE INDEX conversations_assignee_idx ON conversations (workspace_id, assignee_id);
CREATE INDEX conversations_visitor_idx ON conversations (workspace_id, visitor_id);
CREATE INDEX conversations_assistant_idx ON conversations (workspace_id, assistant_id, created_at);
CREATE INDEX conversations_channel_idx ON conversations (channel_id);
CREATE INDEX conversations_version_idx ON conversations (version_id);

CREATE TABLE messages (
    id              TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT     NOT NULL,
    seq             INTEGER  NOT NULL CHECK (seq > 0),
    client_id       TEXT     NULL,
    author          TEXT     NOT NULL CHECK (author IN ('visitor', 'bot', 'agent', 'system')),
    author_id       TEXT     NULL,
    body            TEXT     NOT NULL DEFAULT '',
    payload         TEXT     NULL,
    created_at      DATETIME NOT NULL,
    UNIQUE (conversation_id, seq),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX messages_client_id_key ON messages (conversation_id, client_id)
    WHERE client_id IS NOT NULL;
CREATE INDEX messages_workspace_idx ON messages (workspace_id, conversation_id);

CREATE TABLE timers (
    id              TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT     NOT NULL,
    name            TEXT     NOT NULL CHECK (name <> ''),
    fire_at         DATETIME NOT NULL,
    payload         TEXT     NOT NULL DEFAULT '{}',
    state           TEXT     NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'claimed')),
    claimed_until   DATETIME NULL,
    attempts        INTEGER  NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    UNIQUE (conversation_id, name),
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX timers_pending_idx ON timers (fire_at) WHERE state = 'pending';
CREATE INDEX timers_claimed_idx ON timers (claimed_until) WHERE state = 'claimed';
CREATE INDEX timers_workspace_idx ON timers (workspace_id, conversation_id);

CREATE TABLE leads (
    id              TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT     NULL REFERENCES conversations (id) ON DELETE SET NULL,
    kind            TEXT     NOT NULL CHECK (kind IN ('lead', 'deal')),
    person_name     TEXT     NOT NULL DEFAULT '',
    email           TEXT     NOT NULL DEFAULT '',
    phone           TEXT     NOT NULL DEFAULT '',
    org_name        TEXT     NOT NULL DEFAULT '',
    org_address     TEXT     NOT NULL DEFAULT '',
    -- Exact decimal text written by shopspring/decimal; never REAL.
    value           TEXT     NULL CHECK (value IS NULL OR (typeof(value) = 'text' AND value NOT LIKE '-%')),
    currency        TEXT     NOT NULL DEFAULT '',
    expected_close  DATE     NULL,
    notes           TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL
);
CREATE INDEX leads_workspace_idx ON leads (workspace_id, created_at);
CREATE INDEX leads_conversation_idx ON leads (conversation_id);

CREATE TABLE conversation_events (
    id              INTEGER  PRIMARY KEY AUTOINCREMENT,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    assistant_id    TEXT     NULL,
    version_id      TEXT     NULL,
    conversation_id TEXT     NOT NULL,
    type            TEXT     NOT NULL CHECK (type <> ''),
    node_id         TEXT     NULL,
    data            TEXT     NOT NULL DEFAULT '{}',
    preview         BOOLEAN  NOT NULL DEFAULT 0 CHECK (preview IN (0, 1)),
    created_at      DATETIME NOT NULL,
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_events_assistant_idx ON conversation_events (workspace_id, assistant_id, created_at);
CREATE INDEX conversation_events_conversation_idx ON conversation_events (workspace_id, conversation_id, id);
CREATE INDEX conversation_events_version_idx ON conversation_events (workspace_id, version_id);
-- +goose StatementBegin
CREATE TRIGGER conversation_events_append_only BEFORE UPDATE ON conversation_events
BEGIN
    SELECT RAISE(ABORT, 'rows of conversation_events are immutable');
END;
-- +goose StatementEnd

CREATE TABLE webhook_outbox (
    id              TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    event_id        TEXT     NOT NULL UNIQUE,
    event_type      TEXT     NOT NULL CHECK (event_type <> ''),
    payload         TEXT     NOT NULL,
    status          TEXT     NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER  NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    last_error      TEXT     NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    delivered_at    DATETIME NULL
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
