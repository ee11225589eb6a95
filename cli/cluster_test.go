package cli_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/wire"
)

// The cluster test runs real frontdesk processes on one Postgres schema and
// one Redis (through a proxy the test can cut, as if Redis restarted), and
// checks they behave as one system with no sticky sessions.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// frontdeskBinary builds cmd/frontdesk once per test run.
func frontdeskBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "frontdesk-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "frontdesk")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/frontdesk").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	require.NoError(t, buildErr)
	return binPath
}

// proc is one frontdesk serve process.
type proc struct {
	base string
	cmd  *exec.Cmd
	out  *strings.Builder
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func startProc(t *testing.T, dbURL, redisURL, prefix string) *proc {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(frontdeskBinary(t), "serve", "--addr", addr, "--migrate")
	cmd.Env = append(os.Environ(),
		"FRONTDESK_DATABASE_URL="+dbURL,
		"FRONTDESK_REDIS_URL="+redisURL,
		"FRONTDESK_REDIS_PREFIX="+prefix,
		"FRONTDESK_PUBLIC_URL=http://"+addr,
	)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = io.Discard, &lockedWriter{w: out}
	require.NoError(t, cmd.Start())
	p := &proc{base: "http://" + addr, cmd: cmd, out: out}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	require.Eventually(t, func() bool {
		resp, err := http.Get(p.base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "node %s did not get ready:\n%s", addr, out)
	return p
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// cuttableProxy forwards TCP to Redis until cut: Redis going away.
type cuttableProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	cut    bool
}

func newCuttableProxy(t *testing.T, target string) *cuttableProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cuttableProxy{ln: ln, target: target}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			cut := p.cut
			p.mu.Unlock()
			if cut {
				c.Close()
				continue
			}
			s, err := net.DialTimeout("tcp", target, time.Second)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close(); c.Close() }()
			go func() { io.Copy(c, s); s.Close(); c.Close() }()
		}
	}()
	t.Cleanup(func() { ln.Close(); p.Cut() })
	return p
}

func (p *cuttableProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cuttableProxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.mu.Unlock()
}

// member signs a member in to one node with a session cookie.
func member(t *testing.T, base, ws, email string) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: base, http: newJarClient()}
	var out struct {
		CSRF string `json:"csrf_token"`
	}
	c.do(http.MethodPost, "/api/v1/auth/login", map[string]any{"email": email, "password": "correct horse battery", "workspace_id": ws}, http.StatusOK, &out)
	c.csrf = out.CSRF
	return c
}

func TestClusterOfThreeNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("the cluster test builds and starts processes")
	}
	t.Parallel()
	redisURL := os.Getenv("FRONTDESK_TEST_REDIS_URL")
	if redisURL == "skip" || os.Getenv("FRONTDESK_TEST_POSTGRES_URL") == "skip" {
		t.Skip("needs Postgres and Redis")
	}
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	redisHost := strings.TrimSuffix(strings.TrimPrefix(redisURL, "redis://"), "/0")
	proxy := newCuttableProxy(t, redisHost)
	viaProxy := "redis://" + proxy.ln.Addr().String() + "/0"
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "cluster-" + hex.EncodeToString(b) + ":"

	dbURL := storagetest.URL(t, storage.Postgres)
	ctx := context.Background()
	store, err := storage.Open(ctx, dbURL, storage.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	require.NoError(t, store.Migrate(ctx))
	live := seedTenant(t, store, "live-chat")
	hash, err := auth.NewHasher(auth.FastParams(), 1).Hash(ctx, "correct horse battery")
	require.NoError(t, err)
	for _, email := range []string{"ana@acme.test", "bo@acme.test"} {
		_, err := store.CreateUser(ctx, live.ws, storage.NewUser{Email: email, Name: strings.Split(email, "@")[0], Role: storage.RoleAgent, PasswordHash: hash})
		require.NoError(t, err)
	}

	a := startProc(t, dbURL, viaProxy, prefix)
	bNode := startProc(t, dbURL, viaProxy, prefix)
	c := startProc(t, dbURL, viaProxy, prefix)
	key := live.channel.PublicKey

	ana := member(t, bNode.base, live.ws, "ana@acme.test")
	bo := member(t, c.base, live.ws, "bo@acme.test")
	// Ana is online on node B; presence lives in Redis, so node A sees her.
	ana.do(http.MethodPut, "/api/v1/presence", map[string]any{"status": "online"}, http.StatusOK, nil)

	t.Run("a visitor on node A and an agent on node B chat live", func(t *testing.T) {
		v := connect(t, a.base, key, wire.Hello{Locale: "en"})
		v.until("You're in the queue")
		ana.do(http.MethodPost, "/api/v1/conversations/"+v.welcome.ConversationID+"/claim", nil, http.StatusOK, nil)
		v.until("ana joined the chat.")
		ana.do(http.MethodPost, "/api/v1/conversations/"+v.welcome.ConversationID+"/messages", map[string]any{"client_id": "a1", "text": "Hello from node B"}, http.StatusOK, nil)
		v.until("Hello from node B")
	})

	t.Run("claim races across nodes have one winner", func(t *testing.T) {
		bo.do(http.MethodPut, "/api/v1/presence", map[string]any{"status": "online"}, http.StatusOK, nil)
		for round := 0; round < 3; round++ {
			v := connect(t, a.base, key, wire.Hello{})
			v.until("You're in the queue")
			var wg sync.WaitGroup
			codes := make([]int, 2)
			for i, m := range []*apiClient{ana, bo} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					codes[i] = m.status(http.MethodPost, "/api/v1/conversations/"+v.welcome.ConversationID+"/claim")
				}()
			}
			wg.Wait()
			require.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, codes, "round %d", round)
		}
	})

	t.Run("timers fire once across nodes", func(t *testing.T) {
		v := connect(t, c.base, key, wire.Hello{})
		v.until("You're in the queue")
		fastForward(t, store, live.ws, v.welcome.ConversationID)
		v.until("What's your name?")
		time.Sleep(500 * time.Millisecond) // every node's timer worker has polled
		msgs, err := store.ListMessages(ctx, live.ws, v.welcome.ConversationID, 500)
		require.NoError(t, err)
		offline := 0
		for _, m := range msgs {
			if strings.Contains(m.Body, "isn't available right now") {
				offline++
			}
		}
		require.Equal(t, 1, offline)
	})

	t.Run("Redis restarted: clients resync, nothing lost", func(t *testing.T) {
		v := connect(t, a.base, key, wire.Hello{})
		v.until("You're in the queue")
		id := v.welcome.ConversationID
		ana.do(http.MethodPost, "/api/v1/conversations/"+id+"/claim", nil, http.StatusOK, nil)
		v.until("ana joined")
		proxy.Cut()
		// Published while Redis is away: node A's visitor cannot hear it.
		ana.do(http.MethodPost, "/api/v1/conversations/"+id+"/messages", map[string]any{"client_id": "r1", "text": "Sent during the outage"}, http.StatusOK, nil)
		proxy.Restore()
		// The broker reconnects and tells the socket it may have lost
		// events; the client reloads from the database.
		v.next("resync")
		msgs, err := store.ListMessages(ctx, live.ws, id, 500)
		require.NoError(t, err)
		require.Equal(t, "Sent during the outage", msgs[len(msgs)-1].Body)
	})

	t.Run("a node killed mid-chat loses nothing", func(t *testing.T) {
		doomed := startProc(t, dbURL, viaProxy, prefix)
		v := connect(t, doomed.base, key, wire.Hello{})
		v.until("You're in the queue")
		v.say("k1", "First message")
		if f := v.nextOrClose("ack"); f == nil {
			t.Fatalf("node closed the socket; its log:\n%s", doomed.out)
		}
		seqs := v.seqs()
		require.NoError(t, doomed.cmd.Process.Signal(syscall.SIGKILL))
		require.NotEqual(t, 0, v.closeCode(10*time.Second))
		// The widget reconnects to another node with its token and seq,
		// retrying with backoff while that node's broker is still coming
		// back from the Redis outage of the previous subtest (it closes
		// with 1011 until it can subscribe).
		var v2 *visitor
		var ack map[string]any
		deadline := time.Now().Add(20 * time.Second)
		for ack == nil {
			require.True(t, time.Now().Before(deadline), "could not resume on node B")
			v2 = connect(t, bNode.base, key, wire.Hello{Token: v.welcome.Token, LastSeq: seqs[len(seqs)-1]})
			require.Equal(t, v.welcome.ConversationID, v2.welcome.ConversationID)
			// A retry after the crash: stored once. The node may close the
			// socket at once (1011) while its broker reconnects.
			if v2.conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.ClientMessage{ClientID: "k1", Text: "First message"})) != nil {
				time.Sleep(500 * time.Millisecond)
				continue
			}
			if ack = v2.nextOrClose("ack"); ack == nil {
				time.Sleep(500 * time.Millisecond)
			}
		}
		require.Equal(t, true, ack["duplicate"])
		v2.say("k2", "Second message")
		v2.next("ack")
		msgs, err := store.ListMessages(ctx, live.ws, v.welcome.ConversationID, 500)
		require.NoError(t, err)
		for i, m := range msgs {
			require.Equal(t, int64(i+1), m.Seq)
		}
		var bodies []string
		for _, m := range msgs {
			if m.Author == storage.AuthorVisitor {
				bodies = append(bodies, m.Body)
			}
		}
		require.Equal(t, []string{"First message", "Second message"}, bodies)
	})
}
