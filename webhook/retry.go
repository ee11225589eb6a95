package webhook

import "time"

// RetryPolicy decides when a failed delivery is tried again, and when it is
// given up. It is pure: the time and the random draw come in as arguments.
type RetryPolicy struct {
	// Delays[i] is the wait after failed attempt i+1; past the end, the
	// last delay repeats.
	Delays []time.Duration
	// MaxAttempts is how many attempts are made before the delivery goes
	// to the dead letter.
	MaxAttempts int
	// Jitter spreads each delay by ±Jitter (0.2 is ±20 %), so receivers
	// coming back from an outage are not hit by every retry at once.
	Jitter float64
}

// DefaultRetryPolicy retries after 5 s, 30 s, 2 min, 10 min, 1 h, 6 h and
// 12 h (±20 %), so the 8th and last attempt comes about 19 hours after the
// first; then the delivery is dead.
var DefaultRetryPolicy = RetryPolicy{
	Delays: []time.Duration{
		5 * time.Second, 30 * time.Second, 2 * time.Minute, 10 * time.Minute,
		time.Hour, 6 * time.Hour, 12 * time.Hour,
	},
	MaxAttempts: 8,
	Jitter:      0.2,
}

// NextRetryAt returns when to try again after attempt (counted from 1)
// failed at now, with r a random draw in [0, 1); ok is false when attempt
// was the last one.
func (p RetryPolicy) NextRetryAt(now time.Time, attempt int, r float64) (next time.Time, ok bool) {
	if attempt >= p.MaxAttempts || len(p.Delays) == 0 {
		return time.Time{}, false
	}
	i := max(attempt-1, 0)
	i = min(i, len(p.Delays)-1)
	d := float64(p.Delays[i])
	d *= 1 - p.Jitter + 2*p.Jitter*min(max(r, 0), 1)
	return now.Add(time.Duration(d)), true
}
