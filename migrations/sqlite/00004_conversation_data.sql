-- The agents' side panel of a conversation and the files visitors and agents
-- send, SQLite dialect.
--
-- Keep this file in step with ../postgres/00004_conversation_data.sql: same
-- tables, same columns, same constraints; only the types differ.

-- +goose Up

-- One row per conversation: what the agent collected in the side panel. It
-- is copied into a lead when the agent creates a lead or a deal, and stays
-- editable after the chat is closed. Revision is the compare-and-set counter
-- that keeps two agents from silently overwriting each other.
CREATE TABLE conversation_data (
    conversation_id TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
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
    revision        INTEGER  NOT NULL DEFAULT 1 CHECK (revision > 0),
    updated_at      DATETIME NOT NULL,
    -- No foreign key: who edited last is history, kept when the user goes.
    updated_by      TEXT     NULL,
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX conversation_data_workspace_idx ON conversation_data (workspace_id);

-- Files sent in a conversation, kept in the database so that every node can
-- serve them without shared disk. The content type is the one sniffed from
-- the bytes, never the client's; only types that cannot carry script are
-- allowed. Rows are immutable.
CREATE TABLE attachments (
    id              TEXT     PRIMARY KEY,
    workspace_id    TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    conversation_id TEXT     NOT NULL,
    uploader_kind   TEXT     NOT NULL CHECK (uploader_kind IN ('visitor', 'agent')),
    -- The visitor id or the agent's user id; no foreign key, like
    -- messages.author_id.
    uploader_id     TEXT     NOT NULL CHECK (uploader_id <> ''),
    content_type    TEXT     NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/gif', 'image/webp', 'application/pdf')),
    size            INTEGER  NOT NULL CHECK (size > 0),
    sha256          TEXT     NOT NULL CHECK (length(sha256) = 64),
    file_name       TEXT     NOT NULL CHECK (file_name <> ''),
    data            BLOB     NOT NULL CHECK (typeof(data) = 'blob' AND length(data) = size),
    created_at      DATETIME NOT NULL,
    FOREIGN KEY (workspace_id, conversation_id) REFERENCES conversations (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX attachments_conversation_idx ON attachments (workspace_id, conversation_id, created_at);
-- +goose StatementBegin
CREATE TRIGGER attachments_immutable BEFORE UPDATE ON attachments
BEGIN
    SELECT RAISE(ABORT, 'rows of attachments are immutable');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE attachments;
DROP TABLE conversation_data;
