package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/webhook/webhooktest"
)

// These tests drive a real Dispatcher over a real store (SQLite and
// Postgres) against real HTTP receivers on 127.0.0.1. The dispatcher and
// the store share a clock the test moves, so backoff is checked to the
// second without sleeping. Only the receivers' listeners are exempt from
// the SSRF checks (Config.AllowAddrs); every other internal address stays
// refused.

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Now().UTC().Truncate(time.Second)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eachDialect runs fn per dialect with a store on a test clock.
func eachDialect(t *testing.T, fn func(t *testing.T, s *storage.Store, clock *testClock)) {
	t.Helper()
	for _, d := range storagetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			clock := newTestClock()
			fn(t, storagetest.OpenWith(t, d, storage.Options{Now: clock.Now}), clock)
		})
	}
}

// dispatchEnv is one workspace, one receiver and one dispatcher.
type dispatchEnv struct {
	t     *testing.T
	ctx   context.Context
	s     *storage.Store
	clock *testClock
	ws    string
	rc    *webhooktest.Receiver
	d     *Dispatcher
}

func newDispatchEnv(t *testing.T, s *storage.Store, clock *testClock, tweak func(*Config)) *dispatchEnv {
	t.Helper()
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, "Acme")
	require.NoError(t, err)
	e := &dispatchEnv{t: t, ctx: ctx, s: s, clock: clock, ws: w.ID, rc: webhooktest.NewReceiver(t)}
	cfg := Config{
		Store:          s,
		Logger:         slog.New(slog.DiscardHandler),
		Now:            clock.Now,
		Jitter:         func() float64 { return 0.5 }, // the plain delays
		AttemptTimeout: 2 * time.Second,
		AllowAddrs:     []netip.AddrPort{e.rc.AddrPort()},
	}
	if tweak != nil {
		tweak(&cfg)
	}
	e.d, err = NewDispatcher(cfg)
	require.NoError(t, err)
	return e
}

func (e *dispatchEnv) subscribe(url string, events ...string) *storage.WebhookSubscription {
	e.t.Helper()
	sub, err := e.s.CreateWebhookSubscription(e.ctx, e.ws, storage.NewWebhookSubscription{URL: url, Events: events, Secret: NewSecret()})
	require.NoError(e.t, err)
	return sub
}

func (e *dispatchEnv) emit(typ, payload string) *storage.OutboxEntry {
	e.t.Helper()
	ev, err := e.s.InsertOutbox(e.ctx, e.ws, storage.NewOutboxEntry{EventType: typ, Payload: storage.JSON(payload)})
	require.NoError(e.t, err)
	return ev
}

// delivery returns the subscription's only delivery.
func (e *dispatchEnv) delivery(subID string) storage.WebhookDelivery {
	e.t.Helper()
	ds, err := e.s.ListWebhookDeliveries(e.ctx, e.ws, subID, storage.WebhookDeliveryFilter{})
	require.NoError(e.t, err)
	require.Len(e.t, ds, 1)
	return ds[0]
}

func TestDeliveriesAreSignedAndFiltered(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		e := newDispatchEnv(t, s, clock, nil)
		sub := e.subscribe(e.rc.URL+"/hooks/frontdesk", EventLeadCreated, EventConversationClosed)
		lead := e.emit(EventLeadCreated, `{"lead_id":"l1","fields":{"name":"<img src=x onerror=alert(1)>"}}`)
		e.emit(EventConversationCreated, `{"conversation_id":"c1"}`)

		st := e.d.Drain(e.ctx)
		require.Equal(t, Stats{Events: 2, Attempts: 1, Delivered: 1}, st, "conversation.created is not asked for")

		reqs := e.rc.Requests()
		require.Len(t, reqs, 1)
		r := reqs[0]
		require.Equal(t, http.MethodPost, r.Method)
		require.Equal(t, "/hooks/frontdesk", r.Path)
		require.Equal(t, "application/json", r.Header.Get("Content-Type"))
		require.Equal(t, UserAgent, r.Header.Get("User-Agent"))
		require.Equal(t, lead.EventID, r.Header.Get(HeaderID))
		require.Equal(t, strconv.FormatInt(clock.Now().Unix(), 10), r.Header.Get(HeaderTimestamp))
		require.NoError(t, Verify(sub.Secret, r.Header, r.Body, clock.Now(), 0))

		var body struct {
			Type      string          `json:"type"`
			Timestamp time.Time       `json:"timestamp"`
			Data      json.RawMessage `json:"data"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		require.Equal(t, EventLeadCreated, body.Type)
		require.True(t, lead.CreatedAt.Equal(body.Timestamp))
		require.JSONEq(t, string(lead.Payload), string(body.Data))
		require.NotContains(t, string(r.Body), "<img", "markup travels JSON-escaped")

		d := e.delivery(sub.ID)
		require.Equal(t, storage.OutboxDelivered, d.Status)
		require.Equal(t, 1, d.Attempts)
		require.Equal(t, http.StatusNoContent, d.LastStatus)
		require.NotNil(t, d.DeliveredAt)

		// The reference verifier's other half: a replayed delivery.
		guard := NewReplayGuard(0, 0)
		require.NoError(t, guard.Check(r.Header.Get(HeaderID), clock.Now()))
		require.ErrorIs(t, guard.Check(r.Header.Get(HeaderID), clock.Now().Add(time.Minute)), ErrReplayed)
		require.ErrorIs(t, Verify(sub.Secret, r.Header, r.Body, clock.Now().Add(6*time.Minute), 0), ErrStaleTimestamp)
	})
}

func TestRotationSignsWithBothSecretsDuringGrace(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		e := newDispatchEnv(t, s, clock, nil)
		sub := e.subscribe(e.rc.URL, "*")
		rotated, err := s.RotateWebhookSecret(e.ctx, e.ws, sub.ID, NewSecret(), clock.Now().Add(DefaultSecretGrace))
		require.NoError(t, err)

		e.emit(EventConversationCreated, `{}`)
		require.Equal(t, 1, e.d.Drain(e.ctx).Delivered)
		r := e.rc.Requests()[0]
		require.Len(t, strings.Fields(r.Header.Get(HeaderSignature)), 2)
		require.NoError(t, Verify(sub.Secret, r.Header, r.Body, clock.Now(), 0), "the old secret still verifies")
		require.NoError(t, Verify(rotated.Secret, r.Header, r.Body, clock.Now(), 0), "the new one too")

		clock.Advance(DefaultSecretGrace + time.Minute)
		e.emit(EventConversationClosed, `{}`)
		require.Equal(t, 1, e.d.Drain(e.ctx).Delivered)
		r = e.rc.Requests()[1]
		require.Len(t, strings.Fields(r.Header.Get(HeaderSignature)), 1)
		require.ErrorIs(t, Verify(sub.Secret, r.Header, r.Body, clock.Now(), 0), ErrBadSignature, "the grace period is over")
		require.NoError(t, Verify(rotated.Secret, r.Header, r.Body, clock.Now(), 0))

		got, err := s.GetWebhookSubscription(e.ctx, e.ws, sub.ID)
		require.NoError(t, err)
		require.Empty(t, got.PreviousSecret, "the dispatcher's sweep dropped the old secret")
	})
}

func TestFailingReceiverBacksOffThenDeadLetters(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		e := newDispatchEnv(t, s, clock, nil)
		sub := e.subscribe(e.rc.URL, "*")
		var verifyErrs atomic.Int32
		e.rc.Handle(func(w http.ResponseWriter, r *http.Request, _ int) {
			body, _ := json.Marshal(map[string]string{"error": "boom"})
			got, _ := io.ReadAll(r.Body)
			if err := Verify(sub.Secret, r.Header, got, clock.Now(), 0); err != nil {
				verifyErrs.Add(1)
			}
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(body)
		})
		ev := e.emit(EventLeadCreated, `{"lead_id":"l1"}`)

		p := DefaultRetryPolicy
		for attempt := 1; attempt <= p.MaxAttempts; attempt++ {
			st := e.d.Drain(e.ctx)
			require.Equal(t, 1, st.Attempts, "attempt %d", attempt)
			d := e.delivery(sub.ID)
			require.Equal(t, attempt, d.Attempts)
			require.Equal(t, http.StatusInternalServerError, d.LastStatus)
			if attempt == p.MaxAttempts {
				require.Equal(t, 1, st.Dead)
				require.Equal(t, storage.OutboxDead, d.Status)
				require.Equal(t, `gave up after 8 attempts: HTTP 500: {"error":"boom"}`, d.LastError)
				break
			}
			require.Equal(t, 1, st.Retrying)
			require.Equal(t, storage.OutboxPending, d.Status)
			delay := p.Delays[attempt-1]
			require.Equal(t, clock.Now().Add(delay), d.NextAttemptAt, "backoff after attempt %d", attempt)

			clock.Advance(delay - time.Second)
			require.Zero(t, e.d.Drain(e.ctx).Attempts, "not before the backoff, attempt %d", attempt)
			clock.Advance(time.Second)
		}
		reqs := e.rc.Requests()
		require.Len(t, reqs, p.MaxAttempts)
		for _, r := range reqs {
			require.Equal(t, ev.EventID, r.Header.Get(HeaderID), "every retry carries the event id")
			require.Equal(t, reqs[0].Body, r.Body, "and the same body")
		}
		require.Zero(t, verifyErrs.Load(), "every attempt verifies at its own time")

		// Nothing more happens to a dead delivery.
		clock.Advance(48 * time.Hour)
		require.Zero(t, e.d.Drain(e.ctx).Attempts)

		// Redelivery puts it back, under the same id.
		_, err := s.RedeliverWebhookDelivery(e.ctx, e.ws, sub.ID, e.delivery(sub.ID).ID)
		require.NoError(t, err)
		e.rc.Handle(nil)
		require.Equal(t, 1, e.d.Drain(e.ctx).Delivered)
		reqs = e.rc.Requests()
		require.Equal(t, ev.EventID, reqs[len(reqs)-1].Header.Get(HeaderID))
		require.Equal(t, storage.OutboxDelivered, e.delivery(sub.ID).Status)
	})
}

// TestBoundedAttempts shows each way a receiver can hold an attempt, and
// that every one is cut at its bound and retried.
func TestBoundedAttempts(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		const timeout = 500 * time.Millisecond
		stop := make(chan struct{})

		// A raw server that drips its status line and never ends its
		// headers.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { ln.Close() })
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					for _, b := range []byte("HTTP/1.1 200 OK\r\nX-Slow: " + strings.Repeat("a", 1000)) {
						select {
						case <-stop:
							return
						case <-time.After(20 * time.Millisecond):
						}
						if _, err := c.Write([]byte{b}); err != nil {
							return
						}
					}
				}()
			}
		}()
		drip := netip.MustParseAddrPort(ln.Addr().String())

		e := newDispatchEnv(t, s, clock, func(c *Config) {
			c.AttemptTimeout = timeout
			c.AllowAddrs = append(c.AllowAddrs, drip)
			// A short schedule, to follow each failure to the dead letter.
			c.Retry = RetryPolicy{Delays: []time.Duration{5 * time.Second, 30 * time.Second}, MaxAttempts: 3}
		})
		// Registered after the receiver's: cleanups run last first, so the
		// handlers are let go before the server waits for them.
		t.Cleanup(func() { close(stop) })
		var written atomic.Int64
		e.rc.Handle(func(w http.ResponseWriter, r *http.Request, _ int) {
			switch r.URL.Path {
			case "/hang":
				select {
				case <-r.Context().Done():
				case <-stop:
				}
			case "/huge-error", "/huge-ok":
				if r.URL.Path == "/huge-error" {
					w.WriteHeader(http.StatusBadGateway)
				}
				chunk := []byte(strings.Repeat("x", 32<<10))
				for {
					n, err := w.Write(chunk)
					written.Add(int64(n))
					if err != nil {
						return
					}
					select {
					case <-r.Context().Done():
						return
					case <-stop:
						return
					default:
					}
				}
			case "/drip-error":
				w.WriteHeader(http.StatusServiceUnavailable)
				for {
					if _, err := w.Write([]byte("z")); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
				}
			}
		})
		subs := map[string]*storage.WebhookSubscription{}
		for _, path := range []string{"/hang", "/huge-error", "/huge-ok", "/drip-error"} {
			subs[path] = e.subscribe(e.rc.URL+path, "*")
		}
		subs["drip-headers"] = e.subscribe("http://"+drip.String()+"/", "*")
		e.emit(EventLeadCreated, `{}`)

		started := time.Now()
		st := e.d.Drain(e.ctx)
		require.Less(t, time.Since(started), 4*timeout, "the attempts ran side by side, each within its bound")
		require.Equal(t, 5, st.Attempts)

		for name, want := range map[string]string{
			"/hang":        "timed out after 500ms",
			"/drip-error":  "HTTP 503: zz",
			"drip-headers": "timed out after 500ms",
		} {
			d := e.delivery(subs[name].ID)
			require.Equal(t, storage.OutboxPending, d.Status, name)
			require.Equal(t, 1, d.Attempts, name)
			require.Contains(t, d.LastError, want, name)
			require.Equal(t, clock.Now().Add(5*time.Second), d.NextAttemptAt, "%s is retried after the first backoff", name)
		}
		huge := e.delivery(subs["/huge-error"].ID)
		require.Equal(t, http.StatusBadGateway, huge.LastStatus)
		require.Equal(t, storage.OutboxPending, huge.Status)
		require.LessOrEqual(t, len(huge.LastError), errorExcerptBytes+len("HTTP 502: "), "only an excerpt is kept")
		require.Equal(t, storage.OutboxDelivered, e.delivery(subs["/huge-ok"].ID).Status, "a 2xx with a huge body is a 2xx")

		// Each failure is retried on the schedule, then dead-lettered.
		clock.Advance(5 * time.Second)
		st = e.d.Drain(e.ctx)
		require.Equal(t, Stats{Attempts: 4, Retrying: 4}, st)
		clock.Advance(30*time.Second - time.Second)
		require.Zero(t, e.d.Drain(e.ctx).Attempts, "not before the backoff")
		clock.Advance(time.Second)
		st = e.d.Drain(e.ctx)
		require.Equal(t, Stats{Attempts: 4, Dead: 4}, st)
		for _, name := range []string{"/hang", "/huge-error", "/drip-error", "drip-headers"} {
			d := e.delivery(subs[name].ID)
			require.Equal(t, storage.OutboxDead, d.Status, name)
			require.Equal(t, 3, d.Attempts, name)
			require.True(t, strings.HasPrefix(d.LastError, "gave up after 3 attempts: "), "%s: %s", name, d.LastError)
		}
	})
}

func TestCrashAfterSendResendsWithTheSameID(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		e := newDispatchEnv(t, s, clock, nil)
		sub := e.subscribe(e.rc.URL, "*")
		ev := e.emit(EventConversationClosed, `{"conversation_id":"c1"}`)

		// Claim and send, then "crash": the outcome is never recorded.
		now := clock.Now()
		require.Equal(t, 1, e.d.fanOut(e.ctx, now))
		jobs, err := s.ClaimWebhookDeliveries(e.ctx, now, 10, e.d.cfg.Lease, nil)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		require.True(t, e.d.send(e.ctx, &jobs[0]).ok)
		require.Len(t, e.rc.Requests(), 1)

		// A restarted dispatcher leaves it alone while the lease lasts...
		restarted, err := NewDispatcher(e.d.cfg)
		require.NoError(t, err)
		clock.Advance(e.d.cfg.Lease - time.Second)
		require.Zero(t, restarted.Drain(e.ctx).Attempts)
		// ...then sends it again, under the same id.
		clock.Advance(time.Second)
		require.Equal(t, 1, restarted.Drain(e.ctx).Delivered)

		reqs := e.rc.Requests()
		require.Len(t, reqs, 2)
		for _, r := range reqs {
			require.Equal(t, ev.EventID, r.Header.Get(HeaderID))
			require.Equal(t, reqs[0].Body, r.Body)
		}
		require.NotEqual(t, reqs[0].Header.Get(HeaderTimestamp), reqs[1].Header.Get(HeaderTimestamp), "each attempt is signed at its own time")
		require.NoError(t, Verify(sub.Secret, reqs[1].Header, reqs[1].Body, clock.Now(), 0))
		d := e.delivery(sub.ID)
		require.Equal(t, storage.OutboxDelivered, d.Status)
		require.Equal(t, 2, d.Attempts)
	})
}

// TestDialTimeSSRF stores URLs as if they had passed the save-time check and
// DNS changed afterwards: the dial-time check refuses them.
func TestDialTimeSSRF(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		resolver, setDNS := webhooktest.DNS(t, map[string][]netip.Addr{
			"hooks.example.com":  {netip.MustParseAddr("127.0.0.1")},
			"rebind.example.com": {netip.MustParseAddr("93.184.216.34")},
		})
		e := newDispatchEnv(t, s, clock, func(c *Config) {
			c.Resolver = resolver
			c.AllowAddrs = nil // the receiver is not exempt here
		})
		port := strconv.Itoa(int(e.rc.AddrPort().Port()))

		// Rebinding: public when saved, loopback when dialed.
		rebind := "https://rebind.example.com:" + port + "/hook"
		_, err := CheckURL(e.ctx, rebind, URLPolicy{Resolver: resolver})
		require.NoError(t, err, "public at save time")
		setDNS("rebind.example.com", netip.MustParseAddr("127.0.0.1"))

		a := e.subscribe("https://hooks.example.com:"+port+"/hook", "*")
		b := e.subscribe(rebind, "*")
		e.emit(EventLeadCreated, `{}`)
		st := e.d.Drain(e.ctx)
		require.Equal(t, 2, st.Retrying)
		for _, sub := range []*storage.WebhookSubscription{a, b} {
			d := e.delivery(sub.ID)
			require.Equal(t, "refused at connect time: the host resolved to an address that is not public", d.LastError)
			require.NotContains(t, d.LastError, "127.0.0.1", "internal addresses are not shown")
		}
		require.Empty(t, e.rc.Requests(), "nothing reached the internal receiver")

		// The check is the dialer's own, whatever the URL said.
		_, err = e.d.client.Transport.(*http.Transport).DialContext(e.ctx, "tcp", e.rc.AddrPort().String())
		require.ErrorIs(t, err, chat.ErrBlockedAddress)
	})
}

func TestRedirectHopsAreChecked(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		internal := webhooktest.NewReceiver(t) // not exempt: must never be reached
		internalPort := strconv.Itoa(int(internal.AddrPort().Port()))
		resolver, _ := webhooktest.DNS(t, map[string][]netip.Addr{"rebind.example.com": {netip.MustParseAddr("127.0.0.1")}})
		e := newDispatchEnv(t, s, clock, func(c *Config) { c.Resolver = resolver })
		e.rc.Handle(func(w http.ResponseWriter, r *http.Request, _ int) {
			target := map[string]string{
				"/to-literal": internal.URL + "/x",
				"/to-name":    "http://rebind.example.com:" + internalPort + "/x",
				"/to-local":   "http://localhost:" + internalPort + "/x",
				"/to-file":    "file:///etc/passwd",
				"/found":      "/final",
				"/temporary":  "/final",
				"/loop":       "/loop",
			}[r.URL.Path]
			switch r.URL.Path {
			case "/final":
				w.WriteHeader(http.StatusNoContent)
			case "/found":
				http.Redirect(w, r, target, http.StatusFound)
			default:
				http.Redirect(w, r, target, http.StatusTemporaryRedirect)
			}
		})
		want := map[string]string{
			"/to-literal": "redirect refused: the address 127.0.0.1 is not a public address",
			"/to-name":    "refused at connect time: the host resolved to an address that is not public",
			"/to-local":   "redirect refused: localhost is not allowed",
			"/to-file":    `redirect refused: the scheme "file" is not allowed: use https`,
			"/found":      "a 302 redirect is not followed, as it would drop the POST body; point the subscription at the final URL",
			"/loop":       "more than 3 redirects",
		}
		subs := map[string]*storage.WebhookSubscription{}
		for path := range want {
			subs[path] = e.subscribe(e.rc.URL+path, "*")
		}
		followed := e.subscribe(e.rc.URL+"/temporary", "*")
		ev := e.emit(EventLeadCreated, `{"lead_id":"l1"}`)

		st := e.d.Drain(e.ctx)
		require.Equal(t, len(want)+1, st.Attempts)
		require.Equal(t, 1, st.Delivered)
		for path, msg := range want {
			d := e.delivery(subs[path].ID)
			require.Equal(t, storage.OutboxPending, d.Status, path)
			require.Equal(t, msg, d.LastError, path)
		}
		require.Empty(t, internal.Requests(), "no redirect reached an internal address")

		// A 307 to an allowed target keeps the method, body, id and
		// signature.
		require.Equal(t, storage.OutboxDelivered, e.delivery(followed.ID).Status)
		var final *webhooktest.Request
		for _, r := range e.rc.Requests() {
			if r.Path == "/final" {
				final = &r
			}
		}
		require.NotNil(t, final)
		require.Equal(t, http.MethodPost, final.Method)
		require.Equal(t, ev.EventID, final.Header.Get(HeaderID))
		require.NoError(t, Verify(followed.Secret, final.Header, final.Body, clock.Now(), 0))
	})
}

func TestPermanentFailuresGoStraightToTheDeadLetter(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		e := newDispatchEnv(t, s, clock, func(c *Config) { c.MaxBodyBytes = 1024 })
		big := e.subscribe(e.rc.URL+"/big", EventLeadCreated)
		off := e.subscribe(e.rc.URL+"/off", EventConversationClosed)
		e.emit(EventLeadCreated, `{"note":"`+strings.Repeat("a", 2000)+`"}`)
		e.emit(EventConversationClosed, `{}`)
		require.Equal(t, 2, e.d.fanOut(e.ctx, clock.Now()))
		disabled := false
		_, err := s.UpdateWebhookSubscription(e.ctx, e.ws, off.ID, storage.WebhookSubscriptionUpdate{Enabled: &disabled})
		require.NoError(t, err)

		st := e.d.Drain(e.ctx)
		require.Equal(t, 2, st.Dead)
		d := e.delivery(big.ID)
		require.Equal(t, storage.OutboxDead, d.Status)
		require.Contains(t, d.LastError, "over the 1024-byte limit; it is never sent")
		d = e.delivery(off.ID)
		require.Equal(t, storage.OutboxDead, d.Status)
		require.Equal(t, "the subscription is disabled", d.LastError)
		require.Empty(t, e.rc.Requests())

		// A disabled subscription gets no new deliveries at all.
		e.emit(EventConversationClosed, `{}`)
		e.d.Drain(e.ctx)
		ds, err := s.ListWebhookDeliveries(e.ctx, e.ws, off.ID, storage.WebhookDeliveryFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 1)
	})
}

// TestSlowReceiverDoesNotDelayOthers runs the dispatcher for real: a
// receiver that hangs holds one worker, and another receiver's deliveries
// go on around it.
func TestSlowReceiverDoesNotDelayOthers(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		slow := webhooktest.NewReceiver(t)
		release := make(chan struct{})
		var releaseOnce sync.Once
		let := func() { releaseOnce.Do(func() { close(release) }) }
		t.Cleanup(let)
		slow.Handle(func(w http.ResponseWriter, r *http.Request, _ int) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			w.WriteHeader(http.StatusOK)
		})
		e := newDispatchEnv(t, s, clock, func(c *Config) {
			c.AllowAddrs = append(c.AllowAddrs, slow.AddrPort())
			c.PollInterval = 10 * time.Millisecond
			c.AttemptTimeout = 10 * time.Second
		})
		slowSub := e.subscribe(slow.URL, "*")
		fastSub := e.subscribe(e.rc.URL, "*")
		for range 3 {
			e.emit(EventConversationCreated, `{}`)
		}
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.d.Run(ctx)
		}()
		require.Eventually(t, func() bool { return len(e.rc.Requests()) == 3 }, 10*time.Second, 5*time.Millisecond,
			"the fast receiver gets every event while the slow one hangs")
		require.Len(t, slow.Requests(), 1, "the slow receiver holds one delivery in flight, not three")

		let()
		require.Eventually(t, func() bool {
			for _, sub := range []string{slowSub.ID, fastSub.ID} {
				ds, err := s.ListWebhookDeliveries(e.ctx, e.ws, sub, storage.WebhookDeliveryFilter{Status: storage.OutboxDelivered})
				if err != nil || len(ds) != 3 {
					return false
				}
			}
			return true
		}, 10*time.Second, 10*time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})
}

func TestConcurrencyIsBounded(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, s *storage.Store, clock *testClock) {
		e := newDispatchEnv(t, s, clock, func(c *Config) {
			c.Concurrency = 2
			c.PollInterval = 10 * time.Millisecond
		})
		var inFlight, peak atomic.Int32
		e.rc.Handle(func(w http.ResponseWriter, r *http.Request, _ int) {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(30 * time.Millisecond)
			inFlight.Add(-1)
			w.WriteHeader(http.StatusOK)
		})
		for i := range 6 {
			e.subscribe(e.rc.URL+"/"+strconv.Itoa(i), "*")
		}
		e.emit(EventLeadCreated, `{}`)
		ctx, cancel := context.WithCancel(e.ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			e.d.Run(ctx)
		}()
		require.Eventually(t, func() bool { return len(e.rc.Requests()) == 6 }, 10*time.Second, 5*time.Millisecond)
		cancel()
		<-done
		require.Equal(t, int32(2), peak.Load(), "never more than Concurrency requests at once")
	})
}

func TestConfigValidation(t *testing.T) {
	t.Parallel()
	_, err := NewDispatcher(Config{})
	require.ErrorContains(t, err, "Config.Store")
	s := storagetest.Open(t, storage.SQLite)
	_, err = NewDispatcher(Config{Store: s, AttemptTimeout: time.Minute, Lease: time.Minute})
	require.ErrorContains(t, err, "Config.Lease")
	d, err := NewDispatcher(Config{Store: s})
	require.NoError(t, err)
	require.Equal(t, DefaultRetryPolicy.MaxAttempts, d.cfg.Retry.MaxAttempts)
	require.Equal(t, DefaultMaxBodyBytes, d.cfg.MaxBodyBytes)
	require.False(t, d.allowHTTP, "http needs a test option")
}
