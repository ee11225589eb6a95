-- Sessions, API tokens and instance settings, Postgres dialect.
--
-- Keep this file in step with ../sqlite/00002_auth.sql: same tables, same
-- columns, same constraints; only the types differ.

-- +goose Up

-- A console sign-in. The id is the sha256 hex of the random token in the
-- fd_session cookie: a leaked database row cannot be replayed as a cookie.
CREATE TABLE sessions (
    id           TEXT        PRIMARY KEY CHECK (length(id) = 64),
    workspace_id TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT        NOT NULL,
    csrf_token   TEXT        NOT NULL CHECK (csrf_token <> ''),
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ NULL,
    -- Composite: the database refuses a session of another tenant's user.
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (workspace_id, user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- A bearer token for automation. Only its sha256 hex is stored; the token is
-- shown once, when it is created.
CREATE TABLE api_tokens (
    id           TEXT        PRIMARY KEY,
    workspace_id TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT        NOT NULL,
    name         TEXT        NOT NULL CHECK (name <> ''),
    token_hash   TEXT        NOT NULL UNIQUE CHECK (length(token_hash) = 64),
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ NULL,
    revoked_at   TIMESTAMPTZ NULL,
    UNIQUE (workspace_id, id),
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX api_tokens_workspace_idx ON api_tokens (workspace_id, created_at);
CREATE INDEX api_tokens_user_idx ON api_tokens (workspace_id, user_id);

-- Settings of the whole instance, not of a tenant: the generated signing
-- secret (so every node of a cluster shares it) and the first-run marker.
CREATE TABLE instance_settings (
    key        TEXT        PRIMARY KEY CHECK (key <> ''),
    value      TEXT        NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE instance_settings;
DROP TABLE api_tokens;
DROP TABLE sessions;
