package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// The helpers of auth_test.go and people_test.go: a server wired as main
// wires it (the real auth.Service behind NewAuthenticator, AuthRoutes and
// PeopleRoutes) over a real store, driven through fiber's app.Test with
// real cookies and headers. They reuse routesResponse and problemBody from
// testing_test.go.

// authTestPublicURL is https, so the session cookie must be Secure.
const authTestPublicURL = "https://frontdesk.example.test"

// authTestPassword is every test account's password.
const authTestPassword = "correct horse battery staple"

// authTestClock is the auth service's clock, which a test may move forward
// to age sessions. The store keeps the real clock.
type authTestClock struct{ offset atomic.Int64 }

func (c *authTestClock) now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

func (c *authTestClock) advance(d time.Duration) { c.offset.Add(int64(d)) }

// authTestEnv is one server over one store.
type authTestEnv struct {
	t     *testing.T
	store *storage.Store
	svc   *auth.Service
	srv   *Server
	clock *authTestClock
}

// newAuthTestEnv builds the server. opts may set rates and lifetimes; the
// test fills in fast hashing, the clock, and, unless set, limits high
// enough that only the rate-limit tests meet them (every app.Test request
// comes from the same peer address, 0.0.0.0).
func newAuthTestEnv(t *testing.T, s *storage.Store, opts auth.Options) *authTestEnv {
	t.Helper()
	return newAuthTestEnvOn(t, s, &authTestClock{}, opts)
}

// newAuthTestEnvOn is newAuthTestEnv with the service on clock, for a store
// opened on the same clock (authTestEachOnClock).
func newAuthTestEnvOn(t *testing.T, s *storage.Store, clock *authTestClock, opts auth.Options) *authTestEnv {
	t.Helper()
	opts.Params = auth.FastParams()
	opts.Now = clock.now
	if opts.IPRate == (auth.Rate{}) {
		opts.IPRate = auth.Rate{Limit: 10_000, Window: time.Minute}
	}
	if opts.EmailRate == (auth.Rate{}) {
		opts.EmailRate = auth.Rate{Limit: 10_000, Window: time.Minute}
	}
	svc := auth.NewService(s, opts)
	srv := New(Deps{
		Config:   config.Default(),
		Store:    s,
		Auth:     NewAuthenticator(svc),
		Services: []Routes{NewAuthRoutes(svc, s, authTestPublicURL), NewPeopleRoutes(svc, s)},
	})
	return &authTestEnv{t: t, store: s, svc: svc, srv: srv, clock: clock}
}

// authTestEachOnClock is storagetest.Each with the store, and so the
// times it records (a session's last activity), on a clock the test moves.
func authTestEachOnClock(t *testing.T, fn func(t *testing.T, s *storage.Store, clock *authTestClock)) {
	t.Helper()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := &authTestClock{}
			fn(t, storagetest.OpenWith(t, d, storage.Options{Now: clock.now}), clock)
		})
	}
}

// authTestCreds are what one request carries.
type authTestCreds struct {
	// cookie is the fd_session value; csrf goes in X-CSRF-Token.
	cookie, csrf string
	// bearer goes in Authorization.
	bearer string
	// header adds or replaces headers (X-Forwarded-For, Content-Type).
	header map[string]string
}

// authTestUser is a signed-in browser: the cookie and the CSRF token the
// page keeps.
type authTestUser struct {
	cookie, csrf      string
	userID, workspace string
	email, role       string
}

// creds returns the user's session credentials, with the CSRF header.
func (u *authTestUser) creds() authTestCreds { return authTestCreds{cookie: u.cookie, csrf: u.csrf} }

// noCSRF returns the user's cookie without the CSRF header.
func (u *authTestUser) noCSRF() authTestCreds { return authTestCreds{cookie: u.cookie} }

// do sends one request through the fiber app. body is encoded as JSON
// unless it is a string.
func (e *authTestEnv) do(c authTestCreds, method, path string, body any) *routesResponse {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: c.cookie})
	}
	if c.csrf != "" {
		req.Header.Set(CSRFHeader, c.csrf)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.App().Test(req, -1)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return &routesResponse{t: e.t, status: res.StatusCode, header: res.Header, body: raw}
}

// sessionCookieOf returns the fd_session cookie a response sets, or nil.
func sessionCookieOf(r *routesResponse) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == SessionCookie {
			return c
		}
	}
	return nil
}

// authTestSessionBody is the body of login, setup, me and password change.
type authTestSessionBody struct {
	User struct {
		ID               string `json:"id"`
		Email            string `json:"email"`
		Role             string `json:"role"`
		Name             string `json:"name"`
		ManageAssistants bool   `json:"manage_assistants"`
	} `json:"user"`
	Workspace struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"workspace"`
	CSRFToken string     `json:"csrf_token"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// signedIn reads a session response (status want) into an authTestUser.
func (e *authTestEnv) signedIn(r *routesResponse, want int) *authTestUser {
	e.t.Helper()
	var b authTestSessionBody
	r.ok(want, &b)
	ck := sessionCookieOf(r)
	require.NotNil(e.t, ck, "no %s cookie in %v", SessionCookie, r.header)
	require.NotEmpty(e.t, ck.Value)
	require.NotEmpty(e.t, b.CSRFToken)
	return &authTestUser{
		cookie: ck.Value, csrf: b.CSRFToken, userID: b.User.ID, workspace: b.Workspace.ID,
		email: b.User.Email, role: b.User.Role,
	}
}

// setup runs first-run setup and returns the signed-in owner.
func (e *authTestEnv) setup() *authTestUser {
	e.t.Helper()
	return e.signedIn(e.do(authTestCreds{}, http.MethodPost, "/api/v1/setup", map[string]any{
		"workspace_name": "Acme", "name": "Olive Owner", "email": "owner@acme.test", "password": authTestPassword,
	}), http.StatusCreated)
}

// login signs in and requires success.
func (e *authTestEnv) login(email, password string) *authTestUser {
	e.t.Helper()
	return e.signedIn(e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
		map[string]any{"email": email, "password": password}), http.StatusOK)
}

// member has admin add a member with authTestPassword and signs them in.
func (e *authTestEnv) member(admin *authTestUser, email, role string) *authTestUser {
	e.t.Helper()
	e.do(admin.creds(), http.MethodPost, "/api/v1/users", map[string]any{
		"email": email, "name": email, "role": role, "password": authTestPassword,
	}).ok(http.StatusCreated, nil)
	return e.login(email, authTestPassword)
}

// otherTenant makes a second workspace, as another instance's setup or a
// seed would, with an admin who signs in.
func (e *authTestEnv) otherTenant(name, adminEmail string) *authTestUser {
	e.t.Helper()
	ctx := context.Background()
	ws, err := e.store.CreateWorkspace(ctx, name)
	require.NoError(e.t, err)
	e.userIn(ws.ID, adminEmail, storage.RoleAdmin, authTestPassword)
	return e.login(adminEmail, authTestPassword)
}

// userIn stores a user with a password straight into a workspace.
func (e *authTestEnv) userIn(ws, email string, role storage.Role, password string) *storage.User {
	e.t.Helper()
	ctx := context.Background()
	hash, err := e.svc.Hasher().Hash(ctx, password)
	require.NoError(e.t, err)
	u, err := e.store.CreateUser(ctx, ws, storage.NewUser{Email: email, Name: email, Role: role, PasswordHash: hash})
	require.NoError(e.t, err)
	return u
}
