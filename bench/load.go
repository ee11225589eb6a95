package bench

import (
	"context"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/wire"
)

// cpuSample is a sample of the CPU used so far by the server processes, the
// bench itself and the machine.
type cpuSample struct {
	at          time.Time
	server      float64
	self        float64
	busy, total float64
}

func sampleUsage(pids []int) cpuSample {
	u := cpuSample{at: time.Now()}
	for _, pid := range pids {
		if c, err := procCPU(pid); err == nil {
			u.server += c
		}
	}
	if c, err := procCPU(os.Getpid()); err == nil {
		u.self = c
	}
	u.busy, u.total, _ = machineCPU()
	return u
}

func totalRSS(pids []int) int64 {
	var n int64
	for _, pid := range pids {
		if r, err := procRSS(pid); err == nil {
			n += r
		}
	}
	return n
}

// loadOutcome is a load's merged client tally and the server's usage over
// its window.
type loadOutcome struct {
	stats          clientStats
	window         time.Duration
	before, after  cpuSample
	rssEnd, rssMax int64
}

// runLoad starts spec.visitors visitors (spread over the first second of
// the warm-up), measures the servers over spec.win and waits for every
// visitor to stop: each stops at the window's end, after at most one reply
// timeout.
func runLoad(ctx context.Context, spec loadSpec, pids []int) loadOutcome {
	begin := time.Now()
	lctx, cancel := context.WithDeadline(ctx, spec.win.end.Add(replyTimeout+3*time.Second))
	defer cancel()
	stagger := min(spec.win.start.Sub(begin), time.Second) / time.Duration(max(spec.visitors, 1))
	vs := make([]*visitor, spec.visitors)
	var wg sync.WaitGroup
	for i := range vs {
		start := begin.Add(stagger * time.Duration(i))
		vs[i] = newVisitor(i, &spec, start)
		wg.Add(1)
		go func(v *visitor) {
			defer wg.Done()
			if sleepUntil(lctx, start) {
				v.run(lctx)
			}
		}(vs[i])
	}

	var out loadOutcome
	sleepUntil(ctx, spec.win.start)
	out.before = sampleUsage(pids)
	tick := time.NewTicker(250 * time.Millisecond)
	for time.Now().Before(spec.win.end) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
			out.rssMax = max(out.rssMax, totalRSS(pids))
		}
	}
	tick.Stop()
	out.after = sampleUsage(pids)
	out.rssEnd = totalRSS(pids)
	out.rssMax = max(out.rssMax, out.rssEnd)
	out.window = out.after.at.Sub(out.before.at)
	wg.Wait()
	for _, v := range vs {
		out.stats.merge(&v.st)
	}
	return out
}

// Idle reports what K connected but silent visitors cost the server.
type Idle struct {
	// Sockets is how many were asked for, Opened how many made it.
	Sockets int `json:"sockets"`
	Opened  int `json:"opened"`
	// RSSBeforeBytes and RSSAfterBytes are the servers' resident memory
	// before the sockets opened and a second after the last one did.
	RSSBeforeBytes int64 `json:"rss_before_bytes"`
	RSSAfterBytes  int64 `json:"rss_after_bytes"`
	// BytesPerSocket is (after - before) / opened.
	BytesPerSocket float64 `json:"bytes_per_socket"`
	Errors         int64   `json:"errors"`
}

// Bounds of the idle measure.
const (
	idleTimeout  = 90 * time.Second
	idleDialers  = 16
	idleSettle   = time.Second
	warmSockets  = 20
	idleDrainFor = 2 * time.Second
)

// openIdle opens k sockets, each through its handshake (hello and welcome
// with the greeting on frontdesk, one echo on the floor), with a few
// dialers at a time, for at most idleTimeout.
func openIdle(ctx context.Context, ep endpoint, k, pool int) ([]*websocket.Conn, int64) {
	ctx, cancel := context.WithTimeout(ctx, idleTimeout)
	defer cancel()
	jobs := make(chan int)
	var mu sync.Mutex
	var conns []*websocket.Conn
	var errs int64
	var wg sync.WaitGroup
	for w := 0; w < idleDialers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				conn, err := idleSocket(ctx, ep, j, pool)
				mu.Lock()
				if err != nil {
					errs++
				} else {
					conns = append(conns, conn)
				}
				mu.Unlock()
			}
		}()
	}
	for j := 0; j < k && ctx.Err() == nil; j++ {
		select {
		case jobs <- j:
		case <-ctx.Done():
		}
	}
	close(jobs)
	wg.Wait()
	return conns, errs
}

func idleSocket(ctx context.Context, ep endpoint, j, pool int) (*websocket.Conn, error) {
	conn, err := dial(ctx, ep.urls[j%len(ep.urls)], loopbackIP(pool+j/idlePerAddr))
	if err != nil {
		return nil, err
	}
	if err := conn.WriteMessage(websocket.TextMessage, helloFrame); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(replyTimeout))
	if ep.floor {
		if _, _, err := conn.ReadMessage(); err != nil {
			conn.Close()
			return nil, err
		}
	} else {
		welcomed, greeted := false, false
		for !welcomed || !greeted {
			f, err := readFrame(conn)
			if err != nil {
				conn.Close()
				return nil, err
			}
			switch {
			case f.typ == wire.TypeWelcome:
				welcomed = true
			case f.typ == wire.TypeError:
				conn.Close()
				return nil, errBadFrame
			case isBot(&f):
				greeted = true
			}
		}
	}
	_ = conn.SetReadDeadline(time.Time{})
	return conn, nil
}

func closeAll(conns []*websocket.Conn) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func(c *websocket.Conn) {
			defer wg.Done()
			hangUp(c)
			<-sem
		}(c)
	}
	wg.Wait()
}

// measureIdle warms the servers up (a few sockets through their
// handshake, so compiled playbooks and pools exist), then opens k idle
// sockets and reports the servers' RSS growth per socket. The sockets are
// closed before it returns.
func measureIdle(ctx context.Context, ep endpoint, k int, pids []int) Idle {
	out := Idle{Sockets: k}
	warm, _ := openIdle(ctx, ep, warmSockets, poolWarm)
	closeAll(warm)
	sleepCtx(ctx, idleSettle)
	if k <= 0 {
		return out
	}
	out.RSSBeforeBytes = totalRSS(pids)
	conns, errs := openIdle(ctx, ep, k, poolIdle)
	sleepCtx(ctx, idleSettle)
	out.RSSAfterBytes = totalRSS(pids)
	out.Opened, out.Errors = len(conns), errs
	if out.Opened > 0 {
		out.BytesPerSocket = float64(out.RSSAfterBytes-out.RSSBeforeBytes) / float64(out.Opened)
	}
	closeAll(conns)
	// Let the servers release the sockets before the load starts.
	sleepCtx(ctx, idleDrainFor)
	return out
}
