package cli_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/cli"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

func TestVisitorRunsLeadQualificationToTheEnd(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en-US"})
		require.NotEmpty(t, v.welcome.Token)
		require.Equal(t, "Ava", v.welcome.Assistant.Name)
		v.until("Looking for the right plan")

		steps := []struct{ say, want string }{
			{"Get a quote", "How many people"},
			{"4", "monthly budget"},
			{"$200", "work email"},
			{"solo@example.com", "When would you like to start"},
			{"Just exploring", "What's your name?"},
			{"Léa", "company's name"},
			{"skip", "Thanks Léa!"},
		}
		for i, s := range steps {
			v.say(fmt.Sprintf("m%d", i), s.say)
			ack := v.next("ack")
			require.Equal(t, fmt.Sprintf("m%d", i), ack["client_id"])
			v.until(s.want)
		}
		ctx := context.Background()
		conv, err := n.srv.Store.GetConversation(ctx, tn.ws, v.welcome.ConversationID)
		require.NoError(t, err)
		require.Equal(t, storage.StatusClosed, conv.Status)
		leads, err := n.srv.Store.ListLeads(ctx, tn.ws, storage.LeadFilter{ConversationID: conv.ID})
		require.NoError(t, err)
		require.Len(t, leads, 1)
		require.Equal(t, "solo@example.com", leads[0].Email)

		// Seqs arrived in order, each once.
		seqs := v.seqs()
		for i := 1; i < len(seqs); i++ {
			require.Equal(t, seqs[i-1]+1, seqs[i], "seqs %v", seqs)
		}
		// The closed chat refuses more messages with a typed error.
		v.say("late", "hello?")
		e := v.next("error")
		require.Equal(t, string(wire.CodeConversationClosed), e["code"])
	})
}

func TestLiveChatTimesOutToCaptureAcrossARestart(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		n.srv.Presence.Set(tn.ws, "agent-1", chat.Online)
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("You're in the queue")
		conv := v.welcome.ConversationID

		// The server restarts during the handover wait.
		n.stop()
		n2 := startNode(t, dbURL, nil)
		n2.srv.Presence.Set(tn.ws, "agent-1", chat.Online)
		v2 := connect(t, n2.base, tn.channel.PublicKey, wire.Hello{Token: v.welcome.Token, LastSeq: v.seqs()[len(v.seqs())-1]})
		require.Equal(t, conv, v2.welcome.ConversationID, "the visitor resumes their conversation")

		fastForward(t, n2.srv.Store, tn.ws, conv)
		v2.until("What's your name?")

		// The timer fired once: one offline message in the transcript.
		ctx := context.Background()
		msgs, err := n2.srv.Store.ListMessages(ctx, tn.ws, conv, 500)
		require.NoError(t, err)
		offline := 0
		for _, m := range msgs {
			if strings.Contains(m.Body, "isn't available right now") {
				offline++
			}
		}
		require.Equal(t, 1, offline)
		timers, err := n2.srv.Store.ListTimers(ctx, tn.ws, conv)
		require.NoError(t, err)
		require.Empty(t, timers)

		v2.say("a", "Jane Doe")
		v2.until("Which email")
		v2.say("b", "jane@example.com")
		v2.until("How can we help?")
		v2.say("c", "Please call me back.")
		v2.until("Thanks Jane Doe!")
		leads, err := n2.srv.Store.ListLeads(ctx, tn.ws, storage.LeadFilter{ConversationID: conv})
		require.NoError(t, err)
		require.Len(t, leads, 1)
		require.Equal(t, "jane@example.com", leads[0].Email)
	})
}

func TestDroppedConnectionResumesWithExactlyTheMissedMessages(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "live-chat")
		n.srv.Presence.Set(tn.ws, "agent-1", chat.Online)
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Locale: "en"})
		v.until("You're in the queue")
		before := v.seqs()
		last := before[len(before)-1]
		v.conn.Close()

		// While the visitor is away, the wait ends and the bot writes.
		fastForward(t, n.srv.Store, tn.ws, v.welcome.ConversationID)
		require.Eventually(t, func() bool {
			c, err := n.srv.Store.GetConversation(context.Background(), tn.ws, v.welcome.ConversationID)
			return err == nil && c.LastSeq >= last+2
		}, 10*time.Second, 50*time.Millisecond)

		v2 := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Token: v.welcome.Token, LastSeq: last})
		got := v2.until("What's your name?")
		require.Len(t, got, 2, "exactly the missed messages: %q", got)
		require.Equal(t, []int64{last + 1, last + 2}, v2.seqs())
	})
}

func TestRetriedClientIDIsStoredOnceAndAckedTheSame(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{})
		v.until("Looking for the right plan")
		v.say("same", "Get a quote")
		first := v.next("ack")
		v.until("How many people")
		// The widget retries after a reconnect, with the same client id.
		v2 := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Token: v.welcome.Token, LastSeq: v.seqs()[len(v.seqs())-1]})
		v2.say("same", "Get a quote")
		again := v2.next("ack")
		require.Equal(t, first["seq"], again["seq"])
		require.Equal(t, true, again["duplicate"])
		msgs, err := n.srv.Store.ListMessages(context.Background(), tn.ws, v.welcome.ConversationID, 500)
		require.NoError(t, err)
		count := 0
		for _, m := range msgs {
			if m.Body == "Get a quote" {
				count++
			}
		}
		require.Equal(t, 1, count)
	})
}

func TestWidgetKeyAndOriginAreChecked(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		a := seedTenant(t, n.srv.Store, "lead-qualification")
		ctx := context.Background()
		// Tenant B allows another origin.
		w, err := n.srv.Store.CreateWorkspace(ctx, "B")
		require.NoError(t, err)
		b, err := n.srv.Store.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "B", AllowedOrigins: []string{"https://b.example"}})
		require.NoError(t, err)

		for name, c := range map[string]struct{ key, origin string }{
			"unknown key":              {"pk_nope", shopOrigin},
			"origin not allowed":       {a.channel.PublicKey, "https://evil.example"},
			"no origin":                {a.channel.PublicKey, ""},
			"another tenant's key":     {b.PublicKey, shopOrigin},
			"origin with a path trick": {a.channel.PublicKey, "https://shop.example.evil.example"},
		} {
			_, resp, err := dial(t, n.base, c.key, c.origin)
			require.Error(t, err, name)
			require.NotNil(t, resp, name)
			require.Equal(t, http.StatusForbidden, resp.StatusCode, name)
			require.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"), name)
		}

		// A token of tenant A's conversation on tenant B's channel is refused.
		v := connect(t, n.base, a.channel.PublicKey, wire.Hello{})
		conn, _, err := dial(t, n.base, b.PublicKey, "https://b.example")
		require.NoError(t, err)
		defer conn.Close()
		require.NoError(t, conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.Hello{Token: v.welcome.Token})))
		_, _, err = conn.ReadMessage()
		var ce *websocket.CloseError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, wire.CloseUnauthorized, ce.Code)
	})
}

func TestVisitorInputIsBoundedAndStoredAsText(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		v := connect(t, n.base, tn.channel.PublicKey, wire.Hello{})
		v.until("Looking for the right plan")

		for _, bad := range []string{
			`{"type":"message","client_id":"x1","text":"` + strings.Repeat("a", wire.MaxTextBytes+1) + `"}`,
			`{"type":"message","client_id":"x2","text":"nul\u0000byte"}`,
			`{"type":"message","client_id":"x3","text":""}`,
			`{"type":"message","client_id":"bad id!","text":"hi"}`,
			"{\"type\":\"message\",\"client_id\":\"x4\",\"text\":\"\xff\xfe\"}",
		} {
			v.send([]byte(bad))
			e := v.next("error")
			require.Contains(t, []any{string(wire.CodeInvalidField), string(wire.CodeBadFrame)}, e["code"], bad[:40])
		}
		// Markup and expression syntax are stored and echoed as plain text.
		for i, text := range []string{
			`<img src=x onerror=alert(1)>`, `<svg onload=alert(1)>`, `[click](javascript:alert(1))`,
			`{{vars.email}} && repeat("a", 1e9)`,
		} {
			v.say(fmt.Sprintf("t%d", i), text)
			v.next("ack")
		}
		msgs, err := n.srv.Store.ListMessages(context.Background(), tn.ws, v.welcome.ConversationID, 500)
		require.NoError(t, err)
		var bodies []string
		for _, m := range msgs {
			if m.Author == storage.AuthorVisitor {
				bodies = append(bodies, m.Body)
			}
		}
		require.Equal(t, []string{`<img src=x onerror=alert(1)>`, `<svg onload=alert(1)>`, `[click](javascript:alert(1))`, `{{vars.email}} && repeat("a", 1e9)`}, bodies,
			"nothing invalid was stored; the rest verbatim")
	})
}

func TestWebsocketProtocolAbuse(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, func(s *cli.Server) {
			s.Widget.HelloTimeout = 300 * time.Millisecond
			s.Widget.IdleTimeout = 600 * time.Millisecond
			s.Widget.PingInterval = 200 * time.Millisecond
			s.Widget.ReplayLimit = 3
		})
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		key := tn.channel.PublicKey

		t.Run("oversized frame closes with 1009", func(t *testing.T) {
			v := connect(t, n.base, key, wire.Hello{})
			v.send([]byte(`{"type":"message","client_id":"big","text":"` + strings.Repeat("a", wire.MaxFrameBytes) + `"}`))
			require.Equal(t, wire.CloseTooBig, v.closeCode(5*time.Second))
		})

		t.Run("fragmented oversized frame with pings in between closes with 1009", func(t *testing.T) {
			code := rawFragmented(t, n.base, key)
			require.Equal(t, wire.CloseTooBig, code)
		})

		t.Run("garbage before hello closes with 4000", func(t *testing.T) {
			conn, _, err := dial(t, n.base, key, shopOrigin)
			require.NoError(t, err)
			defer conn.Close()
			require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("not json")))
			require.Equal(t, wire.CloseProtocol, readClose(t, conn))
		})

		t.Run("garbage after hello gets typed errors and the socket lives", func(t *testing.T) {
			v := connect(t, n.base, key, wire.Hello{})
			deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
			for frame, code := range map[string]wire.ErrorCode{
				"not json":                      wire.CodeBadFrame,
				`{"type":"launch_missiles"}`:    wire.CodeUnknownType,
				`{"type":"message","x":` + deep: wire.CodeBadFrame,
				`[1,2,3]`:                       wire.CodeBadFrame,
			} {
				v.send([]byte(frame))
				require.Equal(t, string(code), v.next("error")["code"], frame[:min(len(frame), 30)])
			}
			v.send([]byte(`{"type":"ping"}`))
			v.next("pong")
		})

		t.Run("silent client is cut off", func(t *testing.T) {
			conn, _, err := dial(t, n.base, key, shopOrigin)
			require.NoError(t, err)
			defer conn.Close()
			// No hello at all.
			require.Equal(t, wire.CloseProtocol, readClose(t, conn))

			// A client that says hello and then never reads (so never
			// answers pings) is closed for idleness.
			raw := rawHello(t, n.base, key)
			defer raw.Close()
			raw.SetReadDeadline(time.Now().Add(10 * time.Second))
			require.Equal(t, wire.CloseIdleTimeout, rawCloseCode(t, raw))
		})

		t.Run("flooding is rate limited, then closed, others unaffected", func(t *testing.T) {
			flood := connect(t, n.base, key, wire.Hello{})
			calm := connect(t, n.base, key, wire.Hello{})
			for i := 0; i < 200; i++ {
				if err := flood.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"ping"}`)); err != nil {
					break
				}
			}
			limited := false
			for f := range flood.frames {
				if f["type"] == "error" && f["code"] == string(wire.CodeRateLimited) {
					limited = true
				}
			}
			require.True(t, limited)
			require.Equal(t, wire.CloseRateLimited, <-flood.closed)
			calm.say("c1", "Get a quote")
			calm.until("How many people")
		})

		t.Run("a gap too old to replay gets a resync", func(t *testing.T) {
			v := connect(t, n.base, key, wire.Hello{})
			v.until("Looking for the right plan")
			v.say("a", "Get a quote")
			v.until("How many people")
			v.say("b", "12")
			v.until("monthly budget")
			v.conn.Close()
			v2 := connect(t, n.base, key, wire.Hello{Token: v.welcome.Token, LastSeq: 0})
			require.Equal(t, wire.ResyncGapTooOld, v2.next("resync")["reason"])
			// The history endpoint gives what the client reloads.
			req, _ := http.NewRequest(http.MethodGet, n.base+"/api/v1/widget/history?key="+key, nil)
			req.Header.Set("Origin", shopOrigin)
			req.Header.Set("Authorization", "Bearer "+v2.welcome.Token)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
		})
	})
}

func readClose(t *testing.T, conn *websocket.Conn) int {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.ErrorAs(t, err, &ce)
			return ce.Code
		}
	}
}

// rawConn is a websocket client written by hand, to send what well-behaved
// libraries never send: fragments with pings between them, and silence.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func rawDial(t *testing.T, base, key string) *rawConn {
	t.Helper()
	addr := strings.TrimPrefix(base, "http://")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	nonce := make([]byte, 16)
	rand.Read(nonce)
	fmt.Fprintf(c, "GET /api/v1/widget/ws?key=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nOrigin: %s\r\n\r\n", key, addr, base64.StdEncoding.EncodeToString(nonce), shopOrigin)
	r := bufio.NewReader(c)
	resp, err := http.ReadResponse(r, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	return &rawConn{Conn: c, r: r}
}

// frame writes one masked frame.
func (c *rawConn) frame(fin bool, opcode byte, payload []byte) error {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	hdr := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		hdr = append(hdr, 0x80|byte(n))
	case n < 1<<16:
		hdr = append(hdr, 0x80|126, byte(n>>8), byte(n))
	default:
		hdr = append(hdr, 0x80|127, 0, 0, 0, 0, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	mask := []byte{1, 2, 3, 4}
	hdr = append(hdr, mask...)
	masked := make([]byte, len(payload))
	for i := range payload {
		masked[i] = payload[i] ^ mask[i%4]
	}
	_, err := c.Write(append(hdr, masked...))
	return err
}

func rawCloseCode(t *testing.T, c *rawConn) int {
	t.Helper()
	for {
		h0, err := c.r.ReadByte()
		if err != nil {
			t.Fatalf("connection ended without a close frame: %v", err)
		}
		h1, _ := c.r.ReadByte()
		n := int(h1 & 0x7f)
		switch n {
		case 126:
			b := make([]byte, 2)
			c.r.Read(b)
			n = int(b[0])<<8 | int(b[1])
		case 127:
			b := make([]byte, 8)
			c.r.Read(b)
			n = int(b[6])<<8 | int(b[7]) | int(b[5])<<16
		}
		payload := make([]byte, n)
		if _, err := ioReadFull(c.r, payload); err != nil {
			t.Fatal(err)
		}
		if h0&0x0f == 0x8 {
			if len(payload) < 2 {
				return 1005
			}
			return int(payload[0])<<8 | int(payload[1])
		}
	}
}

func ioReadFull(r *bufio.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func rawHello(t *testing.T, base, key string) *rawConn {
	c := rawDial(t, base, key)
	require.NoError(t, c.frame(true, 0x1, wire.EncodeClient(&wire.Hello{})))
	return c
}

// rawFragmented sends a frame in fragments with pings between them until it
// passes the limit, and returns the close code the server answers with.
func rawFragmented(t *testing.T, base, key string) int {
	c := rawHello(t, base, key)
	defer c.Close()
	chunk := []byte(strings.Repeat("a", 4096))
	require.NoError(t, c.frame(false, 0x1, []byte(`{"type":"message","client_id":"f","text":"`)))
	for i := 0; i < 8; i++ {
		if c.frame(true, 0x9, []byte("ping")) != nil || c.frame(false, 0x0, chunk) != nil {
			break
		}
	}
	_ = c.frame(true, 0x0, []byte(`"}`))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	return rawCloseCode(t, c)
}

func TestChatFrameNamesThePageOrigin(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		key := tn.channel.PublicKey
		frame := func(origin, named string) (*http.Response, error) {
			h := http.Header{}
			if origin != "" {
				h.Set("Origin", origin)
			}
			u := wsURL(n.base, key)
			if named != "" {
				u += "&origin=" + named
			}
			conn, resp, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(u, h)
			if err == nil {
				conn.Close()
			}
			return resp, err
		}
		// The frame (Frontdesk's own origin) naming an allowed page connects.
		_, err := frame(n.base, shopOrigin)
		require.NoError(t, err)
		// Naming a page that is not allowed does not.
		resp, err := frame(n.base, "https://evil.example")
		require.Error(t, err)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		// A foreign page cannot borrow the allowed page's name: its own
		// Origin is judged.
		resp, err = frame("https://evil.example", shopOrigin)
		require.Error(t, err)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
		// Frontdesk's own origin without naming a page is not on the list.
		resp, err = frame(n.base, "")
		require.Error(t, err)
		require.Equal(t, http.StatusForbidden, resp.StatusCode)
	})
}

func TestUnsignedIdentityMergesNothing(t *testing.T) {
	eachDatabase(t, func(t *testing.T, dbURL string) {
		n := startNode(t, dbURL, nil)
		tn := seedTenant(t, n.srv.Store, "lead-qualification")
		ada := connect(t, n.base, tn.channel.PublicKey, wire.Hello{})
		ada.until("Looking for the right plan")
		ada.say("a1", "Get a quote")
		ada.until("How many people")
		conv, err := n.srv.Store.GetConversation(context.Background(), tn.ws, ada.welcome.ConversationID)
		require.NoError(t, err)

		// Someone else claims to be Ada, by id and email, with a forged
		// signature: a new, anonymous visitor with a conversation of their
		// own, and none of Ada's history.
		mallory := connect(t, n.base, tn.channel.PublicKey, wire.Hello{Identity: &wire.Identity{
			ID: conv.VisitorID, Email: "ada@example.com", Name: "Ada", Signature: "00ff"}})
		require.NotEqual(t, ada.welcome.ConversationID, mallory.welcome.ConversationID)
		got := mallory.until("Looking for the right plan")
		require.Len(t, got, 1, "only a fresh greeting, no history")
		other, err := n.srv.Store.GetConversation(context.Background(), tn.ws, mallory.welcome.ConversationID)
		require.NoError(t, err)
		require.NotEqual(t, conv.VisitorID, other.VisitorID)
	})
}
