package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// Dispatcher defaults and bounds.
const (
	// DefaultConcurrency bounds the deliveries in flight per process.
	DefaultConcurrency = 8
	// DefaultPollInterval is how often the outbox and the due deliveries
	// are polled when nothing else wakes the dispatcher.
	DefaultPollInterval = time.Second
	// DefaultBatchSize is how many outbox events one claim fans out.
	DefaultBatchSize = 100
	// DefaultAttemptTimeout bounds one attempt: connecting, TLS, sending,
	// the response headers and reading the capped response body.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultLease is how long a claimed delivery is left to its worker
	// before another may claim it again. It must outlast an attempt.
	DefaultLease = time.Minute
	// DefaultOutboxLease is the same for an outbox event being fanned out.
	DefaultOutboxLease = time.Minute
	// DefaultMaxBodyBytes bounds a delivery's body. A bigger event is never
	// sent: its deliveries go straight to the dead letter (see Config).
	DefaultMaxBodyBytes = 256 << 10
	// DefaultMaxResponseBytes caps what is read of a receiver's response;
	// the rest is not read, and what is read is discarded but for a short
	// excerpt kept in the delivery's last error.
	DefaultMaxResponseBytes = 64 << 10
	// DefaultMaxRedirects bounds the 307/308 redirects followed.
	DefaultMaxRedirects = 3
	// DefaultSweepInterval is how often rotated-out secrets past their
	// grace period are dropped from the database.
	DefaultSweepInterval = time.Minute
	// DefaultSecretGrace is how long a rotated-out secret keeps signing.
	DefaultSecretGrace = 24 * time.Hour
	// UserAgent is sent with every delivery.
	UserAgent = "Frontdesk-Webhooks/1"
)

// errorExcerptBytes is how much of a failing receiver's body is kept in
// the delivery's last error, for the admin looking at the dead letter.
const errorExcerptBytes = 256

// recordTimeout bounds writing an attempt's outcome, which runs even while
// the dispatcher stops so that a sent delivery is marked when possible.
const recordTimeout = 10 * time.Second

// maxFanOutRounds bounds the outbox batches fanned out per poll, so a
// backlog of events does not starve the deliveries.
const maxFanOutRounds = 10

// Config configures a Dispatcher. Zero fields take the defaults above.
type Config struct {
	// Store is the database. Required.
	Store *storage.Store
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock of claims, signatures and backoff. Defaults to
	// time.Now. Tests move it instead of sleeping.
	Now func() time.Time
	// Jitter returns a random draw in [0, 1) for RetryPolicy. Defaults to
	// math/rand/v2.Float64.
	Jitter func() float64
	// Concurrency bounds the deliveries in flight in this process.
	// Defaults to DefaultConcurrency. A subscription has at most one
	// delivery in flight per process, so a slow receiver holds one worker.
	Concurrency int
	// PollInterval defaults to DefaultPollInterval.
	PollInterval time.Duration
	// BatchSize defaults to DefaultBatchSize.
	BatchSize int
	// AttemptTimeout defaults to DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// Lease defaults to DefaultLease; it must be at least twice
	// AttemptTimeout, or a slow attempt would be claimed again while it
	// still runs.
	Lease time.Duration
	// OutboxLease defaults to DefaultOutboxLease.
	OutboxLease time.Duration
	// MaxBodyBytes defaults to DefaultMaxBodyBytes. Events are bounded
	// when queued too (storage.MaxJSONBytes); one between the two bounds is
	// refused here rather than truncated, since a truncated JSON document
	// would be a different event under the same id.
	MaxBodyBytes int
	// MaxResponseBytes defaults to DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// MaxRedirects defaults to DefaultMaxRedirects; a negative value
	// follows none. Only 307 and 308 are followed: 301, 302 and 303 would
	// turn the POST into a body-less GET.
	MaxRedirects int
	// Retry defaults to DefaultRetryPolicy.
	Retry RetryPolicy
	// SweepInterval defaults to DefaultSweepInterval.
	SweepInterval time.Duration
	// Resolver resolves receiver host names at dial time. Defaults to
	// net.DefaultResolver.
	Resolver *net.Resolver
	// AllowPrivate turns the SSRF checks off and permits http. Only tests
	// set it; production never should.
	AllowPrivate bool
	// AllowAddrs exempts exact ip:port pairs from the SSRF checks, and
	// permits http. A test sets it to its receiver's listener, so that the
	// first hop is allowed while every other internal address, redirect
	// hops included, is still refused.
	AllowAddrs []netip.AddrPort
}

func (c *Config) setDefaults() {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = DefaultAttemptTimeout
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.OutboxLease <= 0 {
		c.OutboxLease = DefaultOutboxLease
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxResponseBytes <= 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.Retry.MaxAttempts <= 0 || len(c.Retry.Delays) == 0 {
		c.Retry = DefaultRetryPolicy
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
}

func (c *Config) validate() error {
	if c.Store == nil {
		return errors.New("webhook: Config.Store is required")
	}
	if c.Lease < 2*c.AttemptTimeout {
		return fmt.Errorf("webhook: Config.Lease (%v) must be at least twice Config.AttemptTimeout (%v)", c.Lease, c.AttemptTimeout)
	}
	if c.Concurrency > storage.MaxListLimit {
		return fmt.Errorf("webhook: Config.Concurrency (%d) is over %d", c.Concurrency, storage.MaxListLimit)
	}
	if c.Retry.Jitter < 0 || c.Retry.Jitter >= 1 {
		return fmt.Errorf("webhook: Config.Retry.Jitter (%v) must be in [0, 1)", c.Retry.Jitter)
	}
	return nil
}

// Dispatcher delivers the outbox's events to the subscriptions: it fans
// each event out into per-subscription deliveries, sends them, retries the
// failures with backoff, and dead-letters the hopeless. Several
// dispatchers (one per process) may run on one database: claims never hand
// the same event or delivery to two of them within a lease.
//
// Delivery is at-least-once: an attempt is marked delivered only after a
// 2xx, so a dispatcher that dies in between leaves the delivery to be sent
// again, with the same webhook-id, once its lease expires. A Dispatcher is
// safe for concurrent use.
type Dispatcher struct {
	cfg       Config
	client    *http.Client
	log       *slog.Logger
	allowHTTP bool

	mu        sync.Mutex
	inflight  int
	busy      map[string]int // subscription id → deliveries in flight
	lastSweep time.Time
	running   sync.WaitGroup
	wake      chan struct{}
}

// NewDispatcher checks cfg and builds a dispatcher; call Run to start it.
func NewDispatcher(cfg Config) (*Dispatcher, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.AllowAddrs = slices.Clone(cfg.AllowAddrs)
	d := &Dispatcher{
		cfg:       cfg,
		log:       cfg.Logger,
		allowHTTP: cfg.AllowPrivate || len(cfg.AllowAddrs) > 0,
		busy:      map[string]int{},
		wake:      make(chan struct{}, 1),
	}
	d.client = d.newClient()
	return d, nil
}

// exempt reports whether a test exempted ap from the SSRF checks.
func (d *Dispatcher) exempt(ap netip.AddrPort) bool {
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	return slices.Contains(d.cfg.AllowAddrs, ap)
}

// newClient builds the HTTP client of deliveries. Every connection, the
// first and each redirect hop's, goes through chat.SafeDialer, which checks
// the address actually dialed after DNS resolution.
func (d *Dispatcher) newClient() *http.Client {
	dialer := chat.SafeDialer(d.cfg.AllowPrivate)
	dialer.Resolver = d.cfg.Resolver
	if len(d.cfg.AllowAddrs) > 0 && !d.cfg.AllowPrivate {
		check := dialer.Control
		dialer.Control = func(network, address string, c syscall.RawConn) error {
			if ap, err := netip.ParseAddrPort(address); err == nil && d.exempt(ap) {
				return nil
			}
			return check(network, address, c)
		}
	}
	tr := &http.Transport{
		// A proxy would dial on our behalf, past the dial-time check.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           64,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        60 * time.Second,
		TLSHandshakeTimeout:    5 * time.Second,
		ResponseHeaderTimeout:  d.cfg.AttemptTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 16 << 10,
		// The capped read counts what the receiver sent, not what it
		// inflates to.
		DisableCompression: true,
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > d.cfg.MaxRedirects {
				return refuse("more than %d redirects", max(d.cfg.MaxRedirects, 0))
			}
			if req.Response != nil {
				switch req.Response.StatusCode {
				case http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
				default:
					return refuse("a %d redirect is not followed, as it would drop the POST body; point the subscription at the final URL", req.Response.StatusCode)
				}
			}
			if _, err := checkTarget(req.URL, d.allowHTTP, d.cfg.AllowPrivate, d.exempt); err != nil {
				return refuse("redirect refused: %v", err)
			}
			return nil
		},
	}
}

// Stats counts what one RunOnce did.
type Stats struct {
	// Events is how many outbox events were fanned out.
	Events int
	// Attempts is how many deliveries were sent (or tried).
	Attempts int
	// Delivered, Retrying and Dead split Attempts by outcome.
	Delivered, Retrying, Dead int
}

func (s *Stats) add(o Stats) {
	s.Events += o.Events
	s.Attempts += o.Attempts
	s.Delivered += o.Delivered
	s.Retrying += o.Retrying
	s.Dead += o.Dead
}

// Run delivers until ctx ends, then waits for the attempts in flight (each
// bounded by AttemptTimeout) and their bookkeeping before it returns.
// Attempts in flight are not cut short by ctx: one cut between the send
// and the mark would only be sent again.
func (d *Dispatcher) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			d.running.Wait()
			return
		case <-timer.C:
			now := d.cfg.Now()
			d.sweep(ctx, now)
			d.fanOut(ctx, now)
			d.start(ctx, now, nil)
			timer.Reset(d.cfg.PollInterval)
		case <-d.wake:
			// A worker finished: its slot (and its subscription) is free.
			d.start(ctx, d.cfg.Now(), nil)
		}
	}
}

// RunOnce fans out the due events, sends the due deliveries that fit in
// the free slots, and waits for them. Tests and tools drive the dispatcher
// with it, step by step, on their own clock.
func (d *Dispatcher) RunOnce(ctx context.Context) Stats {
	now := d.cfg.Now()
	d.sweep(ctx, now)
	st := Stats{Events: d.fanOut(ctx, now)}
	results := make(chan outcome, d.cfg.Concurrency)
	n := d.start(ctx, now, results)
	for range n {
		o := <-results
		st.Attempts++
		switch o {
		case outcomeDelivered:
			st.Delivered++
		case outcomeRetrying:
			st.Retrying++
		case outcomeDead:
			st.Dead++
		}
	}
	return st
}

// Drain runs RunOnce until a pass finds nothing due (at most 1000 passes),
// and returns the totals. Deliveries rescheduled into the future are left
// for a later clock.
func (d *Dispatcher) Drain(ctx context.Context) Stats {
	var total Stats
	for range 1000 {
		st := d.RunOnce(ctx)
		total.add(st)
		if st.Events == 0 && st.Attempts == 0 {
			break
		}
	}
	return total
}

// sweep drops expired rotated-out secrets, at most every SweepInterval.
func (d *Dispatcher) sweep(ctx context.Context, now time.Time) {
	d.mu.Lock()
	due := now.Sub(d.lastSweep) >= d.cfg.SweepInterval
	if due {
		d.lastSweep = now
	}
	d.mu.Unlock()
	if !due {
		return
	}
	if n, err := d.cfg.Store.DropExpiredWebhookSecrets(ctx, now); err != nil {
		d.log.Warn("webhook: drop expired secrets", "err", err)
	} else if n > 0 {
		d.log.Info("webhook: dropped rotated-out secrets", "count", n)
	}
}

// fanOut turns due outbox events into deliveries and returns how many
// events it handled.
func (d *Dispatcher) fanOut(ctx context.Context, now time.Time) int {
	handled := 0
	for range maxFanOutRounds {
		entries, err := d.cfg.Store.ClaimOutbox(ctx, now, d.cfg.BatchSize, d.cfg.OutboxLease)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("webhook: claim outbox", "err", err)
			}
			return handled
		}
		// RETURNING keeps no order: fan out oldest first, so each
		// subscription's deliveries follow the events' order.
		slices.SortFunc(entries, func(a, b storage.OutboxEntry) int {
			if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		handled += d.fanOutBatch(ctx, now, entries)
		if len(entries) < d.cfg.BatchSize {
			break
		}
	}
	return handled
}

// fanOutBatch fans the claimed events out in one transaction: one turn of
// SQLite's writer (and one commit) for the batch instead of one per event;
// each conversation start queues an event, so this is on the hot path. If
// any event fails, the batch rolls back and the events go one at a time,
// so that only the failing one is retried.
func (d *Dispatcher) fanOutBatch(ctx context.Context, now time.Time, entries []storage.OutboxEntry) int {
	if len(entries) == 0 {
		return 0
	}
	err := d.cfg.Store.InTx(ctx, func(tx *storage.Store) error {
		for i := range entries {
			if _, err := tx.FanOutWebhookEvent(ctx, &entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		return len(entries)
	}
	handled := 0
	for i := range entries {
		e := &entries[i]
		if _, err := d.cfg.Store.FanOutWebhookEvent(ctx, e); err != nil {
			d.fanOutFailed(ctx, now, e, err)
			continue
		}
		handled++
	}
	return handled
}

// fanOutFailed retries a fan-out that failed (the database, most likely)
// on the retry schedule, and gives the event up after the last attempt.
func (d *Dispatcher) fanOutFailed(ctx context.Context, now time.Time, e *storage.OutboxEntry, cause error) {
	next, ok := d.cfg.Retry.NextRetryAt(now, e.Attempts, d.cfg.Jitter())
	var err error
	if ok {
		err = d.cfg.Store.RescheduleOutbox(ctx, e.WorkspaceID, e.ID, next, "fan-out: "+cause.Error())
	} else {
		err = d.cfg.Store.DeadLetterOutbox(ctx, e.WorkspaceID, e.ID, fmt.Sprintf("fan-out failed %d times: %v", e.Attempts, cause))
	}
	d.log.Warn("webhook: fan out event", "event", e.EventID, "attempt", e.Attempts, "err", cause, "record_err", err)
}

// start claims as many due deliveries as there are free slots, skipping
// subscriptions already in flight, and starts a worker for each. Claiming
// only for free slots means a claimed delivery never waits in a queue while
// its lease runs. It returns how many it started; each reports its outcome
// on results when results is not nil.
func (d *Dispatcher) start(ctx context.Context, now time.Time, results chan<- outcome) int {
	d.mu.Lock()
	free := d.cfg.Concurrency - d.inflight
	skip := make([]string, 0, len(d.busy))
	for id := range d.busy {
		skip = append(skip, id)
	}
	d.mu.Unlock()
	if free <= 0 || ctx.Err() != nil {
		return 0
	}
	jobs, err := d.cfg.Store.ClaimWebhookDeliveries(ctx, now, free, d.cfg.Lease, skip)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("webhook: claim deliveries", "err", err)
		}
		return 0
	}
	for _, j := range jobs {
		d.mu.Lock()
		d.inflight++
		d.busy[j.Subscription.ID]++
		d.mu.Unlock()
		d.running.Add(1)
		go func() {
			defer d.running.Done()
			o := d.deliver(ctx, &j)
			if results != nil {
				results <- o
			}
		}()
	}
	return len(jobs)
}

type outcome int

const (
	outcomeDelivered outcome = iota
	outcomeRetrying
	outcomeDead
	outcomeUnrecorded
)

// deliver makes one attempt and records it.
func (d *Dispatcher) deliver(ctx context.Context, j *storage.WebhookJob) outcome {
	defer func() {
		d.mu.Lock()
		d.inflight--
		if d.busy[j.Subscription.ID]--; d.busy[j.Subscription.ID] <= 0 {
			delete(d.busy, j.Subscription.ID)
		}
		d.mu.Unlock()
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}()
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.cfg.AttemptTimeout)
	res := d.send(actx, j)
	cancel()
	return d.record(ctx, j, res)
}

// attempt is the result of one send.
type attempt struct {
	status int
	ok     bool
	// permanent failures are not retried: sending again would fail again.
	permanent bool
	err       string
}

// send POSTs one delivery. It touches no database, so a test can send and
// "crash" before the outcome is recorded.
func (d *Dispatcher) send(ctx context.Context, j *storage.WebhookJob) attempt {
	now := d.cfg.Now()
	sub := &j.Subscription
	if !sub.Enabled {
		return attempt{permanent: true, err: "the subscription is disabled"}
	}
	body, err := EncodeEvent(&j.Event)
	if err != nil {
		return attempt{permanent: true, err: "the event cannot be encoded: " + err.Error()}
	}
	if len(body) > d.cfg.MaxBodyBytes {
		return attempt{permanent: true, err: fmt.Sprintf("the event is %d bytes, over the %d-byte limit; it is never sent", len(body), d.cfg.MaxBodyBytes)}
	}
	u, err := url.Parse(sub.URL)
	if err != nil {
		return attempt{permanent: true, err: "the subscription URL is not valid"}
	}
	if _, err := checkTarget(u, d.allowHTTP, d.cfg.AllowPrivate, d.exempt); err != nil {
		return attempt{permanent: true, err: "the subscription URL is refused: " + err.Error()}
	}
	sig, err := SignatureHeader(sub.SigningSecrets(now), j.Event.EventID, now, body)
	if err != nil {
		return attempt{permanent: true, err: "the subscription's secret is not valid"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return attempt{permanent: true, err: "the request cannot be built: " + err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(HeaderID, j.Event.EventID)
	req.Header.Set(HeaderTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(HeaderSignature, sig)
	resp, err := d.client.Do(req)
	if err != nil {
		return attempt{err: d.describe(err)}
	}
	defer resp.Body.Close()
	excerpt := readCapped(resp.Body, d.cfg.MaxResponseBytes)
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return attempt{status: resp.StatusCode, ok: true}
	}
	msg := fmt.Sprintf("HTTP %d", resp.StatusCode)
	if excerpt != "" {
		msg += ": " + excerpt
	}
	return attempt{status: resp.StatusCode, err: msg}
}

// readCapped reads at most limit bytes of a response, discarding them but
// for a short excerpt. Errors (a receiver dripping its body past the
// deadline) end the read: the status line has already said what matters.
func readCapped(r io.Reader, limit int64) string {
	lr := io.LimitReader(r, limit)
	head := make([]byte, errorExcerptBytes)
	n, _ := io.ReadFull(lr, head)
	_, _ = io.Copy(io.Discard, lr)
	// The receiver's bytes are untrusted: valid UTF-8 on one line.
	s := strings.ToValidUTF8(string(head[:n]), "\uFFFD")
	return strings.Join(strings.Fields(s), " ")
}

// describe turns a client error into a line for the delivery's last error.
// Internal addresses are not named: the admin reading it is not
// necessarily someone who should learn the server's network.
func (d *Dispatcher) describe(err error) string {
	var ue *URLError
	var ne net.Error
	switch {
	case errors.Is(err, chat.ErrBlockedAddress):
		return "refused at connect time: the host resolved to an address that is not public"
	case errors.As(err, &ue):
		return ue.Reason
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return fmt.Sprintf("timed out after %v", d.cfg.AttemptTimeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err.Error()
	}
	return err.Error()
}

// record stores an attempt's outcome: delivered, retry later, or dead.
// It runs on a context of its own, so a stopping dispatcher still marks
// what it sent.
func (d *Dispatcher) record(ctx context.Context, j *storage.WebhookJob, a attempt) outcome {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	del := &j.Delivery
	var (
		err error
		o   outcome
	)
	switch {
	case a.ok:
		o, err = outcomeDelivered, d.cfg.Store.MarkWebhookDelivered(ctx, del.WorkspaceID, del.ID, a.status)
	case a.permanent:
		o, err = outcomeDead, d.cfg.Store.DeadLetterWebhookDelivery(ctx, del.WorkspaceID, del.ID, del.Attempts, a.status, a.err)
	default:
		next, retry := d.cfg.Retry.NextRetryAt(d.cfg.Now(), del.Attempts, d.cfg.Jitter())
		if retry {
			o, err = outcomeRetrying, d.cfg.Store.RescheduleWebhookDelivery(ctx, del.WorkspaceID, del.ID, del.Attempts, next, a.status, a.err)
		} else {
			msg := fmt.Sprintf("gave up after %d attempts: %s", del.Attempts, a.err)
			o, err = outcomeDead, d.cfg.Store.DeadLetterWebhookDelivery(ctx, del.WorkspaceID, del.ID, del.Attempts, a.status, msg)
		}
	}
	switch {
	case err == nil:
		return o
	case errors.Is(err, storage.ErrConflict), errors.Is(err, storage.ErrNotFound):
		// Claimed again after our lease ran out, redelivered, or deleted:
		// the newer state wins.
		d.log.Debug("webhook: stale delivery outcome", "delivery", del.ID, "err", err)
	default:
		// The lease brings the delivery back; it is sent again.
		d.log.Warn("webhook: record delivery outcome", "delivery", del.ID, "err", err)
	}
	return outcomeUnrecorded
}
