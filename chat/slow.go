package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// startSlow runs an answer or HTTP call outside any transaction, bounded by
// the slow-work semaphore, and feeds its result back as an event. If this
// process dies first, the watchdog timer set with the effect delivers a
// failure instead.
func (s *Service) startSlow(ws string, conv *storage.Conversation, e engine.Effect) {
	s.inBackground(func() {
		ctx := context.Background()
		var ev engine.Event
		switch e.Type {
		case engine.EffectAskAnswerer:
			actx, cancel := context.WithTimeout(ctx, AnswerTimeout)
			a, err := s.answerer.Answer(actx, ws, conv, *e.Ask)
			cancel()
			if err != nil {
				s.log.Warn("answerer failed; handing over", "conversation", conv.ID, "err", err)
				a = engine.Answer{Handover: true}
			}
			ev = engine.Event{Type: engine.EventAnswerReady, ID: e.ID, Answer: a}
		case engine.EffectCallHTTP:
			ev = engine.Event{Type: engine.EventHTTPResult, ID: e.ID, HTTP: s.http.Do(ctx, *e.HTTP)}
		default:
			return
		}
		if _, err := s.handleInternal(ctx, ws, conv.ID, ev); err != nil {
			s.log.Warn("deliver slow result", "conversation", conv.ID, "effect", e.Type, "err", err)
		}
	})
}

// inBackground runs fn on its own goroutine, bounded by the slow-work
// semaphore and counted for a graceful shutdown; once the service drains,
// nothing new starts.
func (s *Service) inBackground(fn func()) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.pending.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.pending.Done()
		s.slow <- struct{}{}
		defer func() { <-s.slow }()
		fn()
	}()
}

// SummaryTimeout bounds writing one handover summary.
const SummaryTimeout = 30 * time.Second

// startSummary has the language model summarize a handed-over chat, after
// the commit and outside any transaction; the summary is kept in the event
// log beside the built-in one. A failure only leaves the built-in summary.
func (s *Service) startSummary(ws string, conv *storage.Conversation) {
	s.inBackground(func() {
		ctx, cancel := context.WithTimeout(context.Background(), SummaryTimeout)
		defer cancel()
		msgs, err := s.store.ListMessages(ctx, ws, conv.ID, 200)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, m := range msgs {
			b.WriteString(string(m.Author))
			b.WriteString(": ")
			b.WriteString(m.Body)
			b.WriteString("\n")
		}
		text, err := s.summary.Summarize(ctx, ws, b.String())
		if err != nil || strings.TrimSpace(text) == "" {
			return
		}
		data, _ := json.Marshal(map[string]string{"text": truncate(text, 4000)})
		if _, err := s.store.AppendEvent(ctx, ws, storage.NewEvent{ConversationID: conv.ID, AssistantID: conv.AssistantID, VersionID: conv.VersionID,
			Type: "handover_summary_written", Data: data, Preview: conv.Preview}); err != nil {
			s.log.Warn("store the written summary", "conversation", conv.ID, "err", err)
		}
	})
}

// handleInternal is Handle for work the service started itself: it runs
// even while the service drains for shutdown.
func (s *Service) handleInternal(ctx context.Context, ws, conversationID string, ev engine.Event) (*Result, error) {
	return s.onConversation(ctx, ws, conversationID, false, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		return s.step(ctx, tx, conv, ev, res)
	})
}

// HTTPPolicy bounds http_call requests.
type HTTPPolicy struct {
	// MaxResponseBytes caps the body read. Defaults to 256 KiB.
	MaxResponseBytes int64
	// MaxRedirects caps redirects, each checked like the first hop.
	// Defaults to 3.
	MaxRedirects int
	// AllowPrivate lets calls reach loopback and private addresses. Only
	// tests set it; production never should.
	AllowPrivate bool
}

// DefaultHTTPPolicy is the policy of production http_call requests.
var DefaultHTTPPolicy = HTTPPolicy{MaxResponseBytes: 256 << 10, MaxRedirects: 3}

// ErrBlockedAddress is returned for a target outside the public internet.
var ErrBlockedAddress = errors.New("blocked address")

// IsPublicAddr reports whether ip is a public unicast address: not
// loopback, private, link-local (cloud metadata lives there), multicast,
// unspecified, CGNAT, or their IPv4-mapped IPv6 forms.
func IsPublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsMulticast() || ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("2001:db8::/32"),
}

// SafeDialer returns a dialer that checks the address it actually connects
// to, after DNS resolution: a name that resolves (or re-resolves, as in
// DNS rebinding) to an internal address is refused at dial time, on every
// connection including each redirect hop.
func SafeDialer(allowPrivate bool) *net.Dialer {
	return &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			if allowPrivate {
				return nil
			}
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, address)
			}
			if !IsPublicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s", ErrBlockedAddress, ap.Addr())
			}
			return nil
		},
	}
}

type httpDoer struct {
	client *http.Client
	policy HTTPPolicy
}

// NewHTTPDoer builds the http_call client for a policy.
func NewHTTPDoer(p HTTPPolicy) HTTPDoer {
	if p.MaxResponseBytes <= 0 {
		p.MaxResponseBytes = DefaultHTTPPolicy.MaxResponseBytes
	}
	if p.MaxRedirects <= 0 {
		p.MaxRedirects = DefaultHTTPPolicy.MaxRedirects
	}
	tr := &http.Transport{
		DialContext:           SafeDialer(p.AllowPrivate).DialContext,
		Proxy:                 nil, // a proxy would dial on our behalf, past the check
		MaxIdleConns:          32,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: 10 * time.Second,
	}
	client := &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > p.MaxRedirects {
				return fmt.Errorf("more than %d redirects", p.MaxRedirects)
			}
			if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
				return fmt.Errorf("redirect to %s is not allowed", req.URL.Scheme)
			}
			return nil
		},
	}
	return &httpDoer{client: client, policy: p}
}

func (d *httpDoer) Do(ctx context.Context, r engine.HTTPRequest) engine.HTTPResult {
	timeout := r.Timeout
	if timeout <= 0 || timeout > time.Duration(engine.MaxHTTPTimeoutMS)*time.Millisecond {
		timeout = time.Duration(engine.DefaultHTTPTimeoutMS) * time.Millisecond
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return engine.HTTPResult{Err: "bad request: " + err.Error()}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return engine.HTTPResult{Err: "only http and https URLs are allowed"}
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if r.Body != "" && req.Header.Get("Content-Type") == "" {
		if b := strings.TrimSpace(r.Body); strings.HasPrefix(b, "{") || strings.HasPrefix(b, "[") {
			req.Header.Set("Content-Type", "application/json")
		}
	}
	req.Header.Set("User-Agent", "Frontdesk/1 (http_call)")
	resp, err := d.client.Do(req)
	if err != nil {
		if errors.Is(err, ErrBlockedAddress) {
			return engine.HTTPResult{Err: "blocked: the target is not a public address"}
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return engine.HTTPResult{Err: "timeout"}
		}
		return engine.HTTPResult{Err: err.Error()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, d.policy.MaxResponseBytes+1))
	if err != nil {
		return engine.HTTPResult{Status: resp.StatusCode, Err: "reading the response: " + err.Error()}
	}
	if int64(len(data)) > d.policy.MaxResponseBytes {
		return engine.HTTPResult{Status: resp.StatusCode, Err: fmt.Sprintf("response over %d bytes", d.policy.MaxResponseBytes)}
	}
	return engine.HTTPResult{Status: resp.StatusCode, Body: data}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
