package webhooktest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
)

// Request is one request a Receiver got.
type Request struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// Receiver is a real HTTP server on 127.0.0.1 that records every request
// (reading at most 1 MiB of each body) and answers as Handle says, 204 by
// default.
type Receiver struct {
	Server *httptest.Server
	// URL is the server's base URL, e.g. http://127.0.0.1:41234.
	URL string

	mu      sync.Mutex
	handler func(w http.ResponseWriter, r *http.Request, n int)
	got     []Request
}

// NewReceiver starts a receiver, closed when the test ends.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	rc := &Receiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(rc.serve))
	rc.URL = rc.Server.URL
	t.Cleanup(rc.Server.Close)
	return rc
}

// Handle sets how the receiver answers; n counts requests from 1. The
// body handed to h is the recorded copy.
func (rc *Receiver) Handle(h func(w http.ResponseWriter, r *http.Request, n int)) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.handler = h
}

// AddrPort is the listener's address, for the dispatcher's AllowAddrs.
func (rc *Receiver) AddrPort() netip.AddrPort {
	return netip.MustParseAddrPort(rc.Server.Listener.Addr().String())
}

// Requests returns a copy of the requests so far.
func (rc *Receiver) Requests() []Request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Request(nil), rc.got...)
}

func (rc *Receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body}
	rc.mu.Lock()
	rc.got = append(rc.got, req)
	n := len(rc.got)
	h := rc.handler
	rc.mu.Unlock()
	if h == nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h(w, r, n)
}
