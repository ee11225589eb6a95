package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestAuthSetupCreatesTheOwnerOnce(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		anon := authTestCreds{}

		// A body naming a role or a workspace is refused before anything
		// is made.
		e.do(anon, http.MethodPost, "/api/v1/setup", map[string]any{
			"workspace_name": "Acme", "email": "owner@acme.test", "password": authTestPassword, "role": "agent",
		}).problem(http.StatusUnprocessableEntity)
		p := e.do(anon, http.MethodPost, "/api/v1/setup", map[string]any{
			"workspace_name": "Acme", "email": "owner@acme.test", "password": "short",
		}).problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.locations(), "body.password")
		n, err := s.CountWorkspaces(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)

		owner := e.setup()
		require.Equal(t, "owner", owner.role)
		require.Equal(t, "owner@acme.test", owner.email)
		var me authTestSessionBody
		e.do(owner.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, &me)
		require.Equal(t, owner.userID, me.User.ID)
		require.Equal(t, "Acme", me.Workspace.Name)
		require.Equal(t, owner.csrf, me.CSRFToken, "a reloaded page gets the CSRF token back")

		// Once set up, setup answers 409 whatever it is sent.
		for _, body := range []map[string]any{
			{"workspace_name": "Evil", "email": "evil@evil.test", "password": authTestPassword},
			{"workspace_name": "Evil", "email": "owner@acme.test", "password": "short"},
		} {
			p := e.do(anon, http.MethodPost, "/api/v1/setup", body).problem(http.StatusConflict)
			require.Equal(t, "already_set_up", p.Code)
		}
		n, err = s.CountWorkspaces(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
}

func TestAuthLoginCookieIsHttpOnlyLaxSecure(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		e.setup()
		res := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "Owner@Acme.test", "password": authTestPassword})
		res.ok(http.StatusOK, nil)
		ck := sessionCookieOf(res)
		require.NotNil(t, ck)
		require.True(t, ck.HttpOnly, "script must not read the session")
		require.Equal(t, http.SameSiteLaxMode, ck.SameSite)
		require.Equal(t, "/", ck.Path)
		require.True(t, ck.Secure, "the public URL is https")
		require.Greater(t, ck.MaxAge, 0)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		require.NotContains(t, string(res.body), ck.Value, "the session token is only in the cookie")
		require.NotContains(t, string(res.body), "argon2", "never the password hash")

		// The stored session id is the token's digest, not the token.
		_, err := s.GetSessionByHash(context.Background(), auth.HashToken(ck.Value))
		require.NoError(t, err)
	})
}

func TestAuthSecureCookieFollowsThePublicURL(t *testing.T) {
	t.Parallel()
	require.True(t, NewAuthRoutes(nil, nil, "https://chat.example.com").SecureCookie)
	require.True(t, NewAuthRoutes(nil, nil, "HTTPS://chat.example.com/").SecureCookie)
	require.False(t, NewAuthRoutes(nil, nil, "http://127.0.0.1:8080").SecureCookie)
	require.False(t, NewAuthRoutes(nil, nil, "").SecureCookie)
}

func TestAuthSessionRotatesAtEveryLogin(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		setup := e.setup()
		a := e.login("owner@acme.test", authTestPassword)
		b := e.login("owner@acme.test", authTestPassword)
		require.NotEqual(t, setup.cookie, a.cookie)
		require.NotEqual(t, a.cookie, b.cookie)
		require.NotEqual(t, a.csrf, b.csrf)
		// Two devices: both stay signed in.
		e.do(a.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
		e.do(b.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)

		// Signing in while holding a session (a planted one, say) gives a
		// new id and ends the old one: it is never promoted.
		c := e.signedIn(e.do(b.noCSRF(), http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "owner@acme.test", "password": authTestPassword}), http.StatusOK)
		require.NotEqual(t, b.cookie, c.cookie)
		e.do(b.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		e.do(c.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
	})
}

func TestAuthLogoutRevokesTheSession(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		e.setup()
		u := e.login("owner@acme.test", authTestPassword)
		other := e.login("owner@acme.test", authTestPassword)

		// Logout is unsafe: without the CSRF token a forged one does nothing.
		require.Equal(t, "csrf", e.do(u.noCSRF(), http.MethodPost, "/api/v1/auth/logout", nil).problem(http.StatusForbidden).Code)
		e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)

		res := e.do(u.creds(), http.MethodPost, "/api/v1/auth/logout", nil)
		res.ok(http.StatusNoContent, nil)
		ck := sessionCookieOf(res)
		require.NotNil(t, ck, "the cookie is cleared")
		require.Empty(t, ck.Value)
		require.Less(t, ck.MaxAge, 0)

		p := e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		require.Equal(t, "unauthorized", p.Code)
		e.do(u.creds(), http.MethodPost, "/api/v1/auth/logout", nil).problem(http.StatusUnauthorized)
		// Only that session ended.
		e.do(other.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
	})
}

func TestAuthPasswordChangeRevokesOtherSessions(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		e.setup()
		laptop := e.login("owner@acme.test", authTestPassword)
		phone := e.login("owner@acme.test", authTestPassword)
		const newPassword = "a much better passphrase"

		p := e.do(laptop.creds(), http.MethodPost, "/api/v1/auth/password",
			map[string]any{"current_password": "wrong password!", "new_password": newPassword}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.current_password"}, p.locations())
		p = e.do(laptop.creds(), http.MethodPost, "/api/v1/auth/password",
			map[string]any{"current_password": authTestPassword, "new_password": "short"}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.new_password"}, p.locations())
		// Failed attempts changed nothing.
		e.do(phone.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)

		rotated := e.signedIn(e.do(laptop.creds(), http.MethodPost, "/api/v1/auth/password",
			map[string]any{"current_password": authTestPassword, "new_password": newPassword}), http.StatusOK)
		require.NotEqual(t, laptop.cookie, rotated.cookie, "the current session is rotated")
		require.NotEqual(t, laptop.csrf, rotated.csrf)

		e.do(phone.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		e.do(laptop.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		e.do(rotated.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)

		e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "owner@acme.test", "password": authTestPassword}).problem(http.StatusUnauthorized)
		e.login("owner@acme.test", newPassword)
	})
}

func TestAuthSessionsExpireWhenIdle(t *testing.T) {
	t.Parallel()
	authTestEachOnClock(t, func(t *testing.T, s *storage.Store, clock *authTestClock) {
		e := newAuthTestEnvOn(t, s, clock, auth.Options{SessionIdle: time.Hour, SessionMax: 48 * time.Hour})
		u := e.setup()
		clock.advance(59 * time.Minute)
		e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
		// That request was activity, so the hour starts again.
		clock.advance(59 * time.Minute)
		e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
		clock.advance(61 * time.Minute)
		e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		e.do(u.creds(), http.MethodPost, "/api/v1/auth/logout", nil).problem(http.StatusUnauthorized)
		// Idle sessions are deleted at their absolute end.
		n, err := e.svc.DeleteExpired(context.Background())
		require.NoError(t, err)
		require.Zero(t, n)
		clock.advance(48 * time.Hour)
		n, err = e.svc.DeleteExpired(context.Background())
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
	})
}

func TestAuthSessionsExpireAtTheirEndHoweverActive(t *testing.T) {
	t.Parallel()
	authTestEachOnClock(t, func(t *testing.T, s *storage.Store, clock *authTestClock) {
		e := newAuthTestEnvOn(t, s, clock, auth.Options{SessionIdle: time.Hour, SessionMax: 2 * time.Hour})
		u := e.setup()
		for range 3 {
			clock.advance(39 * time.Minute)
			e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
		}
		clock.advance(4 * time.Minute) // 2h01 after sign-in, 4 minutes idle
		e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		// Signing in again works.
		e.login("owner@acme.test", authTestPassword)
	})
}

func TestAuthCSRFIsRequiredForSessionsOnUnsafeMethods(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		other := e.login("owner@acme.test", authTestPassword)
		body := map[string]any{"name": "CRM sync"}

		for name, c := range map[string]authTestCreds{
			"missing":             owner.noCSRF(),
			"wrong":               {cookie: owner.cookie, csrf: auth.NewToken()},
			"another session's":   {cookie: owner.cookie, csrf: other.csrf},
			"the session's token": {cookie: owner.cookie, csrf: owner.cookie},
		} {
			p := e.do(c, http.MethodPost, "/api/v1/tokens", body).problem(http.StatusForbidden)
			require.Equal(t, "csrf", p.Code, name)
			require.Contains(t, p.Detail, CSRFHeader, name)
		}
		for _, m := range []string{http.MethodPatch, http.MethodDelete} {
			path := "/api/v1/users/" + owner.userID
			if m == http.MethodDelete {
				path = "/api/v1/tokens/nope"
			}
			p := e.do(owner.noCSRF(), m, path, map[string]any{"name": "x"}).problem(http.StatusForbidden)
			require.Equal(t, "csrf", p.Code, m)
		}
		toks, err := s.ListAPITokens(context.Background(), owner.workspace, 0)
		require.NoError(t, err)
		require.Empty(t, toks, "a refused request made nothing")

		// Safe methods need no token; unsafe ones pass with it.
		e.do(owner.noCSRF(), http.MethodGet, "/api/v1/tokens", nil).ok(http.StatusOK, nil)
		e.do(owner.creds(), http.MethodPost, "/api/v1/tokens", body).ok(http.StatusCreated, nil)
	})
}

func TestAuthBearerTokenNeedsNoCSRFAndIsRevocable(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()

		var created struct {
			ID, Name, Token string
			UserID          string `json:"user_id"`
		}
		res := e.do(owner.creds(), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "CRM sync"})
		res.ok(http.StatusCreated, &created)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		require.True(t, strings.HasPrefix(created.Token, auth.APITokenPrefix), created.Token)
		require.Equal(t, owner.userID, created.UserID)

		// Stored hashed: the row holds the digest, never the token.
		rec, err := s.GetAPIToken(ctx, owner.workspace, created.ID)
		require.NoError(t, err)
		require.Equal(t, auth.HashToken(created.Token), rec.TokenHash)
		require.NotContains(t, rec.TokenHash, created.Token)
		// Shown once: the list does not carry it.
		list := e.do(owner.noCSRF(), http.MethodGet, "/api/v1/tokens", nil)
		list.ok(http.StatusOK, nil)
		require.Contains(t, string(list.body), created.ID)
		require.NotContains(t, string(list.body), created.Token)
		require.NotContains(t, string(list.body), rec.TokenHash)

		bearer := authTestCreds{bearer: created.Token}
		var me authTestSessionBody
		e.do(bearer, http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, &me)
		require.Equal(t, owner.userID, me.User.ID)
		require.Empty(t, me.CSRFToken, "a token caller has no CSRF token")
		// Unsafe methods without any CSRF header.
		e.do(bearer, http.MethodPost, "/api/v1/users", map[string]any{
			"email": "bot-made@acme.test", "role": "agent", "password": authTestPassword,
		}).ok(http.StatusCreated, nil)
		// The Authorization header alone decides: a valid cookie beside a
		// bad bearer does not rescue it.
		e.do(authTestCreds{cookie: owner.cookie, csrf: owner.csrf, bearer: auth.NewAPIToken()},
			http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		for _, h := range []string{"Basic b3duZXI6cHc=", "Bearer", "Bearer " + auth.NewToken(), created.Token} {
			e.do(authTestCreds{header: map[string]string{"Authorization": h}}, http.MethodGet, "/api/v1/users", nil).
				problem(http.StatusUnauthorized)
		}

		e.do(bearer, http.MethodDelete, "/api/v1/tokens/"+created.ID, nil).ok(http.StatusNoContent, nil)
		p := e.do(bearer, http.MethodGet, "/api/v1/users", nil).problem(http.StatusUnauthorized)
		require.Equal(t, "unauthorized", p.Code)
		e.do(owner.creds(), http.MethodDelete, "/api/v1/tokens/"+created.ID, nil).problem(http.StatusNotFound)
		// A token of an agent acts as an agent.
		agent := e.member(owner, "agent@acme.test", "agent")
		e.do(agent.creds(), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "mine"}).problem(http.StatusForbidden)
	})
}

func TestAuthLoginRateLimitIgnoresForwardedFor(t *testing.T) {
	t.Parallel()
	const limit = 4
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		t.Run("per client address", func(t *testing.T) {
			e := newAuthTestEnv(t, s, auth.Options{IPRate: auth.Rate{Limit: limit, Window: time.Hour}})
			// Every attempt names another email and claims another
			// address; the socket's peer is the same, so they add up.
			attempt := func(i int, email, password string) *routesResponse {
				return e.do(authTestCreds{header: map[string]string{
					"X-Forwarded-For": "198.51.100." + strconv.Itoa(i+1),
					"X-Real-IP":       "198.51.100." + strconv.Itoa(i+1),
				}}, http.MethodPost, "/api/v1/auth/login", map[string]any{"email": email, "password": password})
			}
			for i := range limit {
				attempt(i, "nobody"+strconv.Itoa(i)+"@acme.test", authTestPassword).problem(http.StatusUnauthorized)
			}
			res := attempt(limit, "nobody-else@acme.test", authTestPassword)
			p := res.problem(http.StatusTooManyRequests)
			require.Equal(t, "rate_limited", p.Code)
			secs, err := strconv.Atoi(res.header.Get("Retry-After"))
			require.NoError(t, err, "Retry-After: %q", res.header.Get("Retry-After"))
			require.Positive(t, secs)
			require.LessOrEqual(t, secs, int(time.Hour/limit/time.Second)+1)
			// Even the right password waits: the limit comes first.
			e.userIn(authTestWorkspace(t, s, "Limited"), "real@acme.test", storage.RoleAdmin, authTestPassword)
			attempt(limit+1, "real@acme.test", authTestPassword).problem(http.StatusTooManyRequests)
		})
		t.Run("per email", func(t *testing.T) {
			e := newAuthTestEnv(t, s, auth.Options{EmailRate: auth.Rate{Limit: limit, Window: time.Hour}})
			e.userIn(authTestWorkspace(t, s, "Mailbox"), "victim@acme.test", storage.RoleAdmin, authTestPassword)
			// Successes are refunded: signing in often is never limited.
			for range limit + 2 {
				e.login("victim@acme.test", authTestPassword)
			}
			for i := range limit {
				e.do(authTestCreds{header: map[string]string{"X-Forwarded-For": "203.0.113." + strconv.Itoa(i)}},
					http.MethodPost, "/api/v1/auth/login",
					map[string]any{"email": "victim@acme.test", "password": "guess number " + strconv.Itoa(i)}).
					problem(http.StatusUnauthorized)
			}
			// Case and spaces do not make another email.
			res := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
				map[string]any{"email": "  VICTIM@acme.test ", "password": "guess again!!"})
			res.problem(http.StatusTooManyRequests)
			require.NotEmpty(t, res.header.Get("Retry-After"))
		})
	})
}

// authTestWorkspace makes a workspace straight in the store.
func authTestWorkspace(t *testing.T, s *storage.Store, name string) string {
	t.Helper()
	w, err := s.CreateWorkspace(context.Background(), name)
	require.NoError(t, err)
	return w.ID
}

func TestAuthLoginDoesNotTellWhichEmailsExist(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		e.setup()
		// An account without a password (invited, say) answers alike too.
		ws, err := s.FindUsersByEmail(context.Background(), "owner@acme.test")
		require.NoError(t, err)
		_, err = s.CreateUser(context.Background(), ws[0].WorkspaceID, storage.NewUser{Email: "nopass@acme.test", Role: storage.RoleAgent})
		require.NoError(t, err)

		var bodies []string
		for _, c := range []map[string]any{
			{"email": "owner@acme.test", "password": "not the password"},
			{"email": "nobody@acme.test", "password": "not the password"},
			{"email": "nopass@acme.test", "password": "not the password"},
			{"email": "owner@acme.test", "password": "x"},
		} {
			res := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login", c)
			p := res.problem(http.StatusUnauthorized)
			require.Equal(t, "invalid_credentials", p.Code)
			require.Nil(t, sessionCookieOf(res))
			bodies = append(bodies, string(res.body))
		}
		for _, b := range bodies[1:] {
			require.Equal(t, bodies[0], b, "the same body whatever the reason")
		}
	})
}

func TestAuthAmbiguousEmailNeedsAWorkspace(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		first := e.setup()
		second := authTestWorkspace(t, s, "Globex")
		e.userIn(second, "owner@acme.test", storage.RoleAgent, authTestPassword)
		third := authTestWorkspace(t, s, "Initech")
		e.userIn(third, "owner@acme.test", storage.RoleAgent, "another password entirely")

		p := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "owner@acme.test", "password": authTestPassword}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.workspace_id"}, p.locations())
		choices, ok := p.Errors[0].Value.([]any)
		require.True(t, ok, "%#v", p.Errors[0].Value)
		require.Len(t, choices, 2, "only the workspaces the password opens")

		u := e.signedIn(e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "owner@acme.test", "password": authTestPassword, "workspace_id": second}), http.StatusOK)
		require.Equal(t, second, u.workspace)
		require.Equal(t, "agent", u.role)
		u = e.signedIn(e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "owner@acme.test", "password": authTestPassword, "workspace_id": first.workspace}), http.StatusOK)
		require.Equal(t, "owner", u.role)
		// Naming a workspace the password does not open is a plain failure.
		e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "owner@acme.test", "password": authTestPassword, "workspace_id": third}).
			problem(http.StatusUnauthorized)
		e.login("owner@acme.test", "another password entirely")
	})
}

func TestAuthLoginByCrossSiteFormIsRefused(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		e.setup()
		// A form on another site can post text/plain or urlencoded, not
		// JSON without a preflight: signing a victim in to the attacker's
		// account (login CSRF) fails.
		for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "text/plain; charset=utf-8"} {
			res := e.do(authTestCreds{header: map[string]string{"Content-Type": ct}}, http.MethodPost, "/api/v1/auth/login",
				`{"email":"owner@acme.test","password":"`+authTestPassword+`"}`)
			require.Equal(t, http.StatusUnsupportedMediaType, res.status, "%s: %s", ct, res.body)
			require.Nil(t, sessionCookieOf(res), ct)
		}
	})
}

// authTestNoWorkspace authenticates everyone as an owner of no workspace,
// as a broken Authenticator might.
type authTestNoWorkspace struct{}

func (authTestNoWorkspace) Authenticate(context.Context, Credentials) (*Principal, error) {
	return &Principal{UserID: "u1", Role: "owner", TokenID: "t1"}, nil
}

func TestAuthPrincipalWithoutWorkspaceIsRefused(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		_, _, err := e.svc.CreateAPIToken(ctx, owner.workspace, owner.userID, "existing")
		require.NoError(t, err)

		srv := New(Deps{Store: s, Auth: authTestNoWorkspace{}, Services: []Routes{
			NewAuthRoutes(e.svc, s, authTestPublicURL), NewPeopleRoutes(e.svc, s),
		}})
		bad := &authTestEnv{t: t, store: s, svc: e.svc, srv: srv}
		for _, r := range []struct{ method, path string }{
			{http.MethodGet, "/api/v1/users"},
			{http.MethodGet, "/api/v1/tokens"},
			{http.MethodGet, "/api/v1/auth/me"},
			{http.MethodPost, "/api/v1/tokens"},
		} {
			var body any
			if r.method == http.MethodPost {
				body = map[string]any{"name": "x"}
			}
			res := bad.do(authTestCreds{bearer: "anything"}, r.method, r.path, body)
			res.problem(http.StatusUnauthorized)
			require.NotContains(t, string(res.body), "owner@acme.test", r.path)
			require.NotContains(t, string(res.body), "existing", r.path)
		}
		// And below the API, an empty tenant is refused, never read as
		// "every tenant".
		_, err = s.ListUsers(ctx, "", 0)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.ListAPITokens(ctx, "", 0)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.GetUser(ctx, "", owner.userID)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.UpdateUser(ctx, "", owner.userID, storage.UserUpdate{})
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.RevokeUserSessions(ctx, "", owner.userID, "")
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = e.svc.CreateMember(ctx, "", auth.NewMember{Email: "x@acme.test", Role: storage.RoleAgent, Password: authTestPassword})
		require.ErrorIs(t, err, storage.ErrInvalid)
		e.do(owner.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
	})
}

// TestAuthEveryRouteRefusesStrangers walks the routes the router has, so a
// route added later is covered without editing this test: a non-public
// route refuses no credentials, an ended session, an unknown token and a
// malformed header with 401, and a weaker role with 403.
func TestAuthEveryRouteRefusesStrangers(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{SessionIdle: time.Hour})
		owner := e.setup()
		agent := e.member(owner, "agent@acme.test", "agent")
		ended := e.login("owner@acme.test", authTestPassword)
		e.do(ended.creds(), http.MethodPost, "/api/v1/auth/logout", nil).ok(http.StatusNoContent, nil)
		stale := e.login("owner@acme.test", authTestPassword)

		strangers := map[string]authTestCreds{
			"no credentials":  {},
			"ended session":   ended.creds(),
			"unknown session": {cookie: auth.NewToken(), csrf: auth.NewToken()},
			"unknown token":   {bearer: auth.NewAPIToken()},
			"garbage cookie":  {cookie: "../../etc/passwd", csrf: "x"},
			"not bearer":      {header: map[string]string{"Authorization": "Token abc"}},
		}
		publicOps := map[string]bool{}
		n := 0
		for path, item := range e.srv.API().OpenAPI().Paths {
			for method, op := range authTestOperations(item) {
				n++
				url := strings.NewReplacer("{id}", agent.userID).Replace(path)
				access := AccessOf(op)
				if access == AccessPublic {
					publicOps[method+" "+path] = true
					continue
				}
				for name, c := range strangers {
					p := e.do(c, method, url, map[string]any{}).problem(http.StatusUnauthorized)
					require.Equal(t, "unauthorized", p.Code, "%s %s as %s", method, path, name)
				}
				if access != AccessAgent {
					p := e.do(agent.creds(), method, url, map[string]any{}).problem(http.StatusForbidden)
					require.Equal(t, "forbidden", p.Code, "%s %s as agent", method, path)
				}
			}
		}
		require.GreaterOrEqual(t, n, 10, "the routes were found")
		require.Equal(t, map[string]bool{
			"POST /api/v1/auth/login": true,
			"POST /api/v1/setup":      true,
		}, publicOps, "a new public route is a decision: add it here")

		// An idle session is refused too (checked once: it ends every
		// other session of the env as well).
		e.clock.advance(2 * time.Hour)
		e.do(stale.noCSRF(), http.MethodGet, "/api/v1/users", nil).problem(http.StatusUnauthorized)
	})
}

// authTestOperations lists a path's operations by method.
func authTestOperations(item *huma.PathItem) map[string]*huma.Operation {
	out := map[string]*huma.Operation{}
	for m, op := range map[string]*huma.Operation{
		http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
		http.MethodPatch: item.Patch, http.MethodDelete: item.Delete, http.MethodHead: item.Head,
		http.MethodOptions: item.Options, http.MethodTrace: item.Trace,
	} {
		if op != nil {
			out[m] = op
		}
	}
	return out
}
