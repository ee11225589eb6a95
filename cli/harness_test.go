package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
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

	"github.com/frontdesk/frontdesk/cli"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/wire"
)

// shopOrigin is the page origin the test channels allow.
const shopOrigin = "https://shop.example"

// node is one running frontdesk server on loopback.
type node struct {
	t      *testing.T
	srv    *cli.Server
	base   string
	cancel context.CancelFunc
	done   chan error
}

// startNode builds and runs a server on dbURL. tune may shorten its
// timeouts before it serves.
func startNode(t *testing.T, dbURL string, tune func(*cli.Server)) *node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	cfg := config.Default()
	cfg.Addr = ln.Addr().String()
	cfg.PublicURL = "http://" + cfg.Addr
	cfg.DatabaseURL = dbURL
	cfg.Migrate = true
	cfg.ShutdownTimeout = 5 * time.Second
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := cli.Build(context.Background(), cfg, log, cli.Env{Stdout: io.Discard, Stderr: io.Discard})
	require.NoError(t, err)
	if tune != nil {
		tune(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{t: t, srv: srv, base: cfg.PublicURL, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- srv.Run(ctx, ln) }()
	t.Cleanup(n.stop)
	return n
}

// stop shuts the node down gracefully (idempotent).
func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.t.Error("server did not stop in time")
	}
}

// tenant is a workspace with a channel running a published template.
type tenant struct {
	ws      string
	channel *storage.Channel
}

func seedTenant(t *testing.T, store *storage.Store, template string) tenant {
	t.Helper()
	ctx := context.Background()
	w, err := store.CreateWorkspace(ctx, "Tenant "+template)
	require.NoError(t, err)
	ch, err := store.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Shop", AllowedOrigins: []string{shopOrigin}})
	require.NoError(t, err)
	if template != "" {
		f, err := playbooks.Template(template)
		require.NoError(t, err)
		graph, err := json.Marshal(f.Graph)
		require.NoError(t, err)
		a, err := store.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava", Graph: graph})
		require.NoError(t, err)
		_, err = store.PublishVersion(ctx, w.ID, a.ID, graph, "")
		require.NoError(t, err)
		require.NoError(t, store.ConnectAssistant(ctx, w.ID, ch.ID, a.ID))
		ch, err = store.GetChannel(ctx, w.ID, ch.ID)
		require.NoError(t, err)
	}
	return tenant{ws: w.ID, channel: ch}
}

// visitor is a widget speaking the protocol over a real websocket.
type visitor struct {
	t       *testing.T
	conn    *websocket.Conn
	welcome wire.Welcome
	frames  chan map[string]any
	closed  chan int
	mu      sync.Mutex
	seen    []int64
	backlog []map[string]any
}

func wsURL(base, key string) string {
	return strings.Replace(base, "http://", "ws://", 1) + "/api/v1/widget/ws?key=" + key
}

func dial(t *testing.T, base, key, origin string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(wsURL(base, key), h)
}

// connect opens a socket and sends hello; it waits for the welcome.
func connect(t *testing.T, base, key string, hello wire.Hello) *visitor {
	t.Helper()
	conn, _, err := dial(t, base, key, shopOrigin)
	require.NoError(t, err)
	v := &visitor{t: t, conn: conn, frames: make(chan map[string]any, 1024), closed: make(chan int, 1)}
	go v.read()
	t.Cleanup(func() { conn.Close() })
	v.send(wire.EncodeClient(&hello))
	f := v.next("welcome")
	raw, _ := json.Marshal(f)
	require.NoError(t, json.Unmarshal(raw, &v.welcome))
	return v
}

func (v *visitor) read() {
	for {
		_, data, err := v.conn.ReadMessage()
		if err != nil {
			code := -1
			if ce, ok := err.(*websocket.CloseError); ok {
				code = ce.Code
			}
			v.closed <- code
			close(v.frames)
			return
		}
		var f map[string]any
		if json.Unmarshal(data, &f) != nil {
			v.t.Errorf("server sent a frame that is not JSON: %q", data)
			continue
		}
		if f["type"] == "event" {
			v.mu.Lock()
			v.seen = append(v.seen, int64(f["seq"].(float64)))
			v.mu.Unlock()
		}
		v.frames <- f
	}
}

func (v *visitor) send(frame []byte) {
	v.t.Helper()
	require.NoError(v.t, v.conn.WriteMessage(websocket.TextMessage, frame))
}

func (v *visitor) say(clientID, text string) {
	v.t.Helper()
	v.send(wire.EncodeClient(&wire.ClientMessage{ClientID: clientID, Text: text}))
}

// take returns the next frame, from the frames put back first.
func (v *visitor) take(deadline <-chan time.Time) (map[string]any, bool) {
	if len(v.backlog) > 0 {
		f := v.backlog[0]
		v.backlog = v.backlog[1:]
		return f, true
	}
	select {
	case f, ok := <-v.frames:
		return f, ok
	case <-deadline:
		v.t.Fatalf("no frame in time")
		return nil, false
	}
}

// next returns the next frame of type typ. Frames of other types are kept,
// in order, for later calls.
func (v *visitor) next(typ string) map[string]any {
	v.t.Helper()
	deadline := time.After(10 * time.Second)
	var skipped []map[string]any
	defer func() { v.backlog = append(skipped, v.backlog...) }()
	for {
		f, ok := v.take(deadline)
		if !ok {
			v.t.Fatalf("socket closed while waiting for %s", typ)
		}
		if f["type"] == typ {
			return f
		}
		skipped = append(skipped, f)
	}
}

// until collects bot and system message texts until one contains want.
func (v *visitor) until(want string) []string {
	v.t.Helper()
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		f, ok := v.take(deadline)
		if !ok {
			v.t.Fatalf("socket closed waiting for %q; got %q", want, got)
		}
		if f["type"] != "event" {
			continue
		}
		m := f["message"].(map[string]any)
		if m["author"] == "visitor" {
			continue
		}
		text := m["text"].(string)
		got = append(got, text)
		if strings.Contains(text, want) {
			return got
		}
	}
}

// closeCode waits for the server to close the socket and returns its code.
func (v *visitor) closeCode(within time.Duration) int {
	v.t.Helper()
	select {
	case code := <-v.closed:
		return code
	case <-time.After(within):
		v.t.Fatalf("socket not closed within %v", within)
		return 0
	}
}

func (v *visitor) seqs() []int64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]int64(nil), v.seen...)
}

// fastForward makes a conversation's pending timers due now; the timer
// worker fires them within its poll interval.
func fastForward(t *testing.T, store *storage.Store, ws, conversationID string) {
	t.Helper()
	ctx := context.Background()
	timers, err := store.ListTimers(ctx, ws, conversationID)
	require.NoError(t, err)
	require.NotEmpty(t, timers, "no timer to fast-forward")
	for _, tm := range timers {
		_, err := store.SetTimer(ctx, ws, storage.NewTimer{ConversationID: conversationID, Name: tm.Name, FireAt: time.Now().Add(-time.Second), Payload: tm.Payload})
		require.NoError(t, err)
	}
}

// eachDatabase runs fn on a fresh SQLite file and a fresh Postgres schema.
func eachDatabase(t *testing.T, fn func(t *testing.T, dbURL string)) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			t.Parallel()
			fn(t, storagetest.URL(t, d))
		})
	}
}

// nextOrClose is next, but returns nil when the socket closes first.
func (v *visitor) nextOrClose(typ string) map[string]any {
	v.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		var f map[string]any
		var ok bool
		if len(v.backlog) > 0 {
			f, ok = v.backlog[0], true
			v.backlog = v.backlog[1:]
		} else {
			select {
			case f, ok = <-v.frames:
			case <-deadline:
				v.t.Fatalf("no %s frame in time", typ)
			}
		}
		if !ok {
			return nil
		}
		if f["type"] == typ {
			return f
		}
	}
}
