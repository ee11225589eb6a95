package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// apiClient is a signed-in member speaking JSON to the API.
type apiClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

// signIn creates a member with role in the workspace and signs them in.
func signIn(t *testing.T, n *node, ws, email string, role storage.Role) *apiClient {
	t.Helper()
	ctx := context.Background()
	hash, err := auth.NewHasher(auth.FastParams(), 1).Hash(ctx, "correct horse battery")
	require.NoError(t, err)
	_, err = n.srv.Store.CreateUser(ctx, ws, storage.NewUser{Email: email, Name: email, Role: role, PasswordHash: hash})
	require.NoError(t, err)
	jar, _ := cookiejar.New(nil)
	c := &apiClient{t: t, base: n.base, http: &http.Client{Jar: jar}}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	c.do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": email, "password": "correct horse battery", "workspace_id": ws}, http.StatusOK, &out)
	c.csrf = out.CSRF
	return c
}

// do sends a request and checks its status; out, when set, gets the body.
func (c *apiClient) do(method, path string, body any, want int, out any) map[string]any {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(c.t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	require.NoError(c.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	require.Equal(c.t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(c.t, json.Unmarshal(raw, out))
	}
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return m
}

type previewView struct {
	ConversationID string         `json:"conversation_id"`
	Path           []string       `json:"path"`
	Vars           map[string]any `json:"vars"`
	Status         string         `json:"status"`
	Messages       []struct {
		Author string `json:"author"`
		Text   string `json:"body"`
	} `json:"messages"`
}

func (v previewView) last() string { return v.Messages[len(v.Messages)-1].Text }

func TestPreviewTranscriptsAndReplay(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		admin := signIn(t, n, tn.ws, "ada@acme.example", storage.RoleAdmin)
		a := tn.channel.AssistantID
		ctx := context.Background()

		// The preview runs the draft: change the draft's greeting first.
		draft, err := n.srv.Store.GetDraft(ctx, tn.ws, a)
		require.NoError(t, err)
		var g engine.Graph
		require.NoError(t, json.Unmarshal(draft.Graph, &g))
		for i := range g.Nodes {
			if g.Nodes[i].ID == "welcome" {
				g.Nodes[i].Greet.Text["en"] = "Draft greeting"
			}
		}
		admin.do(http.MethodPut, "/api/v1/assistants/"+a+"/draft", map[string]any{"revision": draft.Revision, "graph": g}, http.StatusOK, nil)

		var v previewView
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview", map[string]any{"locale": "en"}, http.StatusOK, &v)
		require.Equal(t, "Draft greeting", v.last(), "the draft, never the published version")
		require.Equal(t, []string{"welcome"}, v.Path)

		for _, say := range []string{"Get a quote", "250", "10k"} {
			admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview/"+v.ConversationID+"/messages", map[string]any{"text": say}, http.StatusOK, &v)
		}
		require.Equal(t, float64(250), v.Vars["company_size"], "the variables as they go")
		require.Equal(t, float64(10000), v.Vars["budget"])

		// Saved as a transcript test, it replays clean on the same draft.
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview/"+v.ConversationID+"/transcript", map[string]any{"name": "big budget"}, http.StatusOK, nil)
		var other previewView
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview", map[string]any{}, http.StatusOK, &other)
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview/"+other.ConversationID+"/messages", map[string]any{"text": "Just browsing"}, http.StatusOK, &other)
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview/"+other.ConversationID+"/transcript", map[string]any{"name": "browsing"}, http.StatusOK, nil)

		var replay struct {
			Changed int `json:"changed"`
			Results []struct {
				Name string `json:"name"`
				OK   bool   `json:"ok"`
			} `json:"results"`
		}
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/draft/replay", nil, http.StatusOK, &replay)
		require.Equal(t, 0, replay.Changed, "%+v", replay)

		// A draft change that alters the budget question breaks exactly the
		// transcript that reached it.
		draft, err = n.srv.Store.GetDraft(ctx, tn.ws, a)
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(draft.Graph, &g))
		for i := range g.Nodes {
			if g.Nodes[i].ID == "qualify" {
				g.Nodes[i].Collect.Fields[1].Prompt["en"] = "Budget, please?"
			}
		}
		admin.do(http.MethodPut, "/api/v1/assistants/"+a+"/draft", map[string]any{"revision": draft.Revision, "graph": g}, http.StatusOK, nil)
		admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/draft/replay", nil, http.StatusOK, &replay)
		require.Equal(t, 1, replay.Changed)
		for _, r := range replay.Results {
			require.Equal(t, r.Name != "big budget", r.OK, r.Name)
		}

		// The preview restarts when the draft is saved.
		p := admin.do(http.MethodPost, "/api/v1/assistants/"+a+"/preview/"+v.ConversationID+"/messages", map[string]any{"text": "hi"}, http.StatusConflict, nil)
		require.Equal(t, "preview_restart", p["code"])

		// Only its owner sees a preview; it is not in the inbox; it never
		// counts in analytics (its events are marked preview).
		other2 := signIn(t, n, tn.ws, "bob@acme.example", storage.RoleAdmin)
		other2.do(http.MethodGet, "/api/v1/assistants/"+a+"/preview/"+v.ConversationID, nil, http.StatusNotFound, nil)
		var inbox struct {
			Conversations []map[string]any `json:"conversations"`
		}
		admin.do(http.MethodGet, "/api/v1/inbox?folder=all", nil, http.StatusOK, &inbox)
		require.Empty(t, inbox.Conversations)
		events, err := n.srv.Store.ListEvents(ctx, tn.ws, storage.EventFilter{ConversationID: v.ConversationID, IncludePreview: true})
		require.NoError(t, err)
		require.NotEmpty(t, events)
		for _, e := range events {
			require.True(t, e.Preview)
		}
		counted, err := n.srv.Store.ListEvents(ctx, tn.ws, storage.EventFilter{AssistantID: a})
		require.NoError(t, err)
		require.Empty(t, counted)
	})
}

func TestPreviewSkipsTimers(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		admin := signIn(t, n, tn.ws, "ada@acme.example", storage.RoleOwner)
		admin.do(http.MethodPut, "/api/v1/presence", map[string]any{"status": "online"}, http.StatusOK, nil)
		var v previewView
		admin.do(http.MethodPost, "/api/v1/assistants/"+tn.channel.AssistantID+"/preview", map[string]any{}, http.StatusOK, &v)
		require.Equal(t, "waiting_agent", v.Status)
		admin.do(http.MethodPost, "/api/v1/assistants/"+tn.channel.AssistantID+"/preview/"+v.ConversationID+"/skip", nil, http.StatusOK, &v)
		require.Equal(t, "What's your name?", v.last())
	})
}

func newJarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// status sends a request without a body and returns its status code.
func (c *apiClient) status(method, path string) int {
	req, err := http.NewRequest(method, c.base+path, nil)
	if err != nil {
		return 0
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
