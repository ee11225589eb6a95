package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/wire"
)

// agentWSAuth maps session cookies (and bearer tokens, for REST calls) to
// principals of real users, so the agent socket's admission runs as wired
// while the session machinery stays out of these tests (cli/agent_test.go
// signs in for real).
type agentWSAuth struct {
	mu     sync.Mutex
	tokens map[string]Principal
}

func (a *agentWSAuth) Authenticate(_ context.Context, c Credentials) (*Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	tok := c.SessionToken
	if tok == "" {
		tok = c.BearerToken
	}
	p, ok := a.tokens[tok]
	if !ok || tok == "" {
		return nil, problem(http.StatusUnauthorized, "unauthorized", "sign in first")
	}
	return &p, nil
}

func (a *agentWSAuth) add(p Principal) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	tok := "sess_" + hex.EncodeToString(b)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.tokens[tok] = p
	return tok
}

func (a *agentWSAuth) revoke(tok string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.tokens, tok)
}

// agentWSEnv is a server on loopback with the agent socket and the
// notification routes, over a real store and a memory broker.
type agentWSEnv struct {
	t        *testing.T
	store    *storage.Store
	broker   *realtime.MemoryBroker
	presence *chat.GracefulPresence
	sockets  *AgentSockets
	srv      *Server
	auth     *agentWSAuth
	base     string
	origin   string

	ws                  string
	channel             *storage.Channel
	admin, alice, bob   agentWSUser
	otherWS, otherConv  string
	aliceConv, bobConv  string
	queuedConv, botConv string
}

type agentWSUser struct {
	id, token string
}

func newAgentWSEnv(t *testing.T, tune func(*AgentSockets)) *agentWSEnv {
	t.Helper()
	ctx := context.Background()
	s := storagetest.Open(t, storage.SQLite)
	broker := realtime.NewMemoryBroker(realtime.MemoryConfig{})
	t.Cleanup(func() { _ = broker.Close() })
	presence := chat.NewGracefulPresence(nil, chat.GracePresenceConfig{Grace: 50 * time.Millisecond})
	svc := chat.New(chat.Config{Store: s, Publisher: broker, Presence: presence})
	auth := &agentWSAuth{tokens: map[string]Principal{}}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	sockets := &AgentSockets{Auth: auth, Store: s, Chat: svc, Broker: broker, Presence: presence, PublicURL: base + "/"}
	if tune != nil {
		tune(sockets)
	}
	cfg := config.Default()
	cfg.PublicURL = base
	srv := New(Deps{Config: cfg, Store: s, Auth: auth, Services: []Routes{
		&NotificationRoutes{Store: s, OnChange: sockets.SettingsChanged},
	}})
	sockets.Mount(srv.App())
	go func() { _ = srv.App().Listener(ln) }()
	t.Cleanup(func() {
		sockets.Shutdown()
		_ = srv.App().ShutdownWithTimeout(2 * time.Second)
	})

	e := &agentWSEnv{t: t, store: s, broker: broker, presence: presence, sockets: sockets, srv: srv, auth: auth,
		base: base, origin: base}
	w, err := s.CreateWorkspace(ctx, "Acme")
	require.NoError(t, err)
	e.ws = w.ID
	e.channel, err = s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Shop", AllowedOrigins: []string{"https://shop.example"}})
	require.NoError(t, err)
	mk := func(email string, role storage.Role) agentWSUser {
		u, err := s.CreateUser(ctx, w.ID, storage.NewUser{Email: email, Name: strings.Split(email, "@")[0], Role: role})
		require.NoError(t, err)
		return agentWSUser{id: u.ID, token: auth.add(Principal{WorkspaceID: w.ID, UserID: u.ID, Name: u.Name, Email: email, Role: string(role)})}
	}
	e.admin = mk("admin@acme.test", storage.RoleAdmin)
	e.alice = mk("alice@acme.test", storage.RoleAgent)
	e.bob = mk("bob@acme.test", storage.RoleAgent)
	e.aliceConv = e.conversation(storage.StatusUnassigned, e.alice.id)
	e.bobConv = e.conversation(storage.StatusUnassigned, e.bob.id)
	e.queuedConv = e.conversation(storage.StatusUnassigned, "")
	e.botConv = e.conversation(storage.StatusBot, "")

	other, err := s.CreateWorkspace(ctx, "Other")
	require.NoError(t, err)
	e.otherWS = other.ID
	och, err := s.CreateChannel(ctx, other.ID, storage.NewChannel{Name: "Other"})
	require.NoError(t, err)
	oc, err := s.CreateConversation(ctx, other.ID, storage.NewConversation{ChannelID: och.ID, VisitorID: "v", State: storage.JSON(`{}`)})
	require.NoError(t, err)
	e.otherConv = oc.ID
	return e
}

// conversation creates a chat in status, claimed by assignee when set.
func (e *agentWSEnv) conversation(status storage.ConversationStatus, assignee string) string {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.store.CreateConversation(ctx, e.ws, storage.NewConversation{ChannelID: e.channel.ID, VisitorID: "v", Status: status, State: storage.JSON(`{}`)})
	require.NoError(e.t, err)
	if assignee != "" {
		_, err = e.store.ClaimConversation(ctx, e.ws, c.ID, assignee)
		require.NoError(e.t, err)
	}
	return c.ID
}

// publishInbox publishes an inbox event as chat does after a commit.
func (e *agentWSEnv) publishInbox(ev chat.InboxEvent) {
	e.t.Helper()
	ev.Type = "inbox"
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	payload, err := json.Marshal(ev)
	require.NoError(e.t, err)
	require.NoError(e.t, e.broker.Publish(context.Background(), chat.InboxTopic(e.ws), payload))
}

// publishMessage publishes a message event on a conversation's topic.
func (e *agentWSEnv) publishMessage(conversationID string, seq int64, text string) {
	e.t.Helper()
	frame := wire.Encode(&wire.Event{Seq: seq, ConversationID: conversationID, Kind: wire.KindMessage,
		Message: &wire.Message{ID: "m" + text, Author: wire.AuthorVisitor, Text: text, CreatedAt: time.Now().UTC()}})
	require.NoError(e.t, e.broker.Publish(context.Background(), chat.ConversationTopic(e.ws, conversationID), frame))
}

func (e *agentWSEnv) wsURL() string {
	return strings.Replace(e.base, "http://", "ws://", 1) + "/api/v1/agent/ws"
}

// dialAgent opens the agent socket with a cookie and an Origin ("" for
// none).
func (e *agentWSEnv) dialAgent(cookie, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if cookie != "" {
		h.Set("Cookie", (&http.Cookie{Name: SessionCookie, Value: cookie}).String())
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(e.wsURL(), h)
}

// agentWSClient reads an agent socket in the background.
type agentWSClient struct {
	t       *testing.T
	conn    *websocket.Conn
	frames  chan map[string]any
	closed  chan int
	backlog []map[string]any
}

// connectAgent opens a socket as u and waits for its hello.
func (e *agentWSEnv) connectAgent(u agentWSUser) (*agentWSClient, map[string]any) {
	e.t.Helper()
	conn, _, err := e.dialAgent(u.token, e.origin)
	require.NoError(e.t, err)
	c := &agentWSClient{t: e.t, conn: conn, frames: make(chan map[string]any, 1024), closed: make(chan int, 1)}
	go c.read()
	e.t.Cleanup(func() { _ = conn.Close() })
	return c, c.next("hello")
}

func (c *agentWSClient) read() {
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			code := -1
			if ce, ok := err.(*websocket.CloseError); ok {
				code = ce.Code
			}
			c.closed <- code
			close(c.frames)
			return
		}
		var f map[string]any
		if json.Unmarshal(data, &f) != nil {
			c.t.Errorf("server sent a frame that is not JSON: %q", data)
			continue
		}
		c.frames <- f
	}
}

func (c *agentWSClient) send(v any) {
	c.t.Helper()
	var data []byte
	switch b := v.(type) {
	case string:
		data = []byte(b)
	default:
		var err error
		data, err = json.Marshal(v)
		require.NoError(c.t, err)
	}
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, data))
}

// nextWhere returns the next frame matching ok; frames skipped are kept,
// in order, for later calls.
func (c *agentWSClient) nextWhere(what string, ok func(map[string]any) bool) map[string]any {
	c.t.Helper()
	for i, f := range c.backlog {
		if ok(f) {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return f
		}
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case f, open := <-c.frames:
			if !open {
				c.t.Fatalf("socket closed while waiting for %s; unread: %v", what, c.backlog)
			}
			if ok(f) {
				return f
			}
			c.backlog = append(c.backlog, f)
		case <-deadline:
			c.t.Fatalf("no %s in time; unread: %v", what, c.backlog)
			return nil
		}
	}
}

func (c *agentWSClient) next(typ string) map[string]any {
	c.t.Helper()
	return c.nextWhere(typ, func(f map[string]any) bool { return f["type"] == typ })
}

// until returns every frame up to and including the first matching ok.
func (c *agentWSClient) until(what string, ok func(map[string]any) bool) []map[string]any {
	c.t.Helper()
	var got []map[string]any
	c.nextWhere(what, func(f map[string]any) bool {
		got = append(got, f)
		return ok(f)
	})
	return got
}

func (c *agentWSClient) closeCode(within time.Duration) int {
	c.t.Helper()
	select {
	case code := <-c.closed:
		return code
	case <-time.After(within):
		c.t.Fatalf("socket not closed within %v", within)
		return 0
	}
}

// fakeClock moves a second forward at every reading, so a test sending
// many frames stays under the rate limit.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.t.IsZero() {
		c.t = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	c.t = c.t.Add(time.Second)
	return c.t
}

func isFrame(typ, conversationID string) func(map[string]any) bool {
	return func(f map[string]any) bool { return f["type"] == typ && f["conversation_id"] == conversationID }
}

func about(frames []map[string]any, conversationID string) []map[string]any {
	var out []map[string]any
	for _, f := range frames {
		if f["conversation_id"] == conversationID {
			out = append(out, f)
		}
	}
	return out
}

func TestAgentSocketAdmission(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	refused := func(cookie, origin string, status int, code string) {
		t.Helper()
		conn, res, err := e.dialAgent(cookie, origin)
		if conn != nil {
			conn.Close()
		}
		require.ErrorIs(t, err, websocket.ErrBadHandshake)
		require.Equal(t, status, res.StatusCode)
		require.Contains(t, res.Header.Get("Content-Type"), "application/problem+json")
		body, _ := io.ReadAll(res.Body)
		var p problemBody
		require.NoError(t, json.Unmarshal(body, &p), "%s", body)
		require.Equal(t, code, p.Code)
	}
	refused("", e.origin, http.StatusUnauthorized, "unauthorized")
	refused("sess_forged", e.origin, http.StatusUnauthorized, "unauthorized")
	// A page of another site cannot borrow the agent's cookie.
	refused(e.alice.token, "https://evil.example", http.StatusForbidden, "forbidden")
	refused(e.alice.token, "", http.StatusForbidden, "forbidden")
	refused(e.alice.token, "null", http.StatusForbidden, "forbidden")
	refused(e.alice.token, strings.Replace(e.origin, "http://", "https://", 1), http.StatusForbidden, "forbidden")
	refused(e.alice.token, e.origin+"0", http.StatusForbidden, "forbidden")

	// Origins compare as scheme://host[:port], case-insensitively.
	conn, res, err := e.dialAgent(e.alice.token, strings.ToUpper(e.origin[:4])+e.origin[4:])
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
	conn.Close()

	// A plain GET is not an upgrade.
	res, err = http.Get(e.base + "/api/v1/agent/ws")
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUpgradeRequired, res.StatusCode)
}

func TestAgentSocketLimitsSocketsPerMember(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	for range MaxAgentSocketsPerUser {
		e.connectAgent(e.alice)
	}
	conn, res, err := e.dialAgent(e.alice.token, e.origin)
	if conn != nil {
		conn.Close()
	}
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	// Another member is not affected.
	e.connectAgent(e.bob)
}

func TestAgentSocketHelloAndPresence(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	a1, hello := e.connectAgent(e.alice)
	require.Equal(t, e.alice.id, hello["user_id"])
	require.Equal(t, e.ws, hello["workspace_id"])
	require.Equal(t, "agent", hello["role"])
	require.Equal(t, "online", hello["presence"], "opening the console makes an offline agent online")
	require.EqualValues(t, MaxAgentWatches, hello["max_watches"])
	require.Equal(t, 1, e.presence.OnlineAgents(context.Background(), e.ws))

	a1.send(map[string]any{"type": "presence", "status": "away"})
	require.Equal(t, "away", a1.next("presence")["status"])
	require.Equal(t, chat.Away, e.presence.Status(e.ws, e.alice.id))
	require.Zero(t, e.presence.OnlineAgents(context.Background(), e.ws), "away agents do not take handovers")

	// A second tab keeps the status the agent chose.
	a2, hello2 := e.connectAgent(e.alice)
	require.Equal(t, "away", hello2["presence"])
	a2.send(map[string]any{"type": "presence", "status": "online"})
	require.Equal(t, "online", a2.next("presence")["status"])

	// One tab closes: the other keeps the agent online past the grace.
	require.NoError(t, a1.conn.Close())
	time.Sleep(200 * time.Millisecond)
	require.Equal(t, chat.Online, e.presence.Status(e.ws, e.alice.id))
	// The last one closes: offline after the grace period.
	require.NoError(t, a2.conn.Close())
	require.Eventually(t, func() bool { return e.presence.Status(e.ws, e.alice.id) == chat.Offline }, 2*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool { return e.sockets.Sockets() == 0 }, 2*time.Second, 10*time.Millisecond)

	// A bad status is refused, naming the field.
	b, _ := e.connectAgent(e.bob)
	b.send(map[string]any{"type": "presence", "status": "busy"})
	f := b.next("error")
	require.Equal(t, "invalid_field", f["code"])
	require.Equal(t, "status", f["field"])
}

func TestAgentSocketInboxFollowsVisibility(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	ctx := context.Background()
	preview, err := e.store.CreateConversation(ctx, e.ws, storage.NewConversation{ChannelID: e.channel.ID, VisitorID: "admin", Preview: true, State: storage.JSON(`{}`)})
	require.NoError(t, err)
	alice, _ := e.connectAgent(e.alice)
	bob, _ := e.connectAgent(e.bob)
	admin, _ := e.connectAgent(e.admin)

	x := e.queuedConv
	e.publishInbox(chat.InboxEvent{Kind: "conversation_started", ConversationID: preview.ID, Status: "bot"})
	e.publishInbox(chat.InboxEvent{Kind: "handover_requested", ConversationID: x, Status: "unassigned", Summary: &engine.Summary{Reason: "handover"}})
	e.publishInbox(chat.InboxEvent{Kind: "conversation_updated", ConversationID: x, Status: "assigned", AssigneeID: e.alice.id})
	e.publishInbox(chat.InboxEvent{Kind: "visitor_message", ConversationID: x, Status: "assigned", AssigneeID: e.alice.id})
	e.publishInbox(chat.InboxEvent{Kind: "conversation_updated", ConversationID: x, Status: "closed", AssigneeID: e.alice.id})
	e.publishInbox(chat.InboxEvent{Kind: "conversation_started", ConversationID: e.botConv, Status: "bot"})
	end := isFrame("inbox", e.botConv)

	kinds := func(frames []map[string]any) []string {
		var out []string
		for _, f := range frames {
			k := f["type"].(string)
			if f["kind"] != nil {
				k += ":" + f["kind"].(string)
			}
			out = append(out, k)
		}
		return out
	}
	got := alice.until("the last event", end)
	require.Equal(t, []string{"inbox:handover_requested", "notification:new_unassigned", "inbox:conversation_updated",
		"notification:assigned_to_you", "inbox:visitor_message", "notification:new_message", "inbox:conversation_updated"},
		kinds(about(got, x)))
	require.Empty(t, about(got, preview.ID), "an admin's preview chat is not the agents' business")

	got = bob.until("the last event", end)
	require.Equal(t, []string{"inbox:handover_requested", "notification:new_unassigned", "hidden", "inbox:conversation_updated"},
		kinds(about(got, x)), "Bob is told the chat left his view, then nothing about it until it is closed")
	closed := about(got, x)[3]
	require.Equal(t, "closed", closed["status"])
	require.Empty(t, about(got, preview.ID))

	got = admin.until("the last event", end)
	require.Equal(t, []string{"inbox:handover_requested", "notification:new_unassigned", "inbox:conversation_updated",
		"inbox:visitor_message", "inbox:conversation_updated"}, kinds(about(got, x)), "admins see everything")
	require.Len(t, about(got, preview.ID), 1)
}

func TestAgentSocketNotificationsFollowTheSettings(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	bob, _ := e.connectAgent(e.bob)

	// Bob turns new chats off but keeps "asks for a human".
	env := &routesEnv{t: t, store: e.store, srv: e.srv}
	body := map[string]bool{"notify_new_unassigned": false, "notify_assigned": true, "notify_new_message": true, "notify_human_request": true}
	env.do(e.bob.token, http.MethodPut, "/api/v1/me/notifications", body).ok(http.StatusOK, nil)

	e.publishInbox(chat.InboxEvent{Kind: "handover_requested", ConversationID: e.queuedConv, Status: "unassigned", Summary: &engine.Summary{Reason: "handover"}})
	e.publishInbox(chat.InboxEvent{Kind: "handover_requested", ConversationID: e.botConv, Status: "unassigned", Summary: &engine.Summary{Reason: "rule:human"}})
	got := bob.until("the second handover", isFrame("inbox", e.botConv))
	got = append(got, bob.next("notification"))
	var notes []string
	for _, f := range got {
		if f["type"] == "notification" {
			notes = append(notes, f["kind"].(string)+" "+f["conversation_id"].(string))
			require.NotEmpty(t, f["at"])
		}
	}
	require.Equal(t, []string{"asks_for_human " + e.botConv}, notes, "the saved settings apply to the open socket at once")
}

func TestAgentSocketReloadsSettingsSavedOnAnotherNode(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, func(a *AgentSockets) { a.SettingsTTL = time.Nanosecond })
	bob, _ := e.connectAgent(e.bob)
	// Saved as another node would: no SettingsChanged here.
	_, err := e.store.SaveAgentSettings(context.Background(), e.ws, e.bob.id, storage.AgentSettingsFields{NotifyAssigned: true})
	require.NoError(t, err)
	e.publishInbox(chat.InboxEvent{Kind: "handover_requested", ConversationID: e.queuedConv, Status: "unassigned"})
	e.publishInbox(chat.InboxEvent{Kind: "conversation_started", ConversationID: e.botConv, Status: "bot"})
	for _, f := range bob.until("the last event", isFrame("inbox", e.botConv)) {
		require.NotEqual(t, "notification", f["type"], "the settings saved elsewhere were not applied: %v", f)
	}
}

func TestAgentSocketWatchesOnlyWhatTheAgentMaySee(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	bob, _ := e.connectAgent(e.bob)

	bob.send(map[string]any{"type": "watch", "conversation_id": e.botConv})
	w := bob.next("watched")
	require.Equal(t, e.botConv, w["conversation_id"])
	require.Equal(t, "bot", w["status"])
	require.EqualValues(t, 0, w["last_seq"])

	e.publishMessage(e.botConv, 1, "hello")
	ev := bob.next("event")
	require.Equal(t, e.botConv, ev["conversation_id"])
	require.EqualValues(t, 1, ev["seq"])
	require.NoError(t, e.broker.Publish(context.Background(), chat.ConversationTopic(e.ws, e.botConv), wire.Encode(&wire.Typing{Author: wire.AuthorVisitor, On: true})))
	ty := bob.next("typing")
	require.Equal(t, e.botConv, ty["conversation_id"], "typing frames say which watched chat they are about")
	require.Equal(t, "visitor", ty["author"])
	require.Equal(t, true, ty["on"])

	// Another agent's chat, another tenant's, and an unknown id answer
	// alike: nothing tells them apart.
	for _, id := range []string{e.aliceConv, e.otherConv, "no-such-conversation"} {
		bob.send(map[string]any{"type": "watch", "conversation_id": id})
		f := bob.next("error")
		require.Equal(t, "not_found", f["code"], id)
		require.Equal(t, id, f["conversation_id"])
		require.Equal(t, "no such conversation", f["message"])
	}
	// Events of Alice's chat never reach Bob.
	e.publishMessage(e.aliceConv, 1, "secret")
	e.publishMessage(e.botConv, 2, "public")
	ev = bob.next("event")
	require.Equal(t, e.botConv, ev["conversation_id"])

	bob.send(map[string]any{"type": "watch", "conversation_id": "bad id!"})
	f := bob.next("error")
	require.Equal(t, "invalid_field", f["code"])
	require.Equal(t, "conversation_id", f["field"])

	// Unwatch: nothing more arrives.
	bob.send(map[string]any{"type": "unwatch", "conversation_id": e.botConv})
	u := bob.next("unwatched")
	require.Equal(t, "requested", u["reason"])
	e.publishMessage(e.botConv, 3, "after")
	bob.send(map[string]any{"type": "ping"})
	bob.next("pong")
	for _, f := range bob.backlog {
		require.NotEqual(t, "event", f["type"], "an unwatched chat's event arrived: %v", f)
	}

	// Admins watch anything in their workspace.
	admin, _ := e.connectAgent(e.admin)
	admin.send(map[string]any{"type": "watch", "conversation_id": e.aliceConv})
	require.Equal(t, e.alice.id, admin.next("watched")["assignee_id"])
	admin.send(map[string]any{"type": "watch", "conversation_id": e.otherConv})
	require.Equal(t, "not_found", admin.next("error")["code"])
}

func TestAgentSocketReassignmentEndsTheWatchBeforeTheNextEvent(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	bob, _ := e.connectAgent(e.bob)
	var taken []string
	for range 10 {
		// Bob watches a queued chat; Alice claims it and her first message
		// follows at once. Bob must get the unwatch and never her message,
		// however the socket's goroutines are scheduled.
		x := e.conversation(storage.StatusUnassigned, "")
		taken = append(taken, x)
		bob.send(map[string]any{"type": "watch", "conversation_id": x})
		bob.nextWhere("watched", isFrame("watched", x))
		_, err := e.store.ClaimConversation(context.Background(), e.ws, x, e.alice.id)
		require.NoError(t, err)
		e.publishInbox(chat.InboxEvent{Kind: "conversation_updated", ConversationID: x, Status: "assigned", AssigneeID: e.alice.id})
		e.publishMessage(x, 1, "from alice")
		u := bob.nextWhere("unwatched", isFrame("unwatched", x))
		require.Equal(t, "reassigned", u["reason"])
		bob.nextWhere("hidden", isFrame("hidden", x))
	}
	bob.send(map[string]any{"type": "ping"})
	bob.next("pong")
	for _, f := range bob.backlog {
		require.NotEqual(t, "event", f["type"], "an event of a chat given to Alice reached Bob: %v", f)
	}
	// And watching one again is refused.
	bob.send(map[string]any{"type": "watch", "conversation_id": taken[0]})
	require.Equal(t, "not_found", bob.next("error")["code"])
}

func TestAgentSocketWatchesAreBounded(t *testing.T) {
	t.Parallel()
	var clock fakeClock
	e := newAgentWSEnv(t, func(a *AgentSockets) { a.Now = clock.tick })
	admin, _ := e.connectAgent(e.admin)
	for range MaxAgentWatches {
		id := e.conversation(storage.StatusBot, "")
		admin.send(map[string]any{"type": "watch", "conversation_id": id})
		admin.next("watched")
	}
	// Watching one already watched is fine; a 21st is refused.
	admin.send(map[string]any{"type": "watch", "conversation_id": e.botConv})
	f := admin.next("error")
	require.Equal(t, "too_many_watches", f["code"])
}

func TestAgentSocketTyping(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	ctx := context.Background()
	sub, err := e.broker.Subscribe(ctx, chat.ConversationTopic(e.ws, e.aliceConv))
	require.NoError(t, err)
	defer sub.Close()
	alice, _ := e.connectAgent(e.alice)
	alice.send(map[string]any{"type": "typing", "conversation_id": e.aliceConv, "on": true})
	select {
	case p := <-sub.C():
		require.JSONEq(t, `{"type":"typing","author":"agent","name":"alice","on":true}`, string(p))
	case <-time.After(5 * time.Second):
		t.Fatal("the typing indicator was not relayed")
	}

	refusals := []struct {
		conv, code string
	}{
		{e.queuedConv, "not_assigned_to_you"},
		{e.bobConv, "not_found"},
		{e.otherConv, "not_found"},
	}
	for _, r := range refusals {
		alice.send(map[string]any{"type": "typing", "conversation_id": r.conv, "on": true})
		require.Equal(t, r.code, alice.next("error")["code"], r.conv)
	}
	alice.send(map[string]any{"type": "typing", "conversation_id": e.aliceConv})
	f := alice.next("error")
	require.Equal(t, "invalid_field", f["code"])
	require.Equal(t, "on", f["field"])

	conv, err := e.store.GetConversation(ctx, e.ws, e.aliceConv)
	require.NoError(t, err)
	_, err = e.store.UpdateConversation(ctx, e.ws, conv.ID, conv.Version, storage.ConversationUpdate{Status: storage.StatusClosed})
	require.NoError(t, err)
	alice.send(map[string]any{"type": "typing", "conversation_id": e.aliceConv, "on": true})
	require.Equal(t, "conversation_closed", alice.next("error")["code"])
}

func TestAgentSocketRefusesGarbage(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	c, _ := e.connectAgent(e.alice)
	cases := []struct {
		frame, code, field string
	}{
		{"not json", "bad_frame", ""},
		{`[1,2]`, "bad_frame", ""},
		{`{"type":"hello"}`, "unknown_type", "type"},
		{`{"type":"watch"}`, "invalid_field", "conversation_id"},
		{`{"type":"watch","conversation_id":7}`, "invalid_field", "conversation_id"},
		{`{"type":"typing","conversation_id":"x","on":"yes"}`, "invalid_field", "on"},
		{`{"nope":1}`, "bad_frame", "type"},
		{strings.Repeat("[", 40) + strings.Repeat("]", 40), "bad_frame", ""},
		{`{"type":"ping","x":` + strings.Repeat(`{"a":`, 20) + `1` + strings.Repeat("}", 20) + `}`, "bad_frame", ""},
	}
	for _, tc := range cases {
		c.send(tc.frame)
		f := c.next("error")
		require.Equal(t, tc.code, f["code"], tc.frame)
		if tc.field != "" {
			require.Equal(t, tc.field, f["field"], tc.frame)
		}
	}
	// The socket is still fine.
	c.send(`{"type":"ping"}`)
	c.next("pong")

	// A binary frame closes with 4000; an oversized one with 1009.
	require.NoError(t, c.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"ping"}`)))
	require.Equal(t, wire.CloseProtocol, c.closeCode(5*time.Second))
	big, _ := e.connectAgent(e.alice)
	require.NoError(t, big.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", wire.MaxFrameBytes)+`"}`)))
	require.Equal(t, wire.CloseTooBig, big.closeCode(5*time.Second))
}

func TestAgentSocketFloodIsRateLimitedThenClosed(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	c, _ := e.connectAgent(e.alice)
	other, _ := e.connectAgent(e.bob)
	for range 200 {
		if c.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)) != nil {
			break
		}
	}
	c.nextWhere("rate_limited", func(f map[string]any) bool { return f["type"] == "error" && f["code"] == "rate_limited" })
	require.Equal(t, wire.CloseRateLimited, c.closeCode(5*time.Second))
	// The other socket is unaffected.
	other.send(`{"type":"ping"}`)
	other.next("pong")
}

func TestAgentSocketSilentClientIsClosedAndFreed(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, func(a *AgentSockets) {
		a.IdleTimeout = 300 * time.Millisecond
		a.PingInterval = 100 * time.Millisecond
	})
	conn, _, err := e.dialAgent(e.alice.token, e.origin)
	require.NoError(t, err)
	defer conn.Close()
	// The client reads nothing, so it answers no ping.
	require.Eventually(t, func() bool { return e.sockets.Sockets() == 0 }, 5*time.Second, 20*time.Millisecond)
	require.Zero(t, e.presence.Sockets(e.ws, e.alice.id))
	// Reading now, it finds the server's pings (which it still does not
	// answer: the server is gone) and then the close frame.
	conn.SetPingHandler(func(string) error { return nil })
	var code int
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				code = ce.Code
			}
			break
		}
	}
	require.Equal(t, wire.CloseIdleTimeout, code)
}

func TestAgentSocketEndsWhenTheSessionEnds(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, func(a *AgentSockets) { a.AuthCheck = 50 * time.Millisecond })
	c, _ := e.connectAgent(e.alice)
	e.auth.revoke(e.alice.token)
	require.Equal(t, wire.CloseUnauthorized, c.closeCode(5*time.Second))
}

func TestAgentSocketShutdownSendsAgentsAway(t *testing.T) {
	t.Parallel()
	e := newAgentWSEnv(t, nil)
	c, _ := e.connectAgent(e.alice)
	done := make(chan struct{})
	go func() { e.sockets.Shutdown(); close(done) }()
	require.Equal(t, wire.CloseGoingAway, c.closeCode(5*time.Second))
	<-done
	require.Zero(t, e.sockets.Sockets())
	conn, res, err := e.dialAgent(e.alice.token, e.origin)
	if conn != nil {
		conn.Close()
	}
	require.ErrorIs(t, err, websocket.ErrBadHandshake)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
}

func TestAgentSocketSlowConsumerIsCutOff(t *testing.T) {
	t.Parallel()
	c := &agentConn{out: make(chan []byte, 1), done: make(chan struct{})}
	c.send([]byte(`{}`))
	select {
	case <-c.done:
		t.Fatal("kicked with room in the queue")
	default:
	}
	c.send([]byte(`{}`))
	<-c.done
	require.Equal(t, wire.CloseSlowConsumer, c.code)
}

func TestDecodeAgentFrame(t *testing.T) {
	t.Parallel()
	ok := []string{
		`{"type":"watch","conversation_id":"0190a8b2-7c1e-7c3a-9f00-000000000001"}`,
		`{"type":"unwatch","conversation_id":"cv_1"}`,
		`{"type":"typing","conversation_id":"cv_1","on":false}`,
		`{"type":"presence","status":"offline"}`,
		`{"type":"ping","future_member":{"x":[1]}}`,
	}
	for _, s := range ok {
		f, fe := decodeAgentFrame([]byte(s))
		require.Nil(t, fe, s)
		require.NotNil(t, f)
	}
	bad := map[string]wire.ErrorCode{
		``:     wire.CodeBadFrame,
		"\xff": wire.CodeBadFrame,
		`{"type":"watch","conversation_id":"` + strings.Repeat("a", 65) + `"}`: wire.CodeInvalidField,
		`{"type":"watch","conversation_id":"a\"b"}`:                            wire.CodeInvalidField,
		`{"type":"presence"}`:            wire.CodeInvalidField,
		`{"type":"message","text":"hi"}`: wire.CodeUnknownType,
		`{"type":1}`:                     wire.CodeInvalidField,
	}
	for s, code := range bad {
		_, fe := decodeAgentFrame([]byte(s))
		require.NotNil(t, fe, s)
		require.Equal(t, code, fe.Code, s)
	}
}

func FuzzDecodeAgentFrame(f *testing.F) {
	for _, s := range []string{
		`{"type":"watch","conversation_id":"cv_1"}`, `{"type":"typing","conversation_id":"c","on":true}`,
		`{"type":"presence","status":"away"}`, `{"type":"ping"}`, `[[[[`, `{"type":"unwatch","conversation_id":""}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, fe := decodeAgentFrame(data)
		if fe != nil {
			require.Nil(t, fr)
			require.NotEmpty(t, fe.Code)
			return
		}
		switch fr.Type {
		case agentTypeWatch, agentTypeUnwatch:
			require.True(t, isConversationID(fr.ConversationID))
		case wire.TypeTyping:
			require.True(t, isConversationID(fr.ConversationID))
			require.NotNil(t, fr.On)
		case agentTypePresence:
			require.Contains(t, []string{"online", "away", "offline"}, fr.Status)
		case wire.TypePing:
		default:
			t.Fatalf("accepted frame type %q", fr.Type)
		}
	})
}

func slogDiscard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeSub is a realtime.Subscription a test fills by hand.
type fakeSub struct {
	c    chan []byte
	lost chan struct{}
}

func newFakeSub() *fakeSub {
	return &fakeSub{c: make(chan []byte, 16), lost: make(chan struct{}, 1)}
}

func (s *fakeSub) Topic() string         { return "fake" }
func (s *fakeSub) C() <-chan []byte      { return s.c }
func (s *fakeSub) Lost() <-chan struct{} { return s.lost }
func (s *fakeSub) Dropped() uint64       { return 0 }
func (s *fakeSub) Close()                {}
func (s *fakeSub) push(t *testing.T, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	s.c <- b
}

// TestAgentSocketRouterHandlesEarlierInboxEventsFirst drives the router
// with both of its inputs ready at once: the reassignment on the inbox,
// and the next event of the chat from its watch. Whichever the select
// picks, the reassignment must win.
func TestAgentSocketRouterHandlesEarlierInboxEventsFirst(t *testing.T) {
	t.Parallel()
	const conv = "cv_1"
	for range 50 {
		a := &AgentSockets{Logger: slogDiscard(), Now: time.Now, SettingsTTL: time.Hour, AuthCheck: time.Hour,
			facts: &previewCache{max: 10, items: map[string]*previewEntry{}}}
		ready := make(chan struct{})
		close(ready)
		a.facts.items["ws/"+conv] = &previewEntry{ready: ready}
		c := &agentConn{a: a, out: make(chan []byte, 64), convIn: make(chan convPayload, 4), done: make(chan struct{}),
			watches: map[string]*agentWatch{}}
		c.p.Store(&Principal{WorkspaceID: "ws", UserID: "bob", Role: "agent"})
		c.setSettings(storage.DefaultAgentSettings("ws", "bob"), time.Now())
		w := &agentWatch{id: conv, sub: newFakeSub(), stop: make(chan struct{}), active: true}
		c.watches[conv] = w

		inbox := newFakeSub()
		inbox.push(t, chat.InboxEvent{Type: "inbox", Kind: "conversation_updated", ConversationID: conv, Status: "assigned", AssigneeID: "alice"})
		c.convIn <- convPayload{w: w, data: wire.Encode(&wire.Event{Seq: 9, ConversationID: conv, Kind: wire.KindMessage,
			Message: &wire.Message{ID: "m", Author: wire.AuthorAgent, Text: "secret"}})}
		done := make(chan struct{})
		go func() { defer close(done); c.route(inbox) }()
		var types []string
		for len(types) < 2 {
			var f map[string]any
			require.NoError(t, json.Unmarshal(<-c.out, &f))
			types = append(types, f["type"].(string))
		}
		require.Equal(t, []string{"unwatched", "hidden"}, types)
		c.kick(wire.CloseNormal, "")
		<-done
		require.Empty(t, c.out, "nothing follows the unwatch")
	}
}
