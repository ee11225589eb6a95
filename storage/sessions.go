package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Session is a console sign-in. Its ID is the sha256 hex of the random token
// held in the caller's cookie; the token itself is never stored, so a leaked
// row cannot be replayed. Package auth makes the token and decides what
// "expired" means; the Store only records.
type Session struct {
	ID          string
	WorkspaceID string
	UserID      string
	// CSRFToken must come back in the X-CSRF-Token header of unsafe
	// requests made with this session.
	CSRFToken  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session, whatever its activity.
	ExpiresAt time.Time
	// RevokedAt is set by logout, a password change or an admin.
	RevokedAt *time.Time
}

// TableName is the sessions table.
func (Session) TableName() string { return "sessions" }

// NewSession is the input of CreateSession.
type NewSession struct {
	// ID is the sha256 hex (64 characters) of the session token.
	ID        string
	UserID    string
	CSRFToken string
	ExpiresAt time.Time
}

// sessionIDLen is the length of a sha256 hex digest.
const sessionIDLen = 64

// CreateSession records a new session of a user of the workspace. A user of
// another workspace gives ErrNotFound (the composite foreign key refuses
// it), and an ID already taken gives ErrDuplicate.
func (s *Store) CreateSession(ctx context.Context, ws string, in NewSession) (*Session, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if len(in.ID) != sessionIDLen {
		return nil, invalidf("session id: want a %d-character sha256 hex digest", sessionIDLen)
	}
	if err := needID("user id", in.UserID); err != nil {
		return nil, err
	}
	if in.CSRFToken == "" {
		return nil, invalidf("csrf token is empty")
	}
	if err := checkText("csrf token", in.CSRFToken, MaxNameBytes); err != nil {
		return nil, err
	}
	if in.ExpiresAt.IsZero() {
		return nil, invalidf("session expiry is zero")
	}
	now := s.now()
	sess := &Session{
		ID: in.ID, WorkspaceID: ws, UserID: in.UserID, CSRFToken: in.CSRFToken,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: utc(in.ExpiresAt),
	}
	if err := s.conn(ctx).Create(sess).Error; err != nil {
		return nil, wrap("create session", err)
	}
	return sess, nil
}

// GetSessionByHash returns the session whose ID is hash, or ErrNotFound. It
// is not scoped by workspace: the token identifies the tenant, as a
// channel's public key does. It returns revoked and expired sessions as
// they are; the caller must check RevokedAt, ExpiresAt and LastSeenAt.
func (s *Store) GetSessionByHash(ctx context.Context, hash string) (*Session, error) {
	if len(hash) != sessionIDLen {
		// Cannot match a row; no query needed.
		return nil, notFound("session")
	}
	var sess Session
	if err := s.conn(ctx).Where("id = ?", hash).Take(&sess).Error; err != nil {
		return nil, wrap("get session", err)
	}
	return &sess, nil
}

// TouchSession records activity on a live session, moving LastSeenAt to now.
// A revoked session, or one of another workspace, gives ErrNotFound.
func (s *Store) TouchSession(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE sessions SET last_seen_at = ?
		WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`, s.now(), ws, id)
	if res.Error != nil {
		return wrap("touch session", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("session")
	}
	return nil
}

// RevokeSession ends one session. Revoking a session that is already
// revoked is a no-op; one that does not exist in the workspace gives
// ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if err := needID("session id", id); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?)
		WHERE workspace_id = ? AND id = ?`, s.now(), ws, id)
	if res.Error != nil {
		return wrap("revoke session", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("session")
	}
	return nil
}

// RevokeUserSessions ends every live session of the user except exceptID
// (pass "" to end them all), and returns how many it ended. A password
// change uses it to sign out every other device.
func (s *Store) RevokeUserSessions(ctx context.Context, ws, userID, exceptID string) (int64, error) {
	if err := needWorkspace(ws); err != nil {
		return 0, err
	}
	if err := needID("user id", userID); err != nil {
		return 0, err
	}
	res := s.conn(ctx).Exec(`UPDATE sessions SET revoked_at = ?
		WHERE workspace_id = ? AND user_id = ? AND revoked_at IS NULL AND id <> ?`,
		s.now(), ws, userID, exceptID)
	if res.Error != nil {
		return 0, wrap("revoke user sessions", res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteExpiredSessions deletes, in every workspace, the sessions that
// expired or were revoked before the given time, and returns how many. It is
// the one unscoped write on sessions: a periodic cleanup, like the timer
// workers, that owns no tenant. Keeping revoked rows until then lets an
// audit see recent sign-outs.
func (s *Store) DeleteExpiredSessions(ctx context.Context, before time.Time) (int64, error) {
	if before.IsZero() {
		return 0, invalidf("cutoff time is zero")
	}
	b := utc(before)
	res := s.conn(ctx).Exec(`DELETE FROM sessions WHERE expires_at < ? OR revoked_at < ?`, b, b)
	if res.Error != nil {
		return 0, wrap("delete expired sessions", res.Error)
	}
	return res.RowsAffected, nil
}

// maxUsersByEmail bounds FindUsersByEmail: one person is rarely in more than
// a few workspaces of one instance, and login verifies a password per match.
const maxUsersByEmail = 20

// FindUsersByEmail returns the users with this email in every workspace,
// ignoring case, oldest workspace first, at most 20. It is not scoped by
// workspace because login must find which workspace a person belongs to
// before there is a tenant; it never returns a user for an empty email.
func (s *Store) FindUsersByEmail(ctx context.Context, email string) ([]User, error) {
	email = normalizeEmail(email)
	if email == "" {
		return nil, invalidf("email is empty")
	}
	var out []User
	err := s.conn(ctx).Where("email = ?", email).Order("created_at, id").Limit(maxUsersByEmail).Find(&out).Error
	if err != nil {
		return nil, wrap("find users by email", err)
	}
	return out, nil
}

// UserUpdate is the input of UpdateUser. Nil fields are left unchanged.
// Which roles a caller may grant is the API's policy, not the Store's.
type UserUpdate struct {
	Name             *string
	Role             *Role
	ManageAssistants *bool
}

// UpdateUser changes a user's name, role or permission and returns the
// updated user. A user of another workspace gives ErrNotFound.
func (s *Store) UpdateUser(ctx context.Context, ws, id string, in UserUpdate) (*User, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("user id", id); err != nil {
		return nil, err
	}
	set := map[string]any{}
	if in.Name != nil {
		if err := checkText("name", *in.Name, MaxNameBytes); err != nil {
			return nil, err
		}
		set["name"] = *in.Name
	}
	if in.Role != nil {
		if !in.Role.valid() {
			return nil, invalidf("role %q: want owner, admin or agent", *in.Role)
		}
		set["role"] = string(*in.Role)
	}
	if in.ManageAssistants != nil {
		set["manage_assistants"] = *in.ManageAssistants
	}
	if len(set) == 0 {
		return s.GetUser(ctx, ws, id)
	}
	set["updated_at"] = s.now()
	return s.updateUser(ctx, "update user", ws, id, func(tx *Store) *gorm.DB {
		return tx.conn(ctx).Table("users").Where("workspace_id = ? AND id = ?", ws, id).Updates(set)
	})
}
