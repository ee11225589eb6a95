-- Each agent's notification settings, Postgres dialect.
--
-- Keep this file in step with ../sqlite/00005_agent_settings.sql: same
-- tables, same columns, same constraints; only the types differ.

-- +goose Up

-- One row per member who changed a setting; a member without a row has the
-- defaults (every notification on), so the table never needs back-filling
-- when a member is added.
CREATE TABLE agent_settings (
    workspace_id          TEXT        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id               TEXT        NOT NULL,
    notify_new_unassigned BOOLEAN     NOT NULL DEFAULT TRUE,
    notify_assigned       BOOLEAN     NOT NULL DEFAULT TRUE,
    notify_new_message    BOOLEAN     NOT NULL DEFAULT TRUE,
    notify_human_request  BOOLEAN     NOT NULL DEFAULT TRUE,
    updated_at            TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, user_id),
    -- Composite: the database refuses settings of another tenant's user.
    FOREIGN KEY (workspace_id, user_id) REFERENCES users (workspace_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE agent_settings;
