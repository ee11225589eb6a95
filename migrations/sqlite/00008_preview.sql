-- Preview chats and transcript tests, SQLite dialect. Keep in step with
-- ../postgres/00008_preview.sql.

-- +goose Up

-- A preview chat runs the draft at the revision it started on; when the
-- draft is saved again the preview restarts. 0 for every other chat.
ALTER TABLE conversations ADD COLUMN draft_revision INTEGER NOT NULL DEFAULT 0;

-- Transcript tests: a preview chat saved as visitor inputs with the bot
-- messages and node path they produced, replayed against the draft before
-- publishing.
CREATE TABLE transcript_tests (
    id           TEXT     PRIMARY KEY,
    workspace_id TEXT     NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    assistant_id TEXT     NOT NULL,
    name         TEXT     NOT NULL,
    body         TEXT     NOT NULL,
    created_at   DATETIME NOT NULL,
    created_by   TEXT     NULL,
    UNIQUE (workspace_id, assistant_id, name),
    FOREIGN KEY (workspace_id, assistant_id) REFERENCES assistants (workspace_id, id) ON DELETE CASCADE
);
CREATE INDEX transcript_tests_assistant_idx ON transcript_tests (workspace_id, assistant_id);

-- How a chat started: '' on its pinned version (or the channel's default
-- response when it has none), 'queue' straight to the agents (a returning
-- visitor of a new-visitors-only assistant).
ALTER TABLE conversations ADD COLUMN route TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE conversations DROP COLUMN route;
DROP TABLE transcript_tests;
ALTER TABLE conversations DROP COLUMN draft_revision;
