-- Signed visitor identity, SQLite dialect. Keep in step with
-- ../postgres/00010_identity_verification.sql.

-- +goose Up

-- The channel's identity secret: the key the site's backend signs its
-- logged-in visitors' ids (or emails) with, HMAC-SHA256 (see
-- docs/websocket.md, "Signed identity"). NULL while verification is off.
-- The API shows it once, when it is generated, and never again.
ALTER TABLE channels ADD COLUMN identity_secret TEXT NULL;
-- When the current secret was generated; NULL while verification is off.
ALTER TABLE channels ADD COLUMN identity_secret_set_at DATETIME NULL;

-- A verified visitor resumes their latest open conversation on the channel
-- from any device: found by channel and visitor id, newest first.
CREATE INDEX conversations_channel_visitor_idx ON conversations (workspace_id, channel_id, visitor_id, created_at);

-- +goose Down
DROP INDEX conversations_channel_visitor_idx;
ALTER TABLE channels DROP COLUMN identity_secret_set_at;
ALTER TABLE channels DROP COLUMN identity_secret;
