-- Deactivated members, SQLite dialect. Keep in step with
-- ../postgres/00009_deactivated_members.sql.

-- +goose Up

-- When an admin deactivated the member; NULL while they are active. A
-- deactivated member cannot sign in or use an API token, and their
-- sessions and tokens were revoked when it was set. The row stays, so
-- their chats, messages and history keep their author.
ALTER TABLE users ADD COLUMN deactivated_at DATETIME NULL;

-- +goose Down
ALTER TABLE users DROP COLUMN deactivated_at;
