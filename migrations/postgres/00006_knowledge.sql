-- Knowledge bases and answerer settings, Postgres dialect.
--
-- Keep this file in step with ../sqlite/00006_knowledge.sql: same tables,
-- same columns, same constraints; only the types differ.

-- +goose Up

-- An assistant's knowledge base: one JSON document (bio, tone, rules,
-- pricing style, FAQ) whose shape package knowledge owns, as drafts hold a
-- graph the engine owns. An assistant without a row uses the pre-filled
-- guidance, so the row appears on the first save, at revision 1.
CREATE TABLE knowledge_bases (
    assistant_id TEXT        PRIMARY KEY,
    workspace_id TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    -- Bumped on every change; the answerers' indexes are cached by it, and
    -- a save names the revision it started from.
    revision     BIGINT      NOT NULL CHECK (revision > 0),
    document     TEXT        NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    updated_by   TEXT        NULL REFERENCES users (id) ON DELETE SET NULL,
    -- Composite: the database refuses a knowledge base of another tenant's
    -- assistant, and deleting the assistant deletes it.
    FOREIGN KEY (workspace_id, assistant_id) REFERENCES assistants (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX knowledge_bases_workspace_idx ON knowledge_bases (workspace_id);

-- Which answerer a workspace's llm_answer nodes use. A workspace without a
-- row uses the built-in answerer with the default threshold.
CREATE TABLE answerer_settings (
    workspace_id  TEXT             PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    mode          TEXT             NOT NULL DEFAULT 'builtin' CHECK (mode IN ('builtin', 'openai')),
    -- The OpenAI-compatible endpoint. It may be internal (a local Ollama):
    -- only admins set it.
    base_url      TEXT             NOT NULL DEFAULT '',
    model         TEXT             NOT NULL DEFAULT '',
    -- Never returned by the API in full.
    api_key       TEXT             NOT NULL DEFAULT '',
    max_tokens    INTEGER          NOT NULL CHECK (max_tokens > 0),
    timeout_ms    INTEGER          NOT NULL CHECK (timeout_ms > 0),
    threshold     DOUBLE PRECISION NOT NULL CHECK (threshold >= 0 AND threshold <= 1),
    stream        BOOLEAN          NOT NULL DEFAULT FALSE,
    handover_tool BOOLEAN          NOT NULL DEFAULT TRUE,
    updated_at    TIMESTAMPTZ      NOT NULL,
    updated_by    TEXT             NULL REFERENCES users (id) ON DELETE SET NULL
);

-- +goose Down
DROP TABLE answerer_settings;
DROP TABLE knowledge_bases;
