package api

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/wire"
)

// The server reads a request's line and headers into MaxRequestHeaderBytes
// and gives that buffer back once the request is read, so a websocket keeps
// none of it. These tests pin what that bound lets through and what it
// refuses.
func TestRequestHeaderBound(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	n := serveWidget(t, tn, nil)

	// A cookie jar of 5 KiB: a parent domain's analytics and consent
	// cookies besides the session.
	jar := "fd_session=" + strings.Repeat("s", 43) + "; " + strings.Repeat("_ga_ABCDEFGH=GS1.1.1700000000.1.1.1700000000.0.0.0; ", 100)
	require.Greater(t, len(jar), 5000)
	require.Less(t, len(jar), MaxRequestHeaderBytes-1024)

	t.Run("the widget's upgrade", func(t *testing.T) {
		c := n.visitor("", wire.Hello{})
		c.next("event") // the greeting
		c.alive()

		conn, _, err := n.dialFrom("", http.Header{"Cookie": {jar}, "User-Agent": {strings.Repeat("Mozilla/5.0 ", 20)}})
		require.NoError(t, err, "an upgrade with a large cookie jar is accepted")
		require.NoError(t, conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.Hello{})))
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
		_, data, err := conn.ReadMessage()
		require.NoError(t, err)
		require.Contains(t, string(data), `"type":"welcome"`)
		conn.Close()
	})

	t.Run("a large-ish API request", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, n.base+"/api/v1/openapi.json", nil)
		require.NoError(t, err)
		req.Header.Set("Cookie", jar)
		req.Header.Set("Authorization", "Bearer "+strings.Repeat("t", 1024))
		req.Header.Set("X-CSRF-Token", strings.Repeat("c", 43))
		req.Header.Set("Referer", n.base+"/app/assistants/"+strings.Repeat("a", 300))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
	})

	t.Run("an oversized header gets 431", func(t *testing.T) {
		for _, size := range []int{MaxRequestHeaderBytes + 1, 64 << 10} {
			status, body := rawRequest(t, n.base, "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("b", size)+"\r\n\r\n")
			require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status, "%d bytes", size)
			var p Problem
			require.NoError(t, json.Unmarshal(body, &p), "%s", body)
			require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, p.Status)
			require.Equal(t, "too_large", p.Code)
			require.Contains(t, p.Detail, "headers are over the limit")
		}
		// The same for an upgrade, and the server goes on serving.
		_, res, err := n.dialFrom("", http.Header{"Cookie": {strings.Repeat("c", MaxRequestHeaderBytes)}})
		require.Error(t, err)
		require.NotNil(t, res)
		require.Equal(t, http.StatusRequestHeaderFieldsTooLarge, res.StatusCode)
		c := n.visitor("", wire.Hello{})
		c.alive()
	})
}

// rawRequest writes raw to the server on a connection of its own and
// returns the response's status and body.
func rawRequest(t *testing.T, base, raw string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	// The server may answer and close before it has read everything.
	go func() { _, _ = io.WriteString(conn, raw) }()
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err)
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

// TestVisitorSocketSlowReader: a visitor socket's subscription has a small
// buffer (SubscriptionBuffer). When the client stops reading, the socket's
// writer blocks, the subscription overflows and drops what does not fit;
// once the client reads again it gets a resync ("missed") and reloads
// history, and the socket goes on working. Nothing waits on the slow
// reader: publishing never blocks.
func TestVisitorSocketSlowReader(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	n := serveWidget(t, tn, func(w *Widget) { w.SubscriptionBuffer = 2 })
	require.Equal(t, 2, n.widget.SubscriptionBuffer)
	conn, _, err := n.dialFrom("", nil)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.Hello{})))
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	var welcome wire.Welcome
	for welcome.ConversationID == "" {
		_, data, err := conn.ReadMessage()
		require.NoError(t, err)
		if strings.Contains(string(data), `"type":"welcome"`) {
			require.NoError(t, json.Unmarshal(data, &welcome))
		}
	}

	// The client reads nothing while 24 MB of frames are published: far
	// more than the socket buffers hold, so the writer blocks and the
	// subscription overflows.
	topic := chat.ConversationTopic(tn.ws, welcome.ConversationID)
	pad := strings.Repeat("x", 60<<10)
	published := make(chan struct{})
	go func() {
		defer close(published)
		for i := 0; i < 400; i++ {
			frame := []byte(`{"type":"typing","author":"bot","on":true,"pad":"` + pad + `"}`)
			if err := tn.broker.Publish(context.Background(), topic, frame); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("publishing waited on the slow reader")
	}

	resynced := false
	for !resynced {
		_, data, err := conn.ReadMessage()
		require.NoError(t, err, "the socket stays open")
		resynced = strings.Contains(string(data), `"type":"resync"`) && strings.Contains(string(data), `"reason":"missed"`)
	}
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.Ping{})))
	for {
		_, data, err := conn.ReadMessage()
		require.NoError(t, err)
		if strings.Contains(string(data), `"type":"pong"`) {
			break
		}
	}
}

// sizeSpy records the buffer sizes subscriptions are asked for.
type sizeSpy struct {
	*realtime.MemoryBroker
	mu    sync.Mutex
	sizes []int
}

func (b *sizeSpy) SubscribeBuffered(ctx context.Context, topic string, size int) (realtime.Subscription, error) {
	b.mu.Lock()
	b.sizes = append(b.sizes, size)
	b.mu.Unlock()
	return b.MemoryBroker.SubscribeBuffered(ctx, topic, size)
}

func TestVisitorSocketSubscribesWithASmallBuffer(t *testing.T) {
	t.Parallel()
	tn := newWidgetTenant(t)
	spy := &sizeSpy{MemoryBroker: tn.broker}
	n := serveWidget(t, tn, func(w *Widget) { w.Broker = spy })
	c := n.visitor("", wire.Hello{})
	c.next("event")
	spy.mu.Lock()
	defer spy.mu.Unlock()
	require.Equal(t, []int{VisitorSubscriptionBuffer}, spy.sizes)
}
