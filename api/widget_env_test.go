package api

import (
	"context"
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
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/wire"
)

// widgetOrigin is the page origin the test channel allows.
const widgetOrigin = "https://shop.example"

// widgetTenant is a workspace whose channel runs the lead-qualification
// template, and the services the visitor socket is built on. Several
// widgetServers may share one, as the nodes of a cluster share a database.
type widgetTenant struct {
	t       *testing.T
	store   *storage.Store
	broker  *realtime.MemoryBroker
	chat    *chat.Service
	tokens  *chat.TokenSigner
	ws      string
	channel *storage.Channel
}

func newWidgetTenant(t *testing.T) *widgetTenant {
	t.Helper()
	return newWidgetTenantOn(t, storagetest.Open(t, storage.SQLite))
}

// newWidgetTenantOn is newWidgetTenant on the given store (storagetest.Each
// runs a test on each dialect).
func newWidgetTenantOn(t *testing.T, s *storage.Store) *widgetTenant {
	t.Helper()
	ctx := context.Background()
	broker := realtime.NewMemoryBroker(realtime.MemoryConfig{Logger: quietLogger()})
	t.Cleanup(func() { _ = broker.Close() })
	svc := chat.New(chat.Config{Store: s, Publisher: broker, Logger: quietLogger()})
	tokens, err := chat.NewTokenSigner([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)

	w, err := s.CreateWorkspace(ctx, "Shop")
	require.NoError(t, err)
	ch, err := s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Shop", AllowedOrigins: []string{widgetOrigin}})
	require.NoError(t, err)
	f, err := playbooks.Template("lead-qualification")
	require.NoError(t, err)
	graph, err := json.Marshal(f.Graph)
	require.NoError(t, err)
	a, err := s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava", Graph: graph})
	require.NoError(t, err)
	_, err = s.PublishVersion(ctx, w.ID, a.ID, graph, "")
	require.NoError(t, err)
	require.NoError(t, s.ConnectAssistant(ctx, w.ID, ch.ID, a.ID))
	ch, err = s.GetChannel(ctx, w.ID, ch.ID)
	require.NoError(t, err)
	return &widgetTenant{t: t, store: s, broker: broker, chat: svc, tokens: tokens, ws: w.ID, channel: ch}
}

// conversations counts the tenant's conversations.
func (tn *widgetTenant) conversations() int64 {
	tn.t.Helper()
	n, err := tn.store.CountConversations(context.Background(), tn.ws, storage.ConversationFilter{})
	require.NoError(tn.t, err)
	return n
}

// visitorClientIDs returns the client ids of the conversation's stored
// visitor messages, in order.
func (tn *widgetTenant) visitorClientIDs(conversationID string) []string {
	tn.t.Helper()
	msgs, err := tn.store.ListMessagesAfter(context.Background(), tn.ws, conversationID, 0, 500)
	require.NoError(tn.t, err)
	var ids []string
	for _, m := range msgs {
		if m.Author == storage.AuthorVisitor {
			ids = append(ids, m.ClientID)
		}
	}
	return ids
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// widgetServer is one node: the API server with the visitor socket
// mounted, serving on loopback.
type widgetServer struct {
	t      *testing.T
	tenant *widgetTenant
	widget *Widget
	srv    *Server
	base   string
}

// serveWidget starts a node over tn; tune sets the Widget's limits before
// it is mounted.
func serveWidget(t *testing.T, tn *widgetTenant, tune func(*Widget)) *widgetServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://" + ln.Addr().String()
	cfg := config.Default()
	cfg.PublicURL = base
	srv := New(Deps{Config: cfg, Store: tn.store, Logger: quietLogger(), Auth: &bearerAuth{byToken: map[string]Principal{}}})
	w := &Widget{Store: tn.store, Chat: tn.chat, Broker: tn.broker, Tokens: tn.tokens, Logger: quietLogger(), PublicURL: base}
	if tune != nil {
		tune(w)
	}
	w.Mount(srv.App())
	go func() { _ = srv.App().Listener(ln) }()
	t.Cleanup(func() {
		w.Shutdown()
		_ = srv.App().ShutdownWithTimeout(2 * time.Second)
	})
	return &widgetServer{t: t, tenant: tn, widget: w, srv: srv, base: base}
}

func (n *widgetServer) wsURL() string {
	return strings.Replace(n.base, "http://", "ws://", 1) + "/api/v1/widget/ws?key=" + n.tenant.channel.PublicKey
}

// dialFrom opens a visitor socket from the loopback address src ("" for
// the system's choice, 127.0.0.1) with extra request headers.
func (n *widgetServer) dialFrom(src string, extra http.Header) (*websocket.Conn, *http.Response, error) {
	nd := &net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		nd.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	h := http.Header{"Origin": {widgetOrigin}}
	for k, v := range extra {
		h[k] = v
	}
	d := websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 5 * time.Second}
	return d.Dial(n.wsURL(), h)
}

// widgetClient is a visitor socket whose frames are read in the
// background.
type widgetClient struct {
	t       *testing.T
	conn    *websocket.Conn
	frames  chan map[string]any
	closed  chan *websocket.CloseError
	backlog []map[string]any
	welcome map[string]any
}

// hello opens a socket from src and sends hello; it returns the client
// before any answer is read.
func (n *widgetServer) hello(src string, h wire.Hello) *widgetClient {
	n.t.Helper()
	conn, _, err := n.dialFrom(src, nil)
	require.NoError(n.t, err)
	c := &widgetClient{t: n.t, conn: conn, frames: make(chan map[string]any, 1024), closed: make(chan *websocket.CloseError, 1)}
	go c.read()
	n.t.Cleanup(func() { _ = conn.Close() })
	c.send(wire.EncodeClient(&h))
	return c
}

// visitor opens a socket from src and waits for its welcome.
func (n *widgetServer) visitor(src string, h wire.Hello) *widgetClient {
	n.t.Helper()
	c := n.hello(src, h)
	c.welcome = c.next("welcome")
	return c
}

func (c *widgetClient) conversation() string { return c.welcome["conversation_id"].(string) }
func (c *widgetClient) token() string        { return c.welcome["token"].(string) }

func (c *widgetClient) read() {
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			ce, _ := err.(*websocket.CloseError)
			c.closed <- ce
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

func (c *widgetClient) send(frame []byte) {
	c.t.Helper()
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, frame))
}

func (c *widgetClient) say(clientID, text string) {
	c.t.Helper()
	c.send(wire.EncodeClient(&wire.ClientMessage{ClientID: clientID, Text: text}))
}

// next returns the next frame of type typ; frames of other types are
// kept, in order, for later calls.
func (c *widgetClient) next(typ string) map[string]any {
	c.t.Helper()
	for i, f := range c.backlog {
		if f["type"] == typ {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return f
		}
	}
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("socket closed while waiting for %q (backlog %v)", typ, c.backlog)
			}
			if f["type"] == typ {
				return f
			}
			c.backlog = append(c.backlog, f)
		case <-deadline:
			c.t.Fatalf("no %q frame in time (backlog %v)", typ, c.backlog)
		}
	}
}

// answer returns the ack or error frame that answers the message with
// clientID: an ack names it; an error is the next one.
func (c *widgetClient) answer(clientID string) map[string]any {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for i, f := range c.backlog {
		if (f["type"] == "ack" && f["client_id"] == clientID) || f["type"] == "error" {
			c.backlog = append(c.backlog[:i:i], c.backlog[i+1:]...)
			return f
		}
	}
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("socket closed while waiting for the answer to %q", clientID)
			}
			if (f["type"] == "ack" && f["client_id"] == clientID) || f["type"] == "error" {
				return f
			}
			c.backlog = append(c.backlog, f)
		case <-deadline:
			c.t.Fatalf("no answer to %q in time", clientID)
		}
	}
}

// closeError waits for the server to close the socket and returns its
// close frame.
func (c *widgetClient) closeError() *websocket.CloseError {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-c.frames:
			if ok {
				c.backlog = append(c.backlog, f)
				continue
			}
			ce := <-c.closed
			require.NotNil(c.t, ce, "the socket ended without a close frame")
			return ce
		case <-timeout:
			c.t.Fatal("the socket was not closed in time")
		}
	}
}

// alive checks the socket still answers a ping frame.
func (c *widgetClient) alive() {
	c.t.Helper()
	c.send(wire.EncodeClient(&wire.Ping{}))
	c.next("pong")
}

// limiterClock is a settable clock for the memory limiter.
type limiterClock struct {
	mu  sync.Mutex
	now time.Time
}

func newLimiterClock() *limiterClock { return &limiterClock{now: time.Unix(1_800_000_000, 0)} }

func (c *limiterClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *limiterClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
