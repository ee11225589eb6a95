package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

const testPassword = "correct horse battery staple"

func newService(s *storage.Store, opts auth.Options) *auth.Service {
	opts.Params = auth.FastParams()
	return auth.NewService(s, opts)
}

var peer = netip.MustParseAddr("203.0.113.9")

func TestSetupRacesHaveOneWinner(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		svc := newService(s, auth.Options{})
		const n = 6
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  int
			errs []error
		)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := svc.Setup(context.Background(), auth.SetupInput{
					WorkspaceName: "Acme", Email: "owner" + string(rune('a'+i)) + "@acme.test", Password: testPassword,
				})
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		require.Equal(t, 1, won, "errors: %v", errs)
		for _, err := range errs {
			require.ErrorIs(t, err, auth.ErrAlreadySetUp)
		}
		count, err := s.CountWorkspaces(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, count)

		// Refused before the input is even looked at.
		_, err = svc.Setup(context.Background(), auth.SetupInput{})
		require.ErrorIs(t, err, auth.ErrAlreadySetUp)
	})
}

func TestSetupNamesTheFieldAtFault(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		for _, tc := range []struct {
			in    auth.SetupInput
			field string
		}{
			{auth.SetupInput{WorkspaceName: " ", Email: "a@b.test", Password: testPassword}, "workspace_name"},
			{auth.SetupInput{WorkspaceName: "Acme", Email: "not an email", Password: testPassword}, "email"},
			{auth.SetupInput{WorkspaceName: "Acme", Email: "a@b.test", Password: "short"}, "password"},
			{auth.SetupInput{WorkspaceName: "Acme", Email: "a@b.test", Password: "a@b.test"}, "password"},
		} {
			_, err := auth.Setup(context.Background(), s, tc.in)
			var fe *auth.SetupFieldError
			require.ErrorAs(t, err, &fe)
			require.Equal(t, tc.field, fe.Field)
		}
		n, err := s.CountWorkspaces(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

func TestLoginAndSessions(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		first, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "Owner@Acme.test", Password: testPassword})
		require.NoError(t, err)
		require.Empty(t, first.User.PasswordHash, "never handed out")

		in := auth.LoginInput{Email: " OWNER@acme.test ", Password: testPassword, ClientIP: peer}
		a, err := svc.Login(ctx, in)
		require.NoError(t, err)
		require.NotEqual(t, first.Token, a.Token)
		require.Equal(t, auth.HashToken(a.Token), a.Session.ID)
		require.NotEqual(t, a.Token, a.Session.CSRFToken)

		c, err := svc.SessionCaller(ctx, a.Token)
		require.NoError(t, err)
		require.Equal(t, first.User.ID, c.User.ID)
		require.Empty(t, c.User.PasswordHash)
		require.NotNil(t, c.Session)

		// Unknown, malformed, and a session's id (the digest) used as a token.
		for _, tok := range []string{"", "x", auth.NewToken(), a.Session.ID, a.Token + "x"} {
			_, err := svc.SessionCaller(ctx, tok)
			require.ErrorIs(t, err, auth.ErrUnauthenticated, tok)
		}

		// Logging in while holding a session ends it.
		in.PreviousToken = a.Token
		b, err := svc.Login(ctx, in)
		require.NoError(t, err)
		_, err = svc.SessionCaller(ctx, a.Token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)

		require.NoError(t, svc.Logout(ctx, b.User.WorkspaceID, b.Session.ID))
		_, err = svc.SessionCaller(ctx, b.Token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)

		_, err = svc.Login(ctx, auth.LoginInput{Email: "owner@acme.test", Password: "wrong password", ClientIP: peer})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		_, err = svc.Login(ctx, auth.LoginInput{Email: "nobody@acme.test", Password: testPassword, ClientIP: peer})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		_, err = svc.Login(ctx, auth.LoginInput{Email: "", Password: "", ClientIP: peer})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	})
}

func TestAmbiguousLogin(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		first, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "pat@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws2, err := s.CreateWorkspace(ctx, "Globex")
		require.NoError(t, err)
		_, err = svc.CreateMember(ctx, ws2.ID, auth.NewMember{Email: "pat@acme.test", Role: storage.RoleAgent, Password: testPassword})
		require.NoError(t, err)

		_, err = svc.Login(ctx, auth.LoginInput{Email: "pat@acme.test", Password: testPassword, ClientIP: peer})
		var amb *auth.AmbiguousError
		require.ErrorAs(t, err, &amb)
		require.Len(t, amb.Workspaces, 2)
		require.Equal(t, first.Workspace.ID, amb.Workspaces[0].ID, "oldest first")

		got, err := svc.Login(ctx, auth.LoginInput{Email: "pat@acme.test", Password: testPassword, WorkspaceID: ws2.ID, ClientIP: peer})
		require.NoError(t, err)
		require.Equal(t, ws2.ID, got.Workspace.ID)
		// A wrong password is a plain failure, not a list of workspaces.
		_, err = svc.Login(ctx, auth.LoginInput{Email: "pat@acme.test", Password: "wrong password", ClientIP: peer})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	})
}

func TestSessionLifetimes(t *testing.T) {
	t.Parallel()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			var (
				mu  sync.Mutex
				now = time.Now()
			)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(dur time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(dur) }
			s := storagetest.OpenWith(t, d, storage.Options{Now: clock})
			ctx := context.Background()
			svc := newService(s, auth.Options{Now: clock, SessionIdle: time.Hour, SessionMax: 3 * time.Hour})
			_, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
			require.NoError(t, err)
			login := func() string {
				in, err := svc.Login(ctx, auth.LoginInput{Email: "o@acme.test", Password: testPassword, ClientIP: peer})
				require.NoError(t, err)
				return in.Token
			}
			idle, active := login(), login()
			for range 5 {
				advance(50 * time.Minute)
				_, err := svc.SessionCaller(ctx, active)
				if err != nil {
					require.ErrorIs(t, err, auth.ErrUnauthenticated)
					break
				}
			}
			_, err = svc.SessionCaller(ctx, idle)
			require.ErrorIs(t, err, auth.ErrUnauthenticated, "idle for over an hour")
			_, err = svc.SessionCaller(ctx, active)
			require.ErrorIs(t, err, auth.ErrUnauthenticated, "active, but past its three hours")
			n, err := svc.DeleteExpired(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 3, n, "setup's, idle and active")
		})
	}
}

func TestChangePassword(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{EmailRate: auth.Rate{Limit: 3, Window: time.Hour}})
		setup, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws, uid := setup.Workspace.ID, setup.User.ID
		other, err := svc.Login(ctx, auth.LoginInput{Email: "o@acme.test", Password: testPassword, ClientIP: peer})
		require.NoError(t, err)
		tok, _, err := svc.CreateAPIToken(ctx, ws, uid, "robot")
		require.NoError(t, err)

		in := auth.ChangePasswordInput{WorkspaceID: ws, UserID: uid, SessionID: setup.Session.ID, Current: "wrong one!!", New: "a new passphrase"}
		_, err = svc.ChangePassword(ctx, in)
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		in.Current, in.New = testPassword, "o@acme.test"
		_, err = svc.ChangePassword(ctx, in)
		require.ErrorIs(t, err, auth.ErrWeakPassword)

		in.New = "a new passphrase"
		rotated, err := svc.ChangePassword(ctx, in)
		require.NoError(t, err)
		require.NotNil(t, rotated)
		require.NotEqual(t, setup.Token, rotated.Token)
		for _, old := range []string{setup.Token, other.Token} {
			_, err = svc.SessionCaller(ctx, old)
			require.ErrorIs(t, err, auth.ErrUnauthenticated)
		}
		_, err = svc.SessionCaller(ctx, rotated.Token)
		require.NoError(t, err)
		// API tokens are for automation and are revoked on their own.
		_, err = svc.TokenCaller(ctx, tok)
		require.NoError(t, err)

		// A token caller changes it too, and gets no session.
		got, err := svc.ChangePassword(ctx, auth.ChangePasswordInput{WorkspaceID: ws, UserID: uid, Current: "a new passphrase", New: "yet another passphrase"})
		require.NoError(t, err)
		require.Nil(t, got)
		_, err = svc.SessionCaller(ctx, rotated.Token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)

		// Guessing the current password with a stolen session is limited.
		var limited *auth.RateLimitedError
		for i := 0; ; i++ {
			_, err = svc.ChangePassword(ctx, auth.ChangePasswordInput{WorkspaceID: ws, UserID: uid, Current: "guess " + strings.Repeat("x", i+5), New: "whatever it is"})
			if errors.As(err, &limited) {
				break
			}
			require.ErrorIs(t, err, auth.ErrInvalidCredentials)
			require.Less(t, i, 3)
		}
		require.Positive(t, limited.RetryAfter)
	})
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		setup, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws := setup.Workspace.ID
		tok, rec, err := svc.CreateAPIToken(ctx, ws, setup.User.ID, "robot")
		require.NoError(t, err)
		require.Equal(t, auth.HashToken(tok), rec.TokenHash)

		c, err := svc.TokenCaller(ctx, tok)
		require.NoError(t, err)
		require.Equal(t, setup.User.ID, c.User.ID)
		require.NotNil(t, c.APIToken)
		require.Nil(t, c.Session)
		// A session token is not an API token, nor the reverse.
		_, err = svc.TokenCaller(ctx, setup.Token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)
		_, err = svc.SessionCaller(ctx, tok)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)

		require.NoError(t, s.RevokeAPIToken(ctx, ws, rec.ID))
		_, err = svc.TokenCaller(ctx, tok)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)
	})
}

func TestUpdateMemberPolicy(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		setup, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws := setup.Workspace.ID
		owner := setup.User
		admin, err := svc.CreateMember(ctx, ws, auth.NewMember{Email: "a@acme.test", Role: storage.RoleAdmin, Password: testPassword})
		require.NoError(t, err)
		agent, err := svc.CreateMember(ctx, ws, auth.NewMember{Email: "g@acme.test", Role: storage.RoleAgent, Password: testPassword})
		require.NoError(t, err)
		_, err = svc.CreateMember(ctx, ws, auth.NewMember{Email: "o2@acme.test", Role: storage.RoleOwner, Password: testPassword})
		require.ErrorIs(t, err, auth.ErrForbidden)

		ownerRole, adminRole := storage.RoleOwner, storage.RoleAdmin
		name := "x"
		for _, tc := range []struct {
			actor  storage.User
			target string
			upd    auth.MemberUpdate
		}{
			{*agent, agent.ID, auth.MemberUpdate{Name: &name}},
			{*admin, agent.ID, auth.MemberUpdate{Role: &ownerRole}},
			{owner, agent.ID, auth.MemberUpdate{Role: &ownerRole}},
			{*admin, owner.ID, auth.MemberUpdate{Name: &name}},
			{owner, owner.ID, auth.MemberUpdate{Role: &adminRole}},
		} {
			_, err := svc.UpdateMember(ctx, tc.actor, tc.target, tc.upd)
			require.ErrorIs(t, err, auth.ErrForbidden, "%s on %s", tc.actor.Role, tc.target)
		}
		got, err := svc.UpdateMember(ctx, *admin, agent.ID, auth.MemberUpdate{Role: &adminRole})
		require.NoError(t, err)
		require.Equal(t, storage.RoleAdmin, got.Role)
		require.Empty(t, got.PasswordHash)

		// Another workspace's actor finds nobody.
		ws2, err := s.CreateWorkspace(ctx, "Globex")
		require.NoError(t, err)
		stranger, err := svc.CreateMember(ctx, ws2.ID, auth.NewMember{Email: "s@globex.test", Role: storage.RoleAdmin, Password: testPassword})
		require.NoError(t, err)
		_, err = svc.UpdateMember(ctx, *stranger, agent.ID, auth.MemberUpdate{Name: &name})
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

// failingLimiter cannot decide, like a Redis limiter with Redis down.
type failingLimiter struct{}

func (failingLimiter) Take(context.Context, string, auth.Rate) (auth.Decision, error) {
	return auth.Decision{}, errors.New("limiter backend down")
}

func (failingLimiter) Refund(context.Context, string, auth.Rate) error { return nil }

func TestLoginFailsClosedWhenTheLimiterFails(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	svc := newService(s, auth.Options{Limiter: failingLimiter{}})
	_, err := svc.Setup(context.Background(), auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
	require.NoError(t, err)
	_, err = svc.Login(context.Background(), auth.LoginInput{Email: "o@acme.test", Password: testPassword, ClientIP: peer})
	var limited *auth.RateLimitedError
	require.ErrorAs(t, err, &limited)
}

func TestLoginIsLimitedPerAddressAndPerEmail(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	ctx := context.Background()
	svc := newService(s, auth.Options{IPRate: auth.Rate{Limit: 3, Window: time.Hour}, EmailRate: auth.Rate{Limit: 2, Window: time.Hour}})
	_, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
	require.NoError(t, err)
	var limited *auth.RateLimitedError

	// Per email, from many addresses.
	for i := range 2 {
		_, err = svc.Login(ctx, auth.LoginInput{Email: "o@acme.test", Password: "wrong", ClientIP: netip.AddrFrom4([4]byte{198, 51, 100, byte(i)})})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	_, err = svc.Login(ctx, auth.LoginInput{Email: "o@acme.test", Password: testPassword, ClientIP: netip.MustParseAddr("198.51.100.99")})
	require.ErrorAs(t, err, &limited)

	// Per address, over many emails; an IPv6 client is one /64.
	for i := range 3 {
		a := netip.MustParseAddr("2001:db8::1")
		if i > 0 {
			a = netip.MustParseAddr("2001:db8::" + string(rune('a'+i)))
		}
		_, err = svc.Login(ctx, auth.LoginInput{Email: "n" + string(rune('a'+i)) + "@acme.test", Password: "wrong", ClientIP: a})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
	_, err = svc.Login(ctx, auth.LoginInput{Email: "fresh@acme.test", Password: "wrong", ClientIP: netip.MustParseAddr("2001:db8::ffff")})
	require.ErrorAs(t, err, &limited)
	_, err = svc.Login(ctx, auth.LoginInput{Email: "fresh@acme.test", Password: "wrong", ClientIP: netip.MustParseAddr("2001:db8:0:1::1")})
	require.ErrorIs(t, err, auth.ErrInvalidCredentials, "another /64 is another client")
}

func TestSigningSecret(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a, err := auth.SigningSecret(ctx, s, "")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(a), auth.MinSecretBytes)
		b, err := auth.SigningSecret(ctx, s, "")
		require.NoError(t, err)
		require.Equal(t, a, b, "generated once, then kept")
		stored, err := s.GetSetting(ctx, auth.SigningSecretKey)
		require.NoError(t, err)
		require.Equal(t, base64.RawURLEncoding.EncodeToString(a), stored)

		configured := strings.Repeat("k", 40)
		c, err := auth.SigningSecret(ctx, s, configured)
		require.NoError(t, err)
		require.Equal(t, []byte(configured), c)
		_, err = auth.SigningSecret(ctx, s, "too short")
		require.Error(t, err)
	})
}

func TestRunCleanupStopsWithItsContext(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	svc := newService(s, auth.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.RunCleanup(ctx, time.Millisecond); close(done) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunCleanup did not stop")
	}
}
