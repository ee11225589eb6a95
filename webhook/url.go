package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/idna"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// MaxURLBytes bounds a receiver URL.
const MaxURLBytes = storage.MaxWebhookURLBytes

// DefaultResolveTimeout bounds the DNS lookup CheckURL makes.
const DefaultResolveTimeout = 5 * time.Second

// ErrURLRefused is the error of CheckURL and of a delivery whose target
// breaks the rules; the *URLError says why.
var ErrURLRefused = errors.New("webhook: URL refused")

// URLError says why a receiver URL is refused. errors.Is(err,
// ErrURLRefused) is true for it.
type URLError struct {
	// Reason is a sentence for the admin, e.g. "the host resolves to an
	// internal address".
	Reason string
}

// Error returns the reason.
func (e *URLError) Error() string { return e.Reason }

// Is reports that a URLError is an ErrURLRefused.
func (e *URLError) Is(target error) bool { return target == ErrURLRefused }

func refuse(format string, args ...any) error {
	return &URLError{Reason: fmt.Sprintf(format, args...)}
}

// URLPolicy is how CheckURL judges a receiver URL. The zero value is the
// production policy with the system resolver.
type URLPolicy struct {
	// AllowPrivate accepts http URLs and internal addresses, and skips the
	// DNS check. Only tests set it, for receivers on 127.0.0.1.
	AllowPrivate bool
	// Resolver resolves host names. Defaults to net.DefaultResolver.
	Resolver *net.Resolver
	// ResolveTimeout bounds the lookup. Defaults to DefaultResolveTimeout.
	ResolveTimeout time.Duration
}

// CheckURL checks a receiver URL when it is saved and returns it
// normalized (lowercase scheme and host, the host in punycode). It refuses:
//
//   - more than MaxURLBytes, or anything but an absolute http(s) URL;
//   - http (https only), user info, a fragment;
//   - "localhost", "*.localhost" and one-label names (they resolve through
//     the server's own search domains);
//   - IP literals that are not public: loopback, private, link-local (cloud
//     metadata at 169.254.169.254), CGNAT, IPv4-mapped IPv6, ... (see
//     chat.IsPublicAddr), and any IPv4 not in plain dotted decimal
//     ("2130706433", "0x7f000001", "0177.0.0.1", "127.1"), which some
//     resolvers read as loopback;
//   - a name that does not resolve, or that resolves to any internal
//     address.
//
// Passing here is not enough to be safe: DNS can change after the save
// (rebinding). The dispatcher checks every address it dials again.
func CheckURL(ctx context.Context, raw string, p URLPolicy) (string, error) {
	if len(raw) > MaxURLBytes {
		return "", refuse("the URL is %d bytes, over the limit of %d", len(raw), MaxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", refuse("not a valid URL")
	}
	host, err := checkTarget(u, p.AllowPrivate, p.AllowPrivate, nil)
	if err != nil {
		return "", err
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", refuse("the URL has a fragment (#...), which is never sent")
	}
	if _, isIP := parseIPHost(host); !isIP && !p.AllowPrivate {
		if err := checkResolves(ctx, host, p); err != nil {
			return "", err
		}
	}
	return u.String(), nil
}

// checkTarget applies the rules that need no DNS to a URL about to be
// saved or dialed (each redirect hop too), and normalizes its scheme and
// host in place. It returns the host (no port, no brackets). exempt, when
// not nil, lets exact ip:port pairs through (tests).
func checkTarget(u *url.URL, allowHTTP, allowPrivate bool, exempt func(netip.AddrPort) bool) (string, error) {
	if !u.IsAbs() || u.Opaque != "" {
		return "", refuse("not an absolute http(s) URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch u.Scheme {
	case "https":
	case "http":
		if !allowHTTP {
			return "", refuse("the scheme must be https")
		}
	default:
		return "", refuse("the scheme %q is not allowed: use https", u.Scheme)
	}
	if u.User != nil {
		return "", refuse("user info (user:password@) is not allowed in the URL; receivers authenticate deliveries by their signature")
	}
	host := u.Hostname()
	if host == "" {
		return "", refuse("the URL has no host")
	}
	port := u.Port()
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return "", refuse("the port %q is not valid", port)
		}
	}
	if ip, isIP := parseIPHost(host); isIP {
		if !ip.IsValid() {
			return "", refuse("IP addresses must be written in dotted decimal (no decimal, hex or octal forms)")
		}
		if ip.Zone() != "" {
			return "", refuse("IPv6 zones are not allowed")
		}
		if !allowPrivate && !chat.IsPublicAddr(ip) && !(exempt != nil && exempt(netip.AddrPortFrom(ip, portOf(u)))) {
			return "", refuse("the address %s is not a public address", ip)
		}
		u.Host = joinHost(ip.String(), port)
		return ip.String(), nil
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	ascii, err := idna.Lookup.ToASCII(name)
	if err != nil || ascii == "" || strings.Contains(ascii, "..") {
		return "", refuse("%q is not a valid host name", host)
	}
	if ascii == "localhost" || strings.HasSuffix(ascii, ".localhost") {
		return "", refuse("localhost is not allowed")
	}
	if !strings.Contains(ascii, ".") && !allowPrivate {
		return "", refuse("the host %q has a single label; use a fully qualified name", ascii)
	}
	u.Host = joinHost(ascii, port)
	return ascii, nil
}

// parseIPHost reports whether host is an IP literal. A host whose last
// label is numeric (decimal or 0x hex) is taken for an IPv4 address, as
// browsers and inet_aton do; it is returned invalid unless it is plain
// dotted decimal, so "2130706433" or "0x7f.1" can never slip through as a
// name that some resolver turns into 127.0.0.1.
func parseIPHost(host string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip, true
	}
	if strings.Contains(host, ":") {
		// Not a valid IPv6 literal: an invalid IP, never a name.
		return netip.Addr{}, true
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if last == "" {
		return netip.Addr{}, false
	}
	numeric := true
	if strings.HasPrefix(last, "0x") {
		for _, c := range last[2:] {
			if !strings.ContainsRune("0123456789abcdef", c) {
				numeric = false
			}
		}
	} else {
		for _, c := range last {
			if c < '0' || c > '9' {
				numeric = false
			}
		}
	}
	if numeric {
		return netip.Addr{}, true
	}
	return netip.Addr{}, false
}

// checkResolves refuses a name that does not resolve or that resolves to
// any address outside the public internet: one internal answer is enough
// for a rebinding attacker to win some of the dials.
func checkResolves(ctx context.Context, host string, p URLPolicy) error {
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	timeout := p.ResolveTimeout
	if timeout <= 0 {
		timeout = DefaultResolveTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return refuse("the host %q does not resolve", host)
		}
		return refuse("the host %q could not be resolved; try again", host)
	}
	if len(addrs) == 0 {
		return refuse("the host %q does not resolve", host)
	}
	for _, a := range addrs {
		if !chat.IsPublicAddr(a) {
			// The address itself is not shown: it would map the server's
			// internal DNS for whoever asks.
			return refuse("the host %q resolves to an internal address", host)
		}
	}
	return nil
}

func portOf(u *url.URL) uint16 {
	if p := u.Port(); p != "" {
		n, _ := strconv.Atoi(p)
		return uint16(n)
	}
	if u.Scheme == "http" {
		return 80
	}
	return 443
}

func joinHost(host, port string) string {
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port == "" {
		return host
	}
	return host + ":" + port
}
