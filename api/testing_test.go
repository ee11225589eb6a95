package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
)

// bearerAuth is the tests' Authenticator: it maps bearer tokens to
// principals of real users in the store, so the real authorize middleware
// (access levels, the principal in the context) runs on every request
// while the session and token machinery stays out of these tests.
type bearerAuth struct {
	mu      sync.Mutex
	byToken map[string]Principal
}

func (a *bearerAuth) Authenticate(_ context.Context, c Credentials) (*Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	p, ok := a.byToken[c.BearerToken]
	if !ok || c.BearerToken == "" {
		return nil, problem(http.StatusUnauthorized, "unauthorized", "sign in first")
	}
	return &p, nil
}

func (a *bearerAuth) add(p Principal) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "test_" + hex.EncodeToString(b)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.byToken[tok] = p
	return tok
}

// routesEnv is one server over one store, with the route groups of
// assistants, versions, channels and conversations.
type routesEnv struct {
	t     *testing.T
	store *storage.Store
	srv   *Server
	auth  *bearerAuth
}

// routesPublicURL is the public URL the embed snippet is built from.
const routesPublicURL = "https://chat.example.test/"

func newRoutesEnv(t *testing.T, s *storage.Store) *routesEnv {
	t.Helper()
	a := &bearerAuth{byToken: map[string]Principal{}}
	cfg := config.Default()
	// Above the 4 MiB graph bound, so that huma's per-operation bounds are
	// what the tests meet.
	cfg.MaxBodyBytes = 8 << 20
	srv := New(Deps{
		Config: cfg,
		Store:  s,
		Auth:   a,
		Services: []Routes{
			&AssistantRoutes{Store: s},
			&VersionRoutes{Store: s},
			&ChannelRoutes{Store: s, PublicURL: routesPublicURL},
			&ConversationRoutes{Store: s},
		},
	})
	return &routesEnv{t: t, store: s, srv: srv, auth: a}
}

// routesTenant is a workspace with a member of each access level.
type routesTenant struct {
	ws string
	// Bearer tokens: owner and admin may do everything here; builder is an
	// agent with "manage assistants"; agent is a plain agent.
	owner, admin, builder, agent string
	adminID                      string
}

func (e *routesEnv) tenant(name string) *routesTenant {
	e.t.Helper()
	ctx := context.Background()
	w, err := e.store.CreateWorkspace(ctx, name)
	require.NoError(e.t, err)
	tn := &routesTenant{ws: w.ID}
	mk := func(email string, role storage.Role, manage bool) (string, string) {
		u, err := e.store.CreateUser(ctx, w.ID, storage.NewUser{Email: email, Name: email, Role: role, ManageAssistants: manage})
		require.NoError(e.t, err)
		return e.auth.add(Principal{
			WorkspaceID: w.ID, UserID: u.ID, Name: u.Name, Email: u.Email, Role: string(role),
			ManageAssistants: manage, TokenID: "tok-" + u.ID,
		}), u.ID
	}
	tn.owner, _ = mk("owner@"+name+".test", storage.RoleOwner, false)
	tn.admin, tn.adminID = mk("admin@"+name+".test", storage.RoleAdmin, false)
	tn.builder, _ = mk("builder@"+name+".test", storage.RoleAgent, true)
	tn.agent, _ = mk("agent@"+name+".test", storage.RoleAgent, false)
	return tn
}

// routesResponse is a response read whole.
type routesResponse struct {
	t      *testing.T
	status int
	header http.Header
	body   []byte
}

// do sends a request through the fiber app. body is encoded as JSON
// unless it is already []byte or a string.
func (e *routesEnv) do(token, method, path string, body any) *routesResponse {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
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
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.srv.App().Test(req, -1)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return &routesResponse{t: e.t, status: res.StatusCode, header: res.Header, body: raw}
}

// ok requires the status and decodes the body into v (when not nil).
func (r *routesResponse) ok(status int, v any) *routesResponse {
	r.t.Helper()
	require.Equal(r.t, status, r.status, "body: %s", r.body)
	if v != nil {
		require.NoError(r.t, json.Unmarshal(r.body, v), "body: %s", r.body)
	}
	return r
}

// problemBody is the problem+json shape as a client reads it.
type problemBody struct {
	Status  int            `json:"status"`
	Code    string         `json:"code"`
	Detail  string         `json:"detail"`
	Current map[string]any `json:"current"`
	Errors  []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
		Value    any    `json:"value"`
	} `json:"errors"`
	Diagnostics []map[string]any `json:"diagnostics"`
}

// problem requires a problem+json response with the status and returns it.
func (r *routesResponse) problem(status int) problemBody {
	r.t.Helper()
	require.Equal(r.t, status, r.status, "body: %s", r.body)
	require.Contains(r.t, r.header.Get("Content-Type"), "application/problem+json", "body: %s", r.body)
	var p problemBody
	require.NoError(r.t, json.Unmarshal(r.body, &p), "body: %s", r.body)
	require.Equal(r.t, status, p.Status)
	require.NotEmpty(r.t, p.Code)
	return p
}

// locations lists the field locations of a problem.
func (p problemBody) locations() []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Location)
	}
	return out
}
