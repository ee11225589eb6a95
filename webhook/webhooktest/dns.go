// Package webhooktest helps test webhook senders and receivers: a DNS
// server that answers what the test says (to show a public-looking name
// resolving to an internal address), and a receiver that records every
// delivery.
package webhooktest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// DNS serves records on a UDP port of 127.0.0.1 until the test ends and
// returns a resolver that asks it, and nothing else. Names are matched
// case-insensitively, with or without the trailing dot; any other name is
// NXDOMAIN. Records can be changed while the test runs with the returned
// setter, e.g. to rebind a name between the save and the delivery.
func DNS(t testing.TB, records map[string][]netip.Addr) (*net.Resolver, func(name string, addrs ...netip.Addr)) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("webhooktest: DNS listen: %v", err)
	}
	var mu sync.Mutex
	table := map[string][]netip.Addr{}
	set := func(name string, addrs ...netip.Addr) {
		mu.Lock()
		defer mu.Unlock()
		table[canonical(name)] = addrs
	}
	for name, addrs := range records {
		set(name, addrs...)
	}
	lookup := func(name string) ([]netip.Addr, bool) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := table[canonical(name)]
		return a, ok
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if reply := answer(buf[:n], lookup); reply != nil {
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
	t.Cleanup(func() {
		pc.Close()
		<-done
	})
	addr := pc.LocalAddr().String()
	r := &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
	return r, set
}

func canonical(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// answer builds the reply to one query: A and AAAA records from the table,
// NXDOMAIN for unknown names.
func answer(query []byte, lookup func(string) ([]netip.Addr, bool)) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	addrs, known := lookup(q.Name.String())
	rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired, RecursionAvailable: true}
	if !known {
		rh.RCode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, rh)
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil
	}
	if err := b.Question(q); err != nil {
		return nil
	}
	if err := b.StartAnswers(); err != nil {
		return nil
	}
	for _, a := range addrs {
		rrh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}
		switch {
		case q.Type == dnsmessage.TypeA && a.Is4():
			if err := b.AResource(rrh, dnsmessage.AResource{A: a.As4()}); err != nil {
				return nil
			}
		case q.Type == dnsmessage.TypeAAAA && a.Is6():
			if err := b.AAAAResource(rrh, dnsmessage.AAAAResource{AAAA: a.As16()}); err != nil {
				return nil
			}
		}
	}
	out, err := b.Finish()
	if err != nil {
		return nil
	}
	return out
}
