package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"github.com/frontdesk/frontdesk/wire"
)

// Client bounds.
const (
	// replyTimeout is how long a visitor waits for a welcome, a reply or
	// an echo before it counts a timeout and drops the conversation.
	replyTimeout = 5 * time.Second
	// clientRate and clientBurst pace each visitor's frames under the
	// server's per-socket limit (wire.RateLimit frames per second, bursts
	// of wire.RateBurst), as a well-behaved widget would.
	clientRate  = 9.5
	clientBurst = 10
	// visitorsPerAddr and idlePerAddr spread sockets over loopback source
	// addresses (127.10.x.y), under the server's per-address cap
	// (api.MaxVisitorSocketsPerIP = 50) with room for sockets that are
	// still closing.
	visitorsPerAddr = 10
	idlePerAddr     = 40
	// lateThreshold: an open-loop send this far behind its schedule
	// counts as late (the visitor was still waiting for a reply).
	lateThreshold = 10 * time.Millisecond
	// maxConversations bounds one visitor's loop besides the clock.
	maxConversations = 1 << 20
	// observerWait bounds how long a conversation's end waits for the
	// cross-node observer to see the last event.
	observerWait = 2 * time.Second
)

// Source address pools, by index into loopbackIP.
const (
	poolVisitors  = 0
	poolObservers = 100_000
	poolIdle      = 200_000
	poolWarm      = 300_000
)

// loopbackIP returns the n-th client source address, 127.10.0.1 onwards.
// All of 127.0.0.0/8 is loopback on Linux, so each is a local address a
// client can bind; the server sees them as different visitors.
func loopbackIP(n int) net.IP {
	return net.IPv4(127, byte(10+n/62500), byte(1+(n/250)%250), byte(1+n%250))
}

// step is one visitor message and a piece of the bot's first reply to it.
type step struct{ say, expect string }

// greeting is a piece of the template's first bot message.
const greeting = "Looking for the right plan"

// scripts are the two happy paths of the lead-qualification template, from
// its golden transcripts (small-team and mid-pricing). Visitors alternate
// between them; each ends the conversation.
var scripts = [][]step{
	{
		{"Get a quote", "How many people"},
		{"4", "monthly budget"},
		{"$200", "work email"},
		{"solo@example.com", "When would you like to start"},
		{"Just exploring", "Starter plan"},
		{"Léa", "company's name"},
		{"skip", "Thanks Léa!"},
	},
	{
		{"Get a quote", "How many people"},
		{"40", "monthly budget"},
		{"1,500", "work email"},
		{"team@example.com", "When would you like to start"},
		{"This quarter", "Our plans start"},
		{"No thanks", "Thanks for stopping by"},
	},
}

// meanScriptLen is the mean number of visitor messages per conversation.
func meanScriptLen() float64 {
	n := 0
	for _, s := range scripts {
		n += len(s)
	}
	return float64(n) / float64(len(scripts))
}

var helloFrame = wire.EncodeClient(&wire.Hello{Locale: "en-US", PageURL: Origin + "/pricing"})

// endpoint is what a load talks to: frontdesk nodes or the echo floor.
type endpoint struct {
	floor bool
	// urls are websocket URLs, one per node.
	urls []string
}

// dialError is a failed dial with its cause for the error counts.
type dialError struct {
	cause string
	err   error
}

func (e *dialError) Error() string { return e.cause + ": " + e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// dial opens a websocket from a loopback source address.
func dial(ctx context.Context, url string, src net.IP) (*websocket.Conn, error) {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: src}, Timeout: replyTimeout}
	d := websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: replyTimeout, ReadBufferSize: 4096, WriteBufferSize: 4096}
	conn, resp, err := d.DialContext(ctx, url, http.Header{"Origin": {Origin}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil {
		cause := "other"
		switch {
		case resp != nil:
			cause = "HTTP " + strconv.Itoa(resp.StatusCode)
		case isTimeout(err):
			cause = "timeout"
		case errors.Is(err, syscall.ECONNREFUSED):
			cause = "refused"
		}
		return nil, &dialError{cause: cause, err: err}
	}
	conn.SetReadLimit(wire.MaxServerFrameBytes)
	return conn, nil
}

// countDial files a failed dial under its cause.
func (e *Errors) countDial(err error) {
	var de *dialError
	if errors.As(err, &de) {
		e.connect(de.cause)
		return
	}
	e.connect("other")
}

// hangUp closes a socket politely: a close frame, then the connection.
func hangUp(conn *websocket.Conn) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = conn.Close()
}

var errBadFrame = errors.New("bench: bad frame from the server")

// inFrame is what a visitor needs of a server frame.
type inFrame struct {
	typ      string
	at       time.Time
	seq      int64
	author   string
	text     string
	clientID string
	code     string
	welcome  *wire.Welcome
}

// readFrame reads and decodes one server frame, stamping its arrival.
func readFrame(conn *websocket.Conn) (inFrame, error) {
	kind, data, err := conn.ReadMessage()
	at := time.Now()
	if err != nil {
		return inFrame{}, err
	}
	if kind != websocket.TextMessage {
		return inFrame{}, errBadFrame
	}
	f, err := wire.DecodeServer(data)
	if err != nil {
		var fe *wire.FrameError
		if errors.As(err, &fe) && fe.Code == wire.CodeUnknownType {
			return inFrame{typ: "unknown", at: at}, nil
		}
		return inFrame{}, fmt.Errorf("%w: %v", errBadFrame, err)
	}
	out := inFrame{typ: f.Type(), at: at}
	switch f := f.(type) {
	case *wire.Welcome:
		out.welcome = f
	case *wire.Event:
		out.seq = f.Seq
		if f.Message != nil {
			out.author, out.text, out.clientID = f.Message.Author, f.Message.Text, f.Message.ClientID
		}
	case *wire.Ack:
		out.seq, out.clientID = f.Seq, f.ClientID
	case *wire.ErrorFrame:
		out.code = string(f.Code)
	}
	return out, nil
}

func isBot(f *inFrame) bool {
	return f.typ == wire.TypeEvent && (f.author == wire.AuthorBot || f.author == wire.AuthorSystem)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// countReadErr files a failed read under timeouts or unexpected.
func (e *Errors) countRead(err error) {
	if isTimeout(err) {
		e.Timeouts++
	} else {
		e.Unexpected++
	}
}

// window is the measured part of a load; warm-up comes before start.
type window struct{ start, end time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.start) && t.Before(w.end) }

// clientStats is one visitor's tally; a load merges them at the end.
type clientStats struct {
	reply, start       []time.Duration
	obsDelay, obsReply []time.Duration
	messages           int64
	conversations      int64
	lateSends          int64
	errs               Errors
}

func (s *clientStats) merge(o *clientStats) {
	s.reply = append(s.reply, o.reply...)
	s.start = append(s.start, o.start...)
	s.obsDelay = append(s.obsDelay, o.obsDelay...)
	s.obsReply = append(s.obsReply, o.obsReply...)
	s.messages += o.messages
	s.conversations += o.conversations
	s.lateSends += o.lateSends
	s.errs.add(o.errs)
}

// bucket paces one visitor's frames (clientRate, clientBurst).
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) wait(ctx context.Context) bool {
	for i := 0; i < 100; i++ {
		now := time.Now()
		b.tokens = math.Min(clientBurst, b.tokens+now.Sub(b.last).Seconds()*clientRate)
		b.last = now
		if b.tokens >= 1 {
			b.tokens--
			return true
		}
		if !sleepCtx(ctx, time.Duration((1-b.tokens)/clientRate*float64(time.Second))+time.Millisecond) {
			return false
		}
	}
	return false
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool { return sleepCtx(ctx, time.Until(t)) }

// loadSpec is one load: who, how many, how fast, how long.
type loadSpec struct {
	endpoint
	visitors int
	// rate is visitor messages per second in total; 0 saturates.
	rate    float64
	observe bool
	win     window
}

// visitor walks scripts over and over on its own socket.
type visitor struct {
	id       int
	spec     *loadSpec
	bucket   bucket
	next     time.Time
	interval time.Duration
	st       clientStats
}

func newVisitor(id int, spec *loadSpec, begin time.Time) *visitor {
	v := &visitor{id: id, spec: spec, bucket: bucket{tokens: clientBurst, last: begin}}
	if spec.rate > 0 {
		v.interval = time.Duration(float64(spec.visitors) / spec.rate * float64(time.Second))
		v.next = begin.Add(time.Duration(rand.Int64N(int64(v.interval) + 1)))
	}
	return v
}

func (v *visitor) run(ctx context.Context) {
	for n := 0; n < maxConversations && ctx.Err() == nil && time.Now().Before(v.spec.win.end); n++ {
		var ok bool
		if v.spec.floor {
			ok = v.echoConversation(ctx, n)
		} else {
			ok = v.conversation(ctx, n)
		}
		if !ok {
			// Back off after a failure, as a widget would.
			sleepCtx(ctx, 100*time.Millisecond+time.Duration(rand.Int64N(int64(100*time.Millisecond))))
		}
	}
}

// pace waits for the visitor's next open-loop slot (none when saturating)
// and returns it; false when the window or ctx ends first.
func (v *visitor) pace(ctx context.Context) (time.Time, bool) {
	if v.spec.rate <= 0 {
		return time.Now(), true
	}
	sched := v.next
	if !sched.Before(v.spec.win.end) || !sleepUntil(ctx, sched) {
		return sched, false
	}
	v.next = sched.Add(v.interval)
	if now := time.Now(); v.next.Before(now.Add(-v.interval)) {
		v.next = now // more than a slot behind: drop the missed slots
	}
	return sched, true
}

func (v *visitor) sent(sched, t0 time.Time) {
	if v.spec.rate > 0 && v.spec.win.contains(t0) && t0.Sub(sched) > lateThreshold {
		v.st.lateSends++
	}
}

func (v *visitor) over(ctx context.Context) bool {
	return ctx.Err() != nil || !time.Now().Before(v.spec.win.end)
}

func clientID(v, conv, step int) string {
	return "b" + strconv.Itoa(v) + "-" + strconv.Itoa(conv) + "-" + strconv.Itoa(step)
}

// conversation is one walk through a script on a frontdesk node: connect,
// hello, then each message and its reply. It returns false on an error.
func (v *visitor) conversation(ctx context.Context, n int) bool {
	node := v.id % len(v.spec.urls)
	conn, err := dial(ctx, v.spec.urls[node], loopbackIP(poolVisitors+v.id/visitorsPerAddr))
	if err != nil {
		if ctx.Err() == nil {
			v.st.errs.countDial(err)
		}
		return false
	}
	defer hangUp(conn)
	if !v.bucket.wait(ctx) {
		return true
	}
	t0 := time.Now()
	if err := conn.WriteMessage(websocket.TextMessage, helloFrame); err != nil {
		v.st.errs.Unexpected++
		return false
	}
	_ = conn.SetReadDeadline(t0.Add(replyTimeout))
	var welcome *wire.Welcome
	var lastSeq int64
	greeted := time.Time{}
	for welcome == nil || greeted.IsZero() {
		f, err := readFrame(conn)
		if err != nil {
			v.st.errs.countRead(err)
			return false
		}
		switch {
		case f.typ == wire.TypeWelcome:
			welcome = f.welcome
		case f.typ == wire.TypeError:
			v.st.errs.frame(f.code)
			return false
		case isBot(&f):
			lastSeq = max(lastSeq, f.seq)
			if strings.Contains(f.text, greeting) {
				greeted = f.at
			}
		}
	}
	if v.spec.win.contains(t0) {
		v.st.start = append(v.st.start, greeted.Sub(t0))
	}

	// bots holds when each bot event reached this socket, and sentAt when
	// the message each reply answers was sent, for the observer.
	var obs *observer
	var bots map[int64]time.Time
	var sentAt map[int64]time.Time
	if v.spec.observe && len(v.spec.urls) > 1 {
		other := v.spec.urls[(node+1)%len(v.spec.urls)]
		obs, err = openObserver(ctx, other, loopbackIP(poolObservers+v.id/visitorsPerAddr), welcome.Token, lastSeq, v.spec.win.end)
		if err != nil {
			v.st.errs.Observer++
		} else {
			defer obs.close()
			bots, sentAt = map[int64]time.Time{}, map[int64]time.Time{}
		}
	}

	script := scripts[(v.id+n)%len(scripts)]
	var pending []inFrame
	for i, st := range script {
		if v.over(ctx) {
			return true // the run is over: leave mid-conversation
		}
		sched, ok := v.pace(ctx)
		if !ok || !v.bucket.wait(ctx) {
			return true
		}
		cid := clientID(v.id, n, i)
		frame := wire.EncodeClient(&wire.ClientMessage{ClientID: cid, Text: st.say})
		t0 := time.Now()
		v.sent(sched, t0)
		if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			v.st.errs.Unexpected++
			return false
		}
		_ = conn.SetReadDeadline(t0.Add(replyTimeout))
		mySeq := int64(-1)
		pending = pending[:0]
		var reply *inFrame
		for reply == nil {
			f, err := readFrame(conn)
			if err != nil {
				v.st.errs.countRead(err)
				return false
			}
			switch {
			case f.typ == wire.TypeAck && f.clientID == cid:
				mySeq = f.seq
			case f.typ == wire.TypeEvent && f.author == wire.AuthorVisitor && f.clientID == cid:
				mySeq = f.seq
			case f.typ == wire.TypeError:
				v.st.errs.frame(f.code)
				return false
			case isBot(&f):
				pending = append(pending, f)
				if bots != nil && v.spec.win.contains(f.at) {
					bots[f.seq] = f.at
				}
			}
			if mySeq < 0 {
				continue
			}
			// The reply is the first bot event after the visitor's
			// message; the ack and the events come in either order.
			for j := range pending {
				if p := &pending[j]; p.seq > mySeq && (reply == nil || p.seq < reply.seq) {
					reply = p
				}
			}
		}
		if !strings.Contains(reply.text, st.expect) {
			v.st.errs.Unexpected++
			return false
		}
		if v.spec.win.contains(t0) {
			v.st.reply = append(v.st.reply, reply.at.Sub(t0))
			v.st.messages++
			if sentAt != nil {
				sentAt[reply.seq] = t0
			}
		}
		lastSeq = max(lastSeq, reply.seq)
	}
	if v.spec.win.contains(time.Now()) {
		v.st.conversations++
	}
	if obs != nil {
		v.crossNode(obs, bots, sentAt, lastSeq)
	}
	return true
}

// crossNode compares when each bot event reached the visitor's node and
// the observer's (another node, through Redis).
func (v *visitor) crossNode(obs *observer, bots, sentAt map[int64]time.Time, lastSeq int64) {
	if !obs.waitSeq(lastSeq, observerWait) {
		v.st.errs.Observer++
	}
	seen := obs.snapshot()
	for seq, at := range bots {
		oat, ok := seen[seq]
		if !ok {
			continue
		}
		v.st.obsDelay = append(v.st.obsDelay, oat.Sub(at))
		if t0, ok := sentAt[seq]; ok {
			v.st.obsReply = append(v.st.obsReply, oat.Sub(t0))
		}
	}
}

// echoConversation is the floor's counterpart of conversation: the same
// connect, hello and script, but each frame's reply is its echo.
func (v *visitor) echoConversation(ctx context.Context, n int) bool {
	conn, err := dial(ctx, v.spec.urls[v.id%len(v.spec.urls)], loopbackIP(poolVisitors+v.id/visitorsPerAddr))
	if err != nil {
		if ctx.Err() == nil {
			v.st.errs.countDial(err)
		}
		return false
	}
	defer hangUp(conn)
	if !v.bucket.wait(ctx) {
		return true
	}
	t0 := time.Now()
	at, ok := v.echo(conn, helloFrame, t0)
	if !ok {
		return false
	}
	if v.spec.win.contains(t0) {
		v.st.start = append(v.st.start, at.Sub(t0))
	}
	script := scripts[(v.id+n)%len(scripts)]
	for i, st := range script {
		if v.over(ctx) {
			return true
		}
		sched, ok := v.pace(ctx)
		if !ok || !v.bucket.wait(ctx) {
			return true
		}
		frame := wire.EncodeClient(&wire.ClientMessage{ClientID: clientID(v.id, n, i), Text: st.say})
		t0 := time.Now()
		v.sent(sched, t0)
		at, ok := v.echo(conn, frame, t0)
		if !ok {
			return false
		}
		if v.spec.win.contains(t0) {
			v.st.reply = append(v.st.reply, at.Sub(t0))
			v.st.messages++
		}
	}
	if v.spec.win.contains(time.Now()) {
		v.st.conversations++
	}
	return true
}

// echo sends frame and waits for it to come back.
func (v *visitor) echo(conn *websocket.Conn, frame []byte, t0 time.Time) (time.Time, bool) {
	if err := conn.WriteMessage(websocket.TextMessage, frame); err != nil {
		v.st.errs.Unexpected++
		return time.Time{}, false
	}
	_ = conn.SetReadDeadline(t0.Add(replyTimeout))
	_, data, err := conn.ReadMessage()
	at := time.Now()
	if err != nil {
		v.st.errs.countRead(err)
		return at, false
	}
	if !bytes.Equal(data, frame) {
		v.st.errs.Unexpected++
		return at, false
	}
	return at, true
}

// observer is a second socket on the same conversation, on another node:
// it resumes with the visitor's token and records when events reach it.
type observer struct {
	conn *websocket.Conn
	mu   sync.Mutex
	seen map[int64]time.Time
	max  int64
	done chan struct{}
}

func openObserver(ctx context.Context, url string, src net.IP, token string, lastSeq int64, end time.Time) (*observer, error) {
	conn, err := dial(ctx, url, src)
	if err != nil {
		return nil, err
	}
	o := &observer{conn: conn, seen: map[int64]time.Time{}, done: make(chan struct{})}
	hello := wire.EncodeClient(&wire.Hello{Token: token, LastSeq: lastSeq})
	// The pong proves the observer's subscription is in place: the server
	// handles the ping only after the hello's subscribe and replay.
	if conn.WriteMessage(websocket.TextMessage, hello) != nil || conn.WriteMessage(websocket.TextMessage, wire.EncodeClient(&wire.Ping{})) != nil {
		conn.Close()
		return nil, errors.New("bench: observer write failed")
	}
	_ = conn.SetReadDeadline(time.Now().Add(replyTimeout))
	for {
		f, err := readFrame(conn)
		if err != nil {
			conn.Close()
			return nil, err
		}
		if f.typ == wire.TypePong {
			break
		}
		if f.typ == wire.TypeError {
			conn.Close()
			return nil, fmt.Errorf("bench: observer got error %s", f.code)
		}
		o.record(&f)
	}
	// Bounded: the visitor closes the socket at the end of the
	// conversation, and the deadline ends it in any case.
	_ = conn.SetReadDeadline(end.Add(replyTimeout + observerWait))
	go func() {
		defer close(o.done)
		for {
			f, err := readFrame(conn)
			if err != nil {
				return
			}
			o.record(&f)
		}
	}()
	return o, nil
}

func (o *observer) record(f *inFrame) {
	if !isBot(f) {
		return
	}
	o.mu.Lock()
	if _, dup := o.seen[f.seq]; !dup {
		o.seen[f.seq] = f.at
	}
	o.max = max(o.max, f.seq)
	o.mu.Unlock()
}

// waitSeq waits until the observer has seen seq, for at most d.
func (o *observer) waitSeq(seq int64, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		o.mu.Lock()
		ok := o.max >= seq
		o.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-o.done:
			return false
		case <-time.After(2 * time.Millisecond):
		}
	}
	return false
}

func (o *observer) snapshot() map[int64]time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make(map[int64]time.Time, len(o.seen))
	for k, v := range o.seen {
		out[k] = v
	}
	return out
}

func (o *observer) close() {
	hangUp(o.conn)
	select {
	case <-o.done:
	case <-time.After(time.Second):
	}
}
