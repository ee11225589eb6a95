package storage

import (
	"context"
	"strings"
	"time"
)

// APIToken is a bearer token for automation, acting as the user who owns
// it, with that user's current role. Only the sha256 hex of the token is
// stored; the token is shown once, when it is created.
type APIToken struct {
	ID          string
	WorkspaceID string
	UserID      string
	Name        string
	TokenHash   string
	CreatedAt   time.Time
	// LastUsedAt is refreshed at most every few minutes (see
	// TouchAPIToken), so it is approximate.
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TableName is the api_tokens table.
func (APIToken) TableName() string { return "api_tokens" }

// NewAPIToken is the input of CreateAPIToken.
type NewAPIToken struct {
	UserID string
	Name   string
	// TokenHash is the sha256 hex (64 characters) of the token.
	TokenHash string
}

// CreateAPIToken records a token of a user of the workspace. A user of
// another workspace gives ErrNotFound; a hash already taken ErrDuplicate.
func (s *Store) CreateAPIToken(ctx context.Context, ws string, in NewAPIToken) (*APIToken, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("user id", in.UserID); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, invalidf("token name is empty")
	}
	if err := checkText("token name", name, MaxNameBytes); err != nil {
		return nil, err
	}
	if len(in.TokenHash) != sessionIDLen {
		return nil, invalidf("token hash: want a %d-character sha256 hex digest", sessionIDLen)
	}
	tok := &APIToken{
		ID: newID(), WorkspaceID: ws, UserID: in.UserID, Name: name,
		TokenHash: in.TokenHash, CreatedAt: s.now(),
	}
	if err := s.conn(ctx).Create(tok).Error; err != nil {
		return nil, wrap("create api token", err)
	}
	return tok, nil
}

// ListAPITokens returns the workspace's tokens that are not revoked, newest
// first. See MaxListLimit.
func (s *Store) ListAPITokens(ctx context.Context, ws string, limit int) ([]APIToken, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var out []APIToken
	err := s.conn(ctx).Where("workspace_id = ? AND revoked_at IS NULL", ws).
		Order("created_at DESC, id DESC").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list api tokens", err)
	}
	return out, nil
}

// GetAPIToken returns one of the workspace's tokens, revoked or not, or
// ErrNotFound.
func (s *Store) GetAPIToken(ctx context.Context, ws, id string) (*APIToken, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var tok APIToken
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&tok).Error; err != nil {
		return nil, wrap("get api token", err)
	}
	return &tok, nil
}

// GetAPITokenByHash returns the token whose hash is hash, or ErrNotFound.
// It is not scoped by workspace: the token identifies the tenant. It
// returns revoked tokens as they are; the caller must check RevokedAt.
func (s *Store) GetAPITokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	if len(hash) != sessionIDLen {
		return nil, notFound("api token")
	}
	var tok APIToken
	if err := s.conn(ctx).Where("token_hash = ?", hash).Take(&tok).Error; err != nil {
		return nil, wrap("get api token", err)
	}
	return &tok, nil
}

// RevokeAPIToken revokes one of the workspace's tokens. A token that does
// not exist in the workspace, or is already revoked, gives ErrNotFound, so
// the API answers 404 for it as for a token that never was.
func (s *Store) RevokeAPIToken(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if err := needID("token id", id); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE api_tokens SET revoked_at = ?
		WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`, s.now(), ws, id)
	if res.Error != nil {
		return wrap("revoke api token", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("api token " + id)
	}
	return nil
}

// RevokeUserAPITokens revokes every live token of the user and returns how
// many it revoked. Deactivating a member uses it: their automations stop
// with them. Tokens stay revoked if the member is reactivated.
func (s *Store) RevokeUserAPITokens(ctx context.Context, ws, userID string) (int64, error) {
	if err := needWorkspace(ws); err != nil {
		return 0, err
	}
	if err := needID("user id", userID); err != nil {
		return 0, err
	}
	res := s.conn(ctx).Exec(`UPDATE api_tokens SET revoked_at = ?
		WHERE workspace_id = ? AND user_id = ? AND revoked_at IS NULL`, s.now(), ws, userID)
	if res.Error != nil {
		return 0, wrap("revoke user api tokens", res.Error)
	}
	return res.RowsAffected, nil
}

// TouchAPIToken records that a token was used. It writes only when the last
// recorded use is older than granularity, so a busy automation does not
// turn every request into a write.
func (s *Store) TouchAPIToken(ctx context.Context, ws, id string, granularity time.Duration) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	now := s.now()
	res := s.conn(ctx).Exec(`UPDATE api_tokens SET last_used_at = ?
		WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL
		AND (last_used_at IS NULL OR last_used_at < ?)`, now, ws, id, now.Add(-granularity))
	if res.Error != nil {
		return wrap("touch api token", res.Error)
	}
	return nil
}
