package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/storage"
)

// Session lifetimes.
const (
	// DefaultSessionIdle ends a session after this long without a request.
	DefaultSessionIdle = 12 * time.Hour
	// DefaultSessionMax ends a session this long after sign-in, however
	// active it is.
	DefaultSessionMax = 30 * 24 * time.Hour
	// TouchInterval is how stale a session's or token's last-seen time may
	// get before a request records it again; it spares a write per request.
	TouchInterval = time.Minute
)

// Options tunes NewService. The zero value is ready for production.
type Options struct {
	// Params are the argon2id parameters of new hashes. Defaults to
	// DefaultParams; tests use FastParams.
	Params Params
	// MaxConcurrentHashes bounds the hashes running at once. Defaults to
	// DefaultMaxConcurrentHashes.
	MaxConcurrentHashes int
	// Limiter counts login attempts. Defaults to a MemoryLimiter on the
	// service's clock; several nodes need a shared one (NewRedisLimiter),
	// or each node grants the whole allowance.
	Limiter Limiter
	// IPRate limits login attempts per client address. Defaults to
	// DefaultLoginLimit per DefaultLoginWindow.
	IPRate Rate
	// EmailRate limits login attempts per email, and password-change
	// attempts per user. Defaults to DefaultLoginLimit per
	// DefaultLoginWindow.
	EmailRate Rate
	// SessionIdle defaults to DefaultSessionIdle.
	SessionIdle time.Duration
	// SessionMax defaults to DefaultSessionMax.
	SessionMax time.Duration
	// Now is the clock. Defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Service signs people in and resolves callers. It is safe for concurrent
// use.
type Service struct {
	store  *storage.Store
	hasher *Hasher
	opts   Options

	dummyOnce sync.Once
	dummyHash string
}

// NewService returns a Service on store.
func NewService(store *storage.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Limiter == nil {
		opts.Limiter = NewMemoryLimiter(MemoryLimiterOptions{Now: opts.Now})
	}
	defaultRate := Rate{Limit: DefaultLoginLimit, Window: DefaultLoginWindow}
	if !opts.IPRate.valid() {
		opts.IPRate = defaultRate
	}
	if !opts.EmailRate.valid() {
		opts.EmailRate = defaultRate
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = DefaultSessionIdle
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = DefaultSessionMax
	}
	return &Service{store: store, hasher: NewHasher(opts.Params, opts.MaxConcurrentHashes), opts: opts}
}

// Hasher returns the service's password hasher.
func (s *Service) Hasher() *Hasher { return s.hasher }

// SessionMax returns how long a session may live, for the cookie's expiry.
func (s *Service) SessionMax() time.Duration { return s.opts.SessionMax }

// SignIn is a new session: the token goes in the cookie, the CSRF token to
// the page, and neither is stored in clear.
type SignIn struct {
	User      storage.User
	Workspace storage.Workspace
	Session   storage.Session
	// Token is the session token for the cookie. It is only ever here.
	Token string
}

// Caller is who makes a request: a user, through a session or an API token.
type Caller struct {
	User storage.User
	// Session is set for session callers.
	Session *storage.Session
	// APIToken is set for token callers.
	APIToken *storage.APIToken
}

// LoginInput is the input of Login.
type LoginInput struct {
	Email    string
	Password string
	// WorkspaceID picks the workspace when the email has accounts in
	// several. Optional.
	WorkspaceID string
	// ClientIP is the caller's address (see ClientIP).
	ClientIP netip.Addr
	// PreviousToken is the session token the caller held, if any: it is
	// revoked, so a session id planted before sign-in is never promoted.
	PreviousToken string
}

// Login checks an email and password and starts a new session.
//
// Attempts are limited per client address and per email before anything
// is looked up, so the limit applies alike to known and unknown emails;
// successful attempts are refunded, so only failures count. An unknown email
// costs a password hash too, so the answer takes about as long as for a
// wrong password.
func (s *Service) Login(ctx context.Context, in LoginInput) (*SignIn, error) {
	email := normalizeEmail(in.Email)
	ipKey := "login:ip:" + addrKey(in.ClientIP)
	emailKey := "login:email:" + email
	if err := s.take(ctx, ipKey, s.opts.IPRate); err != nil {
		return nil, err
	}
	if err := s.take(ctx, emailKey, s.opts.EmailRate); err != nil {
		return nil, err
	}
	user, err := s.checkCredentials(ctx, email, in.Password, in.WorkspaceID)
	if err != nil {
		var amb *AmbiguousError
		if errors.As(err, &amb) {
			// The password was right: the attempt does not count.
			s.refund(ctx, ipKey, s.opts.IPRate)
			s.refund(ctx, emailKey, s.opts.EmailRate)
		}
		return nil, err
	}
	s.refund(ctx, ipKey, s.opts.IPRate)
	s.refund(ctx, emailKey, s.opts.EmailRate)
	s.rehashIfNeeded(ctx, user, in.Password)

	ws, err := s.store.GetWorkspace(ctx, user.WorkspaceID)
	if err != nil {
		return nil, err
	}
	if in.PreviousToken != "" {
		s.revokeToken(ctx, in.PreviousToken)
	}
	return s.startSession(ctx, s.store, *user, *ws)
}

// checkCredentials finds the one account the email and password open.
func (s *Service) checkCredentials(ctx context.Context, email, password, workspaceID string) (*storage.User, error) {
	if email == "" || len(email) > MaxEmailBytes || password == "" || len(password) > MaxPasswordBytes {
		return nil, ErrInvalidCredentials
	}
	candidates, err := s.store.FindUsersByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if workspaceID != "" {
		kept := candidates[:0]
		for _, u := range candidates {
			if u.WorkspaceID == workspaceID {
				kept = append(kept, u)
			}
		}
		candidates = kept
	}
	if len(candidates) == 0 {
		// Spend a hash anyway, so an unknown email answers as slowly as a
		// wrong password.
		_, _ = s.hasher.Verify(ctx, s.dummy(ctx), password)
		return nil, ErrInvalidCredentials
	}
	var matched []storage.User
	for _, u := range candidates {
		hash := u.PasswordHash
		if hash == "" || !u.Active() {
			// No password login for this account (none set, or the member
			// was deactivated); same cost as a check, and the same answer
			// as a wrong password, so a deactivated account is not told
			// apart from an unknown one.
			hash = s.dummy(ctx)
			_, _ = s.hasher.Verify(ctx, hash, password)
			continue
		}
		ok, err := s.hasher.Verify(ctx, hash, password)
		if err != nil {
			if errors.Is(err, ErrMalformedHash) {
				s.opts.Logger.Error("auth: stored password hash is malformed", "user", u.ID, "workspace", u.WorkspaceID)
				continue
			}
			return nil, err
		}
		if ok {
			matched = append(matched, u)
		}
	}
	switch len(matched) {
	case 0:
		return nil, ErrInvalidCredentials
	case 1:
		return &matched[0], nil
	}
	amb := &AmbiguousError{}
	for _, u := range matched {
		ws, err := s.store.GetWorkspace(ctx, u.WorkspaceID)
		if err != nil {
			return nil, err
		}
		amb.Workspaces = append(amb.Workspaces, *ws)
	}
	return nil, amb
}

// dummy returns a hash made with the service's parameters, verified against
// when there is no real one so every failure costs the same.
func (s *Service) dummy(ctx context.Context) string {
	s.dummyOnce.Do(func() {
		h, err := s.hasher.Hash(context.WithoutCancel(ctx), "frontdesk-no-such-account")
		if err == nil {
			s.dummyHash = h
		}
	})
	if s.dummyHash == "" {
		// Unreachable in practice; Verify then fails fast on the format.
		return "$argon2id$"
	}
	return s.dummyHash
}

// rehashIfNeeded upgrades a hash made with older parameters, now that the
// clear password is at hand. Failure is logged: the login still succeeds.
func (s *Service) rehashIfNeeded(ctx context.Context, u *storage.User, password string) {
	if !s.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	h, err := s.hasher.Hash(ctx, password)
	if err == nil {
		err = s.store.UpdateUserPassword(ctx, u.WorkspaceID, u.ID, h)
	}
	if err != nil {
		s.opts.Logger.Warn("auth: could not upgrade a password hash", "user", u.ID, "err", err)
		return
	}
	u.PasswordHash = h
}

// take counts an attempt and turns a refusal into a *RateLimitedError. A
// limiter that cannot decide refuses: failing open would lift the limit
// whenever its backend is down.
func (s *Service) take(ctx context.Context, key string, rate Rate) error {
	d, err := s.opts.Limiter.Take(ctx, key, rate)
	if err != nil {
		s.opts.Logger.Error("auth: rate limiter failed; refusing the attempt", "err", err)
		return &RateLimitedError{RetryAfter: time.Minute}
	}
	if !d.Allowed {
		return &RateLimitedError{RetryAfter: d.RetryAfter}
	}
	return nil
}

func (s *Service) refund(ctx context.Context, key string, rate Rate) {
	if err := s.opts.Limiter.Refund(ctx, key, rate); err != nil {
		s.opts.Logger.Warn("auth: rate limiter refund failed", "err", err)
	}
}

// startSession creates a session with fresh tokens. st may be a
// transaction's Store.
func (s *Service) startSession(ctx context.Context, st *storage.Store, u storage.User, ws storage.Workspace) (*SignIn, error) {
	token := NewToken()
	sess, err := st.CreateSession(ctx, u.WorkspaceID, storage.NewSession{
		ID:        HashToken(token),
		UserID:    u.ID,
		CSRFToken: NewToken(),
		ExpiresAt: s.opts.Now().Add(s.opts.SessionMax),
	})
	if err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	return &SignIn{User: u, Workspace: ws, Session: *sess, Token: token}, nil
}

// revokeToken ends the session a token names, if it is live. It is best
// effort: a stale cookie at login is not an error.
func (s *Service) revokeToken(ctx context.Context, token string) {
	if !wellFormedToken(token) {
		return
	}
	sess, err := s.store.GetSessionByHash(ctx, HashToken(token))
	if err != nil || sess.RevokedAt != nil {
		return
	}
	if err := s.store.RevokeSession(ctx, sess.WorkspaceID, sess.ID); err != nil {
		s.opts.Logger.Warn("auth: could not revoke the previous session", "err", err)
	}
}

// SessionCaller resolves a session token. Unknown, revoked, idle or expired
// sessions, and sessions of deleted or deactivated users, give
// ErrUnauthenticated.
func (s *Service) SessionCaller(ctx context.Context, token string) (*Caller, error) {
	if !wellFormedToken(token) {
		return nil, ErrUnauthenticated
	}
	sess, err := s.store.GetSessionByHash(ctx, HashToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) >= s.opts.SessionIdle {
		return nil, ErrUnauthenticated
	}
	u, err := s.store.GetUser(ctx, sess.WorkspaceID, sess.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if !u.Active() {
		// Deactivation revokes the sessions too; this also refuses one
		// that a login racing the deactivation started.
		return nil, ErrUnauthenticated
	}
	if now.Sub(sess.LastSeenAt) >= TouchInterval {
		if err := s.store.TouchSession(ctx, sess.WorkspaceID, sess.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			// The request may go on; the session just looks idler.
			s.opts.Logger.Warn("auth: could not record session activity", "err", err)
		}
	}
	u.PasswordHash = ""
	return &Caller{User: *u, Session: sess}, nil
}

// TokenCaller resolves an API token. Unknown or revoked tokens, and tokens
// of deleted or deactivated users, give ErrUnauthenticated. The token acts with its user's
// current role.
func (s *Service) TokenCaller(ctx context.Context, token string) (*Caller, error) {
	if !wellFormedAPIToken(token) {
		return nil, ErrUnauthenticated
	}
	tok, err := s.store.GetAPITokenByHash(ctx, HashToken(token))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if tok.RevokedAt != nil {
		return nil, ErrUnauthenticated
	}
	u, err := s.store.GetUser(ctx, tok.WorkspaceID, tok.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, err
	}
	if !u.Active() {
		return nil, ErrUnauthenticated
	}
	if tok.LastUsedAt == nil || s.opts.Now().Sub(*tok.LastUsedAt) >= TouchInterval {
		if err := s.store.TouchAPIToken(ctx, tok.WorkspaceID, tok.ID, TouchInterval); err != nil {
			s.opts.Logger.Warn("auth: could not record token use", "err", err)
		}
	}
	u.PasswordHash = ""
	return &Caller{User: *u, APIToken: tok}, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, ws, sessionID string) error {
	return s.store.RevokeSession(ctx, ws, sessionID)
}

// ChangePasswordInput is the input of ChangePassword.
type ChangePasswordInput struct {
	WorkspaceID string
	UserID      string
	// SessionID is the caller's session, if it is a session caller: it is
	// replaced by a new one.
	SessionID string
	Current   string
	New       string
}

// ChangePassword checks the current password, stores the new one, and ends
// every session of the user. When the caller came with a session it gets a
// new one (returned); an API token caller gets nil. A wrong current
// password gives ErrInvalidCredentials, and attempts are rate-limited per
// user like logins, so a stolen session cannot be used to guess it.
func (s *Service) ChangePassword(ctx context.Context, in ChangePasswordInput) (*SignIn, error) {
	u, err := s.store.GetUser(ctx, in.WorkspaceID, in.UserID)
	if err != nil {
		return nil, err
	}
	key := "password:user:" + u.ID
	if err := s.take(ctx, key, s.opts.EmailRate); err != nil {
		return nil, err
	}
	ok := false
	if u.PasswordHash != "" && len(in.Current) <= MaxPasswordBytes {
		ok, err = s.hasher.Verify(ctx, u.PasswordHash, in.Current)
		if err != nil && !errors.Is(err, ErrMalformedHash) {
			return nil, err
		}
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	s.refund(ctx, key, s.opts.EmailRate)
	if err := CheckPassword(in.New, u.Email); err != nil {
		return nil, err
	}
	// Hash before the transaction: it is slow, and on SQLite the
	// transaction holds the only write lock.
	hash, err := s.hasher.Hash(ctx, in.New)
	if err != nil {
		return nil, err
	}
	ws, err := s.store.GetWorkspace(ctx, u.WorkspaceID)
	if err != nil {
		return nil, err
	}
	var out *SignIn
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		if err := tx.UpdateUserPassword(ctx, u.WorkspaceID, u.ID, hash); err != nil {
			return err
		}
		if _, err := tx.RevokeUserSessions(ctx, u.WorkspaceID, u.ID, ""); err != nil {
			return err
		}
		if in.SessionID == "" {
			return nil
		}
		out, err = s.startSession(ctx, tx, *u, *ws)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NewMember is the input of CreateMember.
type NewMember struct {
	Email            string
	Name             string
	Role             storage.Role
	ManageAssistants bool
	Password         string
}

// CreateMember adds a person to a workspace with an initial password. Only
// admin and agent can be given here: there is one owner, made at setup.
func (s *Service) CreateMember(ctx context.Context, ws string, in NewMember) (*storage.User, error) {
	if in.Role != storage.RoleAdmin && in.Role != storage.RoleAgent {
		return nil, fmt.Errorf("%w: role %q cannot be granted", ErrForbidden, in.Role)
	}
	if err := CheckEmail(in.Email); err != nil {
		return nil, err
	}
	if err := CheckPassword(in.Password, in.Email); err != nil {
		return nil, err
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	u, err := s.store.CreateUser(ctx, ws, storage.NewUser{
		Email: in.Email, Name: strings.TrimSpace(in.Name), Role: in.Role,
		ManageAssistants: in.ManageAssistants, PasswordHash: hash,
	})
	if err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	return u, nil
}

// MemberUpdate is the input of UpdateMember; nil fields stay.
type MemberUpdate struct {
	Name             *string
	Role             *storage.Role
	ManageAssistants *bool
	// Active false deactivates the member, true reactivates them.
	Active *bool
}

// UpdateMember changes a member on behalf of actor, an admin or the owner
// of the same workspace. The owner role cannot be granted, the owner's role
// cannot be changed, and only the owner may change the owner at all; those
// give ErrForbidden. A user of another workspace gives storage.ErrNotFound.
//
// Active false deactivates the member: in the same transaction as the
// other changes it records the time, revokes every session of the member
// and every API token they made, so their next request gets
// ErrUnauthenticated; Login then refuses them as it refuses a wrong
// password. The owner cannot be deactivated (ErrOwnerDeactivation), nor
// can the actor deactivate themselves (ErrSelfDeactivation). Active true
// reactivates them: they may sign in again with their password, but their
// old sessions and tokens stay revoked. The chats assigned to a
// deactivated member stay assigned to them until an admin reassigns them.
func (s *Service) UpdateMember(ctx context.Context, actor storage.User, targetID string, in MemberUpdate) (*storage.User, error) {
	if actor.Role != storage.RoleOwner && actor.Role != storage.RoleAdmin {
		return nil, ErrForbidden
	}
	if in.Role != nil && *in.Role != storage.RoleAdmin && *in.Role != storage.RoleAgent {
		return nil, fmt.Errorf("%w: role %q cannot be granted", ErrForbidden, *in.Role)
	}
	target, err := s.store.GetUser(ctx, actor.WorkspaceID, targetID)
	if err != nil {
		return nil, err
	}
	if in.Active != nil && !*in.Active {
		// Before the owner rule, so an admin asking to deactivate the
		// owner is told the reason that holds for everyone.
		if target.Role == storage.RoleOwner {
			return nil, ErrOwnerDeactivation
		}
		if target.ID == actor.ID {
			return nil, ErrSelfDeactivation
		}
	}
	if target.Role == storage.RoleOwner {
		if actor.Role != storage.RoleOwner {
			return nil, fmt.Errorf("%w: only the owner may change the owner", ErrForbidden)
		}
		if in.Role != nil {
			return nil, fmt.Errorf("%w: the owner's role cannot be changed", ErrForbidden)
		}
	}
	upd := storage.UserUpdate{Role: in.Role, ManageAssistants: in.ManageAssistants}
	if in.Name != nil {
		name := strings.TrimSpace(*in.Name)
		upd.Name = &name
	}
	ws := actor.WorkspaceID
	var u *storage.User
	err = s.store.InTx(ctx, func(tx *storage.Store) error {
		var err error
		if u, err = tx.UpdateUser(ctx, ws, targetID, upd); err != nil {
			return err
		}
		if in.Active == nil {
			return nil
		}
		if u, err = tx.SetUserDeactivated(ctx, ws, targetID, !*in.Active); err != nil {
			return err
		}
		if *in.Active {
			return nil
		}
		if _, err := tx.RevokeUserSessions(ctx, ws, targetID, ""); err != nil {
			return err
		}
		_, err = tx.RevokeUserAPITokens(ctx, ws, targetID)
		return err
	})
	if err != nil {
		return nil, err
	}
	u.PasswordHash = ""
	return u, nil
}

// CreateAPIToken makes a token for a user and returns it with its record.
// The token is only ever in this return value.
func (s *Service) CreateAPIToken(ctx context.Context, ws, userID, name string) (string, *storage.APIToken, error) {
	token := NewAPIToken()
	rec, err := s.store.CreateAPIToken(ctx, ws, storage.NewAPIToken{UserID: userID, Name: name, TokenHash: HashToken(token)})
	if err != nil {
		return "", nil, err
	}
	return token, rec, nil
}

// DeleteExpired deletes sessions past their absolute expiry or revoked,
// in every workspace. Run it periodically (hourly is plenty); sessions that
// merely went idle are refused at once and deleted at their expiry.
func (s *Service) DeleteExpired(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredSessions(ctx, s.opts.Now())
}

// DefaultCleanupInterval is how often RunCleanup deletes dead sessions
// when given 0.
const DefaultCleanupInterval = time.Hour

// RunCleanup calls DeleteExpired at once and then every interval
// (DefaultCleanupInterval when 0) until ctx ends, logging failures. Run it
// in its own goroutine; on several nodes each may run it, the deletes are
// idempotent.
func (s *Service) RunCleanup(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultCleanupInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if n, err := s.DeleteExpired(ctx); err != nil && ctx.Err() == nil {
			s.opts.Logger.Warn("auth: could not delete expired sessions", "err", err)
		} else if n > 0 {
			s.opts.Logger.Debug("auth: deleted expired sessions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// CheckEmail accepts a plain address such as "ada@example.com": no display
// name, no angle brackets, no line breaks, at most MaxEmailBytes.
func CheckEmail(email string) error {
	e := strings.TrimSpace(email)
	if e == "" || len(e) > MaxEmailBytes || strings.ContainsAny(e, "\r\n\x00<> ") {
		return ErrInvalidEmail
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e {
		return ErrInvalidEmail
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return ErrInvalidEmail
	}
	return nil
}

// normalizeEmail matches storage's canonical form, so limiter keys agree
// with lookups.
func normalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}
