package storage

import (
	"context"
	"errors"
	"time"
)

// AgentSettings are one member's notification settings: which inbox
// changes the agent socket turns into notifications for them. A member who
// never saved any has DefaultAgentSettings, every notification on.
type AgentSettings struct {
	WorkspaceID string `gorm:"primaryKey"`
	UserID      string `gorm:"primaryKey"`
	// NotifyNewUnassigned: a chat entered the Unassigned queue.
	NotifyNewUnassigned bool
	// NotifyAssigned: a chat was assigned to the member.
	NotifyAssigned bool
	// NotifyNewMessage: the visitor wrote in a chat the member has.
	NotifyNewMessage bool
	// NotifyHumanRequest: a visitor asked for a human (a global rule sent
	// the chat to the queue).
	NotifyHumanRequest bool
	// UpdatedAt is when the member last saved; zero for the defaults.
	UpdatedAt time.Time
}

// TableName is the agent_settings table.
func (AgentSettings) TableName() string { return "agent_settings" }

// DefaultAgentSettings are the settings of a member who never saved any:
// every notification on.
func DefaultAgentSettings(ws, userID string) AgentSettings {
	return AgentSettings{WorkspaceID: ws, UserID: userID,
		NotifyNewUnassigned: true, NotifyAssigned: true, NotifyNewMessage: true, NotifyHumanRequest: true}
}

// AgentSettingsFields are the settings a save replaces, all at once.
type AgentSettingsFields struct {
	NotifyNewUnassigned bool
	NotifyAssigned      bool
	NotifyNewMessage    bool
	NotifyHumanRequest  bool
}

// GetAgentSettings returns the member's notification settings, or
// DefaultAgentSettings when they never saved any. A user who is not a
// member of the workspace gives ErrNotFound.
func (s *Store) GetAgentSettings(ctx context.Context, ws, userID string) (*AgentSettings, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("user id", userID); err != nil {
		return nil, err
	}
	var out AgentSettings
	err := s.conn(ctx).Where("workspace_id = ? AND user_id = ?", ws, userID).Take(&out).Error
	if err == nil {
		return &out, nil
	}
	if err := mapError(err); !errors.Is(err, ErrNotFound) {
		return nil, wrap("get agent settings", err)
	}
	if err := s.needRef(ctx, "users", "user", ws, userID); err != nil {
		return nil, wrap("get agent settings", err)
	}
	d := DefaultAgentSettings(ws, userID)
	return &d, nil
}

// SaveAgentSettings replaces the member's notification settings and
// returns them. Last write wins: settings belong to one person, who has no
// one to conflict with but their own other tab. A user who is not a member
// of the workspace gives ErrNotFound.
func (s *Store) SaveAgentSettings(ctx context.Context, ws, userID string, in AgentSettingsFields) (*AgentSettings, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("user id", userID); err != nil {
		return nil, err
	}
	if err := s.needRef(ctx, "users", "user", ws, userID); err != nil {
		return nil, wrap("save agent settings", err)
	}
	// One statement, so two concurrent first saves cannot both insert.
	const q = `INSERT INTO agent_settings (workspace_id, user_id, notify_new_unassigned, notify_assigned,
		notify_new_message, notify_human_request, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id, user_id) DO UPDATE SET
		notify_new_unassigned = excluded.notify_new_unassigned, notify_assigned = excluded.notify_assigned,
		notify_new_message = excluded.notify_new_message, notify_human_request = excluded.notify_human_request,
		updated_at = excluded.updated_at
		RETURNING *`
	var rows []AgentSettings
	err := s.conn(ctx).Raw(q, ws, userID, in.NotifyNewUnassigned, in.NotifyAssigned, in.NotifyNewMessage,
		in.NotifyHumanRequest, s.now()).Scan(&rows).Error
	if err != nil {
		return nil, wrap("save agent settings", err)
	}
	if len(rows) != 1 {
		return nil, wrap("save agent settings", errors.New("the upsert returned no row"))
	}
	return &rows[0], nil
}
