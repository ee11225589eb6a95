package auth

import (
	"fmt"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries ClientIP reads,
// so a huge header costs nothing.
const maxForwardedHops = 16

// ClientIP returns the address a request is rate-limited by.
//
// It is the socket's peer (remoteAddr, "host:port" or a bare address)
// unless that peer is in trusted, the reverse proxies in front of this
// server. Only then is X-Forwarded-For read, right to left, skipping trusted
// proxies: the first other address is the one the nearest trusted proxy saw
// connect. Entries to its left were written by the client and are never
// believed. With no trusted proxies (the default) the header is ignored, so
// a client cannot pick its own address by sending one.
//
// It returns the zero Addr when remoteAddr cannot be parsed.
func ClientIP(remoteAddr, forwardedFor string, trusted []netip.Prefix) netip.Addr {
	peer := parseAddr(remoteAddr)
	if !peer.IsValid() || !isTrusted(peer, trusted) {
		return peer
	}
	hops := strings.Split(forwardedFor, ",")
	for i, n := len(hops)-1, 0; i >= 0 && n < maxForwardedHops; i, n = i-1, n+1 {
		a := parseAddr(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			// A malformed entry: whatever is to its left is the client's
			// word. The last trusted hop is the best we know.
			return peer
		}
		if !isTrusted(a, trusted) {
			return a
		}
		peer = a
	}
	return peer
}

// parseAddr reads "ip", "ip:port" or "[ipv6]:port", unmapping IPv4-mapped
// IPv6 so one client has one key.
func parseAddr(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	return netip.Addr{}
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseTrustedProxies reads a comma-separated list of addresses and CIDR
// prefixes, such as "10.0.0.0/8, 192.0.2.7". An empty string gives none.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if strings.Contains(f, "/") {
			p, err := netip.ParsePrefix(f)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", f)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: not an address or CIDR prefix", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// addrKey is the rate-limit key of an address. An IPv6 client is keyed by
// its /64: one host or home usually holds a whole /64, and keying single
// addresses would give it 2^64 allowances.
func addrKey(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "unknown"
	case a.Is6():
		p, _ := a.Prefix(64)
		return p.String()
	default:
		return a.String()
	}
}
