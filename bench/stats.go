package bench

import (
	"math"
	"slices"
	"time"
)

// Percentiles summarizes durations, in milliseconds.
type Percentiles struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
	Mean  float64 `json:"mean_ms"`
}

// summarize sorts d in place and returns its percentiles (nearest rank).
func summarize(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	var sum float64
	for _, x := range d {
		sum += ms(x)
	}
	return Percentiles{
		Count: len(d),
		P50:   ms(rank(d, 0.50)),
		P90:   ms(rank(d, 0.90)),
		P99:   ms(rank(d, 0.99)),
		Max:   ms(d[len(d)-1]),
		Mean:  sum / float64(len(d)),
	}
}

// rank is the nearest-rank percentile of sorted d.
func rank(sorted []time.Duration, p float64) time.Duration {
	i := int(math.Ceil(p*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Errors counts what went wrong on the client side of a load.
type Errors struct {
	// Connect: dials or handshakes that failed; ConnectCauses splits them
	// ("HTTP 429", "HTTP 503", "timeout", "refused", "other").
	Connect       int64            `json:"connect"`
	ConnectCauses map[string]int64 `json:"connect_causes,omitempty"`
	// Timeouts: no welcome, reply or echo within the 5 s reply timeout.
	Timeouts int64 `json:"timeouts"`
	// Frames: error frames the server sent, by code.
	Frames map[string]int64 `json:"error_frames,omitempty"`
	// Unexpected: a reply that is not the script's next one, a socket the
	// server closed, a frame that does not decode.
	Unexpected int64 `json:"unexpected"`
	// Observer: cross-node observer sockets that failed or missed events
	// (cluster mode).
	Observer int64 `json:"observer"`
}

// Total is every error counted.
func (e Errors) Total() int64 {
	n := e.Connect + e.Timeouts + e.Unexpected + e.Observer
	for _, v := range e.Frames {
		n += v
	}
	return n
}

func (e *Errors) frame(code string) {
	if e.Frames == nil {
		e.Frames = map[string]int64{}
	}
	e.Frames[code]++
}

// connect counts a failed dial under its cause.
func (e *Errors) connect(cause string) {
	e.Connect++
	if e.ConnectCauses == nil {
		e.ConnectCauses = map[string]int64{}
	}
	e.ConnectCauses[cause]++
}

func (e *Errors) add(o Errors) {
	e.Connect += o.Connect
	for k, v := range o.ConnectCauses {
		if e.ConnectCauses == nil {
			e.ConnectCauses = map[string]int64{}
		}
		e.ConnectCauses[k] += v
	}
	e.Timeouts += o.Timeouts
	e.Unexpected += o.Unexpected
	e.Observer += o.Observer
	for k, v := range o.Frames {
		if e.Frames == nil {
			e.Frames = map[string]int64{}
		}
		e.Frames[k] += v
	}
}
