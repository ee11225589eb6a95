package auth

import (
	"context"
	"net/netip"
	"time"
)

// Rate is a limit of Limit attempts per Window. A key may spend its whole
// allowance at once and then earns one attempt back every Window/Limit.
type Rate struct {
	Limit  int
	Window time.Duration
}

// The default limit on login attempts, both per client address and per
// email: 10 failures every 15 minutes. An attacker gets 40 guesses an hour
// at one account; a person who mistypes gets several tries and then a wait
// of 90 seconds per further attempt.
const (
	DefaultLoginLimit  = 10
	DefaultLoginWindow = 15 * time.Minute
)

// valid reports whether the rate can be enforced.
func (r Rate) valid() bool { return r.Limit > 0 && r.Window > 0 }

// interval is the time that earns back one attempt.
func (r Rate) interval() time.Duration { return r.Window / time.Duration(r.Limit) }

// Decision is a Limiter's answer.
type Decision struct {
	// Allowed reports whether the attempt is within the limit.
	Allowed bool
	// RetryAfter is, when not allowed, how long until one more attempt
	// would be.
	RetryAfter time.Duration
}

// Limiter counts attempts per key against a Rate. Implementations must be
// safe for concurrent use, and Take must be atomic per key: two concurrent
// attempts can never both take the last allowance. A memory implementation
// serves one process; a shared one (Redis) is needed for several, so a
// client cannot multiply its allowance by the number of nodes. An error
// means the limiter could not decide; callers refuse the attempt rather
// than let it through unlimited.
type Limiter interface {
	// Take counts one attempt under key. When the attempt is over the
	// limit nothing is counted and the Decision says when to retry.
	Take(ctx context.Context, key string, rate Rate) (Decision, error)
	// Refund gives back one attempt previously taken under key, so that
	// only failed attempts count. It is a no-op for a key with nothing
	// taken.
	Refund(ctx context.Context, key string, rate Rate) error
}

// AddressKey is the part of a limiter key that names a client address, as
// the login limits key it: an IPv4 address as itself, an IPv6 address by
// its /64 (one host or home usually holds a whole /64, so keying single
// addresses would give it 2^64 allowances), the zero Addr as "unknown".
// Other limits per client address (the widget's conversation starts) use
// it so that every limit counts a client the same way.
func AddressKey(a netip.Addr) string { return addrKey(a) }
