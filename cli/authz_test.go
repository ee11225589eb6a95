package cli_test

import (
	"context"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/api"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

// The authorization matrix: every operation of the API, read from the
// router's own OpenAPI document so a new route cannot be forgotten, tried
// with no session, a revoked session, the weakest role that is not enough,
// and another tenant's owner on this tenant's ids.

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

type operation struct {
	method, path, access string
}

func operations(t *testing.T, n *node) []operation {
	t.Helper()
	var ops []operation
	for path, item := range n.srv.API.API().OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{
			http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
		} {
			if op != nil {
				ops = append(ops, operation{method: method, path: path, access: api.AccessOf(op)})
			}
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	require.Greater(t, len(ops), 60, "the router lists every operation")
	return ops
}

// tenantIDs are real ids of one tenant's objects, by path segment.
type tenantIDs map[string]string

func (ids tenantIDs) fill(path string) string {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if !pathParam.MatchString(s) {
			continue
		}
		prev := ""
		if i > 0 {
			prev = segs[i-1]
		}
		switch {
		case s == "{id}" && ids[prev] != "":
			segs[i] = ids[prev]
		case s == "{conversation}":
			segs[i] = ids["conversations"]
		case s == "{number}":
			segs[i] = "1"
		default:
			segs[i] = "01a1fcf9-0000-7000-8000-000000000000"
		}
	}
	return strings.Join(segs, "/")
}

func TestAuthorizationMatrix(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		ctx := context.Background()
		a := seedTenant(t, n.srv.Store, "lead-qualification")
		b := seedTenant(t, n.srv.Store, "live-chat")
		ownerA := signIn(t, n, a.ws, "owner@a.test", storage.RoleOwner)
		agentA := signIn(t, n, a.ws, "agent@a.test", storage.RoleAgent)
		ownerB := signIn(t, n, b.ws, "owner@b.test", storage.RoleOwner)

		// Tenant A's objects, so B's requests name ids that exist.
		v := connect(t, n.base, a.channel.PublicKey, wire.Hello{})
		v.until("Looking for the right plan")
		users, err := n.srv.Store.ListUsers(ctx, a.ws, 10)
		require.NoError(t, err)
		var token struct {
			ID string `json:"id"`
		}
		ownerA.do(http.MethodPost, "/api/v1/tokens", map[string]any{"name": "ci"}, http.StatusCreated, &token)
		ids := tenantIDs{
			"assistants": a.channel.AssistantID, "channels": a.channel.ID, "conversations": v.welcome.ConversationID,
			"users": users[0].ID, "tokens": token.ID,
		}

		// A session that was revoked.
		revoked := signIn(t, n, a.ws, "gone@a.test", storage.RoleOwner)
		revoked.do(http.MethodPost, "/api/v1/auth/logout", nil, http.StatusNoContent, nil)

		public := map[string]bool{"POST /api/v1/auth/login": true, "POST /api/v1/setup": true}
		for _, op := range operations(t, n) {
			key := op.method + " " + op.path
			path := ids.fill(op.path)
			if op.access == api.AccessPublic {
				require.True(t, public[key], "%s is public: add it to this test on purpose", key)
				continue
			}
			stranger := &apiClient{t: t, base: n.base, http: newJarClient()}
			require.Equal(t, http.StatusUnauthorized, stranger.send(op.method, path), "%s with no session", key)
			require.Equal(t, http.StatusUnauthorized, revoked.send(op.method, path), "%s with a revoked session", key)
			if op.access != api.AccessAgent {
				require.Equal(t, http.StatusForbidden, agentA.send(op.method, path), "%s as a plain agent", key)
			}
			if strings.Contains(op.path, "{") && !strings.HasPrefix(op.path, "/api/v1/me") {
				got := ownerB.send(op.method, path)
				// 404, or a refusal of the request itself made before any
				// lookup (422 for the body, 415 for a file's type): the
				// same whether the id exists or not.
				require.Contains(t, []int{http.StatusNotFound, http.StatusUnprocessableEntity, http.StatusUnsupportedMediaType}, got,
					"%s as another tenant's owner on this tenant's ids: never found, never forbidden", key)
			}
		}
	})
}

// send sends a request with an empty JSON object for unsafe methods and
// returns the status.
func (c *apiClient) send(method, path string) int {
	var body *strings.Reader
	if method == http.MethodGet || method == http.MethodDelete {
		body = strings.NewReader("")
	} else {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return 0
	}
	if body.Len() > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
