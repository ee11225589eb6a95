package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/api"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/cli"
	"github.com/frontdesk/frontdesk/storage"
)

// The agents' side of the end-to-end harness: a node with the agent socket,
// members who sign in for real, their console sockets.

// agentNode is a running node with the agent socket and the notification
// routes mounted.
type agentNode struct {
	*node
	agents   *api.AgentSockets
	presence *chat.GracefulPresence
}

// startAgentNode starts a node whose agent sockets go offline grace after
// the last one closes.
//
// cli.Build does not mount the agent socket yet, so this mounts it on the
// built server, wired as serve.go is to wire it (docs/agents.md). Once
// serve.go does, this is the one place to change: use the Server's
// instances and shorten their grace instead.
func startAgentNode(t *testing.T, dbURL string, grace time.Duration) *agentNode {
	t.Helper()
	an := &agentNode{}
	an.node = startNode(t, dbURL, func(srv *cli.Server) {
		an.agents, an.presence = srv.Agents, srv.AgentPresence
		srv.AgentPresence.SetGrace(grace)
	})
	return an
}

// consoleMember is a member signed in through POST /api/v1/auth/login, as
// the console is: the fd_session cookie and the CSRF token.
type consoleMember struct {
	t      *testing.T
	n      *agentNode
	id     string
	name   string
	cookie string
	csrf   string
}

// consolePassword is every test member's password.
const consolePassword = "correct horse battery staple"

// member creates a member with a password and signs them in.
func (an *agentNode) member(t *testing.T, ws, name string, role storage.Role) *consoleMember {
	t.Helper()
	ctx := context.Background()
	hash, err := an.srv.Auth.Hasher().Hash(ctx, consolePassword)
	require.NoError(t, err)
	email := strings.ToLower(name) + "@frontdesk.test"
	u, err := an.srv.Store.CreateUser(ctx, ws, storage.NewUser{Email: email, Name: name, Role: role, PasswordHash: hash})
	require.NoError(t, err)
	m := &consoleMember{t: t, n: an, id: u.ID, name: name}
	status, body, res := m.request(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": email, "password": consolePassword})
	require.Equal(t, http.StatusOK, status, "login: %v", body)
	for _, c := range res.Cookies() {
		if c.Name == api.SessionCookie {
			m.cookie = c.Value
		}
	}
	require.NotEmpty(t, m.cookie, "login set no session cookie")
	m.csrf, _ = body["csrf_token"].(string)
	require.NotEmpty(t, m.csrf)
	return m
}

func (m *consoleMember) request(method, path string, body any) (int, map[string]any, *http.Response) {
	m.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(m.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, m.n.base+path, rd)
	require.NoError(m.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if m.cookie != "" {
		req.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: m.cookie})
		req.Header.Set(api.CSRFHeader, m.csrf)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(m.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(m.t, err)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(m.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	}
	return res.StatusCode, out, res
}

// call sends a request with the member's session and returns the status
// and the JSON body.
func (m *consoleMember) call(method, path string, body any) (int, map[string]any) {
	m.t.Helper()
	status, out, _ := m.request(method, path, body)
	return status, out
}

// must is call, requiring the status.
func (m *consoleMember) must(method, path string, body any, want int) map[string]any {
	m.t.Helper()
	status, out := m.call(method, path, body)
	require.Equal(m.t, want, status, "%s %s: %v", method, path, out)
	return out
}

// folder lists the ids in an inbox folder.
func (m *consoleMember) folder(name string) []string {
	m.t.Helper()
	out := m.must(http.MethodGet, "/api/v1/inbox?folder="+name, nil, http.StatusOK)
	var ids []string
	for _, c := range out["conversations"].([]any) {
		ids = append(ids, c.(map[string]any)["id"].(string))
	}
	return ids
}

// dialConsole opens the agent socket with a cookie and an Origin.
func dialConsole(base, cookie, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if cookie != "" {
		h.Set("Cookie", (&http.Cookie{Name: api.SessionCookie, Value: cookie}).String())
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(strings.Replace(base, "http://", "ws://", 1)+"/api/v1/agent/ws", h)
}

// consoleSocket is the console's agent socket, read in the background.
type consoleSocket struct {
	t       *testing.T
	conn    *websocket.Conn
	hello   map[string]any
	frames  chan map[string]any
	closed  chan int
	backlog []map[string]any
}

// socket opens the member's agent socket from the console's origin and
// waits for its hello.
func (m *consoleMember) socket() *consoleSocket {
	m.t.Helper()
	conn, _, err := dialConsole(m.n.base, m.cookie, m.n.base)
	require.NoError(m.t, err)
	s := &consoleSocket{t: m.t, conn: conn, frames: make(chan map[string]any, 1024), closed: make(chan int, 1)}
	go s.read()
	m.t.Cleanup(func() { _ = conn.Close() })
	s.hello = s.next("hello")
	return s
}

func (s *consoleSocket) read() {
	for {
		_, data, err := s.conn.ReadMessage()
		if err != nil {
			code := -1
			if ce, ok := err.(*websocket.CloseError); ok {
				code = ce.Code
			}
			s.closed <- code
			close(s.frames)
			return
		}
		var f map[string]any
		if json.Unmarshal(data, &f) != nil {
			s.t.Errorf("server sent a frame that is not JSON: %q", data)
			continue
		}
		s.frames <- f
	}
}

func (s *consoleSocket) send(v any) {
	s.t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(s.t, err)
	require.NoError(s.t, s.conn.WriteMessage(websocket.TextMessage, raw))
}

// nextWhere returns the next frame matching ok, keeping the others, in
// order, for later calls.
func (s *consoleSocket) nextWhere(what string, ok func(map[string]any) bool) map[string]any {
	s.t.Helper()
	for i, f := range s.backlog {
		if ok(f) {
			s.backlog = append(s.backlog[:i:i], s.backlog[i+1:]...)
			return f
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, open := <-s.frames:
			if !open {
				s.t.Fatalf("agent socket closed while waiting for %s", what)
			}
			if ok(f) {
				return f
			}
			s.backlog = append(s.backlog, f)
		case <-deadline:
			s.t.Fatalf("no %s on the agent socket in time; unread: %v", what, s.backlog)
			return nil
		}
	}
}

func (s *consoleSocket) next(typ string) map[string]any {
	s.t.Helper()
	return s.nextWhere(typ, func(f map[string]any) bool { return f["type"] == typ })
}

// flush returns every frame the server sent before it answered a ping,
// and forgets them.
func (s *consoleSocket) flush() []map[string]any {
	s.t.Helper()
	s.send(map[string]any{"type": "ping"})
	s.next("pong")
	got := s.backlog
	s.backlog = nil
	return got
}

// frame matches a frame by type, and by kind when kind is not "".
func frame(typ, kind, conversationID string) func(map[string]any) bool {
	return func(f map[string]any) bool {
		return f["type"] == typ && f["conversation_id"] == conversationID && (kind == "" || f["kind"] == kind)
	}
}

// awaitMessage returns the next message event the visitor gets that ok
// accepts, and the messages before it.
func awaitMessage(v *visitor, what string, ok func(msg map[string]any) bool) (map[string]any, []map[string]any) {
	v.t.Helper()
	var before []map[string]any
	deadline := time.After(10 * time.Second)
	for {
		f, open := v.take(deadline)
		if !open {
			v.t.Fatalf("socket closed waiting for %s; got %v", what, before)
		}
		if f["type"] != "event" || f["kind"] != "message" {
			continue
		}
		m := f["message"].(map[string]any)
		if ok(m) {
			return m, before
		}
		before = append(before, m)
	}
}
