-- Analytics indexes, Postgres dialect. Keep in step with
-- ../sqlite/00007_analytics_indexes.sql.

-- +goose Up

-- Analytics select conversations by their conversation_started event (one
-- per conversation) of an assistant in a period. The assistant index of
-- 00001 holds every event of the assistant, about twenty per conversation;
-- this partial index holds the start events alone, so choosing the
-- conversations reads one index entry each. Queries must spell
-- type = 'conversation_started' as a literal for the planner to use it.
CREATE INDEX conversation_events_started_idx ON conversation_events (workspace_id, assistant_id, created_at)
    WHERE type = 'conversation_started';

-- +goose Down
DROP INDEX conversation_events_started_idx;
