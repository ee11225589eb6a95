package realtime_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/realtime/brokertest"
)

// envRedisURL names the Redis the tests use. Like the Postgres tests, they
// fail rather than skip when it is unreachable, so a broken setup is not
// mistaken for a pass; set it to "skip" to skip them.
const (
	envRedisURL     = "FRONTDESK_TEST_REDIS_URL"
	defaultRedisURL = "redis://127.0.0.1:6379/0"
)

func redisOptions(t testing.TB) *redis.Options {
	t.Helper()
	u := os.Getenv(envRedisURL)
	if u == "" {
		u = defaultRedisURL
	}
	if u == "skip" {
		t.Skip(envRedisURL + "=skip")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s=%q: %v", envRedisURL, u, err)
	}
	return opt
}

// newRedisClient returns a client of the test Redis, closed at cleanup.
// addr, when set, replaces the address (to go through a proxy).
func newRedisClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	opt := redisOptions(t)
	if addr != "" {
		opt.Addr = addr
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		probe := redis.NewClient(opt)
		err := probe.Ping(ctx).Err()
		_ = probe.Close()
		if err != nil {
			t.Fatalf("Redis at %s is unreachable (set %s to another URL, or to skip): %v", opt.Addr, envRedisURL, err)
		}
	}
	// Short timeouts so fault tests notice quickly; no retries, so a
	// publish during an outage fails at once instead of after backoff.
	opt.DialTimeout = time.Second
	opt.MaxRetries = -1
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// uniquePrefix isolates a test's channels from every other test's.
func uniquePrefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "fdtest:" + hex.EncodeToString(b[:]) + ":"
}

// proxy stands between a broker and Redis so a test can break the
// connection the way a restart or a network fault would, without touching
// the shared Redis server.
type proxy struct {
	t      testing.TB
	ln     net.Listener
	target string

	mu       sync.Mutex
	conns    map[*proxyConn]struct{}
	refusing bool
	wg       sync.WaitGroup
}

type proxyConn struct {
	client, server net.Conn
	// silent drops everything in both directions while keeping the
	// connection open: a half-open connection as TCP sees it.
	mu     sync.Mutex
	silent bool
}

func newProxy(t testing.TB, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, ln: ln, target: target, conns: map[*proxyConn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
		brokertest.Within(t, "the proxy's goroutines", p.wg.Wait)
	})
	return p
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refusing := p.refusing
		p.mu.Unlock()
		if refusing {
			_ = c.Close()
			continue
		}
		s, err := net.DialTimeout("tcp", p.target, time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		pc := &proxyConn{client: c, server: s}
		p.mu.Lock()
		p.conns[pc] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pump(pc, c, s)
		go p.pump(pc, s, c)
	}
}

func (p *proxy) pump(pc *proxyConn, from, to net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			pc.mu.Lock()
			silent := pc.silent
			pc.mu.Unlock()
			if !silent {
				if _, werr := to.Write(buf[:n]); werr != nil {
					err = werr
				}
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				_ = err
			}
			_ = from.Close()
			_ = to.Close()
			p.mu.Lock()
			delete(p.conns, pc)
			p.mu.Unlock()
			return
		}
	}
}

// Cut closes every connection and refuses new ones until Restore: Redis
// going away.
func (p *proxy) Cut() {
	p.mu.Lock()
	p.refusing = true
	for pc := range p.conns {
		_ = pc.client.Close()
		_ = pc.server.Close()
	}
	p.mu.Unlock()
}

// Restore accepts connections again: Redis is back.
func (p *proxy) Restore() {
	p.mu.Lock()
	p.refusing = false
	p.mu.Unlock()
}

// Silence makes every open connection swallow traffic without closing:
// half-open connections. New connections work.
func (p *proxy) Silence() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pc := range p.conns {
		pc.mu.Lock()
		pc.silent = true
		pc.mu.Unlock()
	}
}
