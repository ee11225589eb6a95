package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Role is what a user may do in a workspace.
type Role string

// The roles. Building and publishing flows needs RoleAdmin or RoleOwner, or
// an agent with ManageAssistants.
const (
	RoleOwner Role = "owner"
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

func (r Role) valid() bool {
	return r == RoleOwner || r == RoleAdmin || r == RoleAgent
}

// User is a person who signs in to the console: an owner, admin or agent.
type User struct {
	ID          string
	WorkspaceID string
	// Email is unique in the workspace and stored lowercased.
	Email            string
	Name             string
	Role             Role
	ManageAssistants bool
	// PasswordHash is the encoded hash (the caller hashes); "" means no
	// password login.
	PasswordHash string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// DeactivatedAt is when an admin deactivated the user; nil while they
	// are active. A deactivated user keeps their row (their chats and
	// messages keep their author) but cannot sign in or use a token:
	// package auth refuses them. See SetUserDeactivated.
	DeactivatedAt *time.Time
}

// TableName is the users table.
func (User) TableName() string { return "users" }

// Active reports whether the user is not deactivated.
func (u *User) Active() bool { return u.DeactivatedAt == nil }

// NewUser is the input of CreateUser.
type NewUser struct {
	Email            string
	Name             string
	Role             Role
	ManageAssistants bool
	PasswordHash     string
}

// normalizeEmail is the one place emails are canonicalized, so lookups and
// the unique key agree.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CreateUser adds a user to the workspace. A taken email gives ErrDuplicate.
func (s *Store) CreateUser(ctx context.Context, ws string, in NewUser) (*User, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	email := normalizeEmail(in.Email)
	if email == "" {
		return nil, invalidf("email is empty")
	}
	if !in.Role.valid() {
		return nil, invalidf("role %q: want owner, admin or agent", in.Role)
	}
	for _, f := range []struct{ name, v string }{{"email", email}, {"name", in.Name}, {"password hash", in.PasswordHash}} {
		if err := checkText(f.name, f.v, MaxNameBytes); err != nil {
			return nil, err
		}
	}
	now := s.now()
	u := &User{
		ID: newID(), WorkspaceID: ws, Email: email, Name: in.Name, Role: in.Role,
		ManageAssistants: in.ManageAssistants, PasswordHash: in.PasswordHash,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := s.conn(ctx).Create(u).Error; err != nil {
		return nil, wrap("create user", err)
	}
	return u, nil
}

// GetUser returns the user, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, ws, id string) (*User, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var u User
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&u).Error; err != nil {
		return nil, wrap("get user", err)
	}
	return &u, nil
}

// GetUserByEmail finds a user by email, ignoring case, or returns
// ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, ws, email string) (*User, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var u User
	err := s.conn(ctx).Where("workspace_id = ? AND email = ?", ws, normalizeEmail(email)).Take(&u).Error
	if err != nil {
		return nil, wrap("get user by email", err)
	}
	return &u, nil
}

// ListUsers returns the workspace's users by email. See MaxListLimit.
func (s *Store) ListUsers(ctx context.Context, ws string, limit int) ([]User, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var out []User
	err := s.conn(ctx).Where("workspace_id = ?", ws).Order("email, id").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list users", err)
	}
	return out, nil
}

// UpdateUserPassword replaces the user's password hash. Revoking the user's
// sessions is the caller's job.
func (s *Store) UpdateUserPassword(ctx context.Context, ws, id, passwordHash string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if err := checkText("password hash", passwordHash, MaxNameBytes); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE users SET password_hash = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
		passwordHash, s.now(), ws, id)
	if res.Error != nil {
		return wrap("update password", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("user " + id)
	}
	return nil
}

// SetUserDeactivated deactivates the user (deactivated true) or reactivates
// them (false), and returns the user. Deactivating a user who already is
// keeps the time of the first deactivation; reactivating an active user
// changes nothing but updated_at. A user of another workspace gives
// ErrNotFound.
//
// It only records: who may deactivate whom, and revoking the user's
// sessions (RevokeUserSessions) and API tokens (RevokeUserAPITokens) in
// the same transaction, are package auth's job.
func (s *Store) SetUserDeactivated(ctx context.Context, ws, id string, deactivated bool) (*User, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("user id", id); err != nil {
		return nil, err
	}
	return s.updateUser(ctx, "set user deactivated", ws, id, func(tx *Store) *gorm.DB {
		now := tx.now()
		if deactivated {
			return tx.conn(ctx).Exec(`UPDATE users SET deactivated_at = COALESCE(deactivated_at, ?), updated_at = ?
				WHERE workspace_id = ? AND id = ?`, now, now, ws, id)
		}
		return tx.conn(ctx).Exec(`UPDATE users SET deactivated_at = NULL, updated_at = ?
			WHERE workspace_id = ? AND id = ?`, now, ws, id)
	})
}

// updateUser runs one UPDATE of a user row in a transaction and reads the
// row back; no row updated is ErrNotFound.
func (s *Store) updateUser(ctx context.Context, op, ws, id string, update func(tx *Store) *gorm.DB) (*User, error) {
	var out *User
	err := s.InTx(ctx, func(tx *Store) error {
		res := update(tx)
		if res.Error != nil {
			return wrap(op, res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound("user " + id)
		}
		var err error
		out, err = tx.GetUser(ctx, ws, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
