package storage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// Group commit (SQLite). SQLite has one write lock per database. Left to
// itself, every writer would take it with BEGIN IMMEDIATE and the losers
// would sleep in SQLite's busy handler on its fixed schedule (1, 2, 5, 10 …
// 100 ms), however soon the lock came free, and each transaction would pay
// its own commit. Instead a Store on SQLite queues its write transactions in
// Go: one writer goroutine takes every transaction waiting in the queue,
// runs each in a savepoint of one database transaction, commits once, and
// only then tells each caller its result. Nobody is told "done" before the
// commit that makes their writes durable, and one caller's error rolls back
// its own savepoint only.
const (
	// DefaultMaxWriteQueue bounds the transactions waiting for the SQLite
	// writer. Past it InTx fails at once with ErrBusy: a node under more
	// load than it can write sheds it instead of queueing without bound.
	DefaultMaxWriteQueue = 4096
	// DefaultMaxGroupCommit bounds the transactions committed together.
	DefaultMaxGroupCommit = 128
)

// The states of a queued transaction. The caller and the writer race to
// move it out of queued: the caller when it gives up waiting, the writer
// when it starts it; whoever loses accepts the other's decision.
const (
	reqQueued int32 = iota
	reqRunning
	reqAbandoned
)

type writeReq struct {
	fn       func(tx *Store) error
	state    atomic.Int32
	result   chan writeResult
	enqueued time.Time
}

// WriteObserver receives the figures of SQLite's write queue, for metrics:
// how long each transaction waited for its turn, and each group's size and
// duration (its transactions and the commit).
type WriteObserver interface {
	WriteWaited(d time.Duration)
	WriteGroup(size int, d time.Duration)
}

type writeResult struct {
	err error
	// panicked holds what fn panicked with, re-raised in the caller.
	panicked any
}

// groupCommit is the writer goroutine and its queue.
type groupCommit struct {
	store    *Store
	queue    chan *writeReq
	maxBatch int
	// wait is how long a caller waits for its turn: the busy timeout.
	wait time.Duration
	quit chan struct{}
	done chan struct{}
	once sync.Once
	obs  WriteObserver

	groups, transactions atomic.Uint64
}

// WriterStats describes SQLite's writer queue. Transactions / Groups is
// the mean group size.
type WriterStats struct {
	// Queued is how many write transactions wait now.
	Queued int
	// Groups counts the database transactions the writer committed or
	// rolled back; Transactions counts the callers' transactions in them.
	Groups, Transactions uint64
}

// WriterStats reports the writer queue; the zero value on Postgres, whose
// transactions do not queue in the process.
func (s *Store) WriterStats() WriterStats {
	if s.writer == nil {
		return WriterStats{}
	}
	return WriterStats{Queued: len(s.writer.queue), Groups: s.writer.groups.Load(), Transactions: s.writer.transactions.Load()}
}

func startGroupCommit(s *Store, queue, maxBatch int, wait time.Duration, obs WriteObserver) *groupCommit {
	g := &groupCommit{
		store: s, queue: make(chan *writeReq, queue), maxBatch: maxBatch, wait: wait,
		quit: make(chan struct{}), done: make(chan struct{}), obs: obs,
	}
	go g.run()
	return g
}

// do queues fn and waits for its result.
func (g *groupCommit) do(ctx context.Context, fn func(tx *Store) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &writeReq{fn: fn, result: make(chan writeResult, 1), enqueued: time.Now()}
	select {
	case <-g.done:
		return fmt.Errorf("%w: the store is closed", ErrUnavailable)
	default:
	}
	select {
	case g.queue <- r:
	default:
		return fmt.Errorf("%w: %d write transactions are waiting", ErrBusy, cap(g.queue))
	}
	timer := time.NewTimer(g.wait)
	defer timer.Stop()
	var giveUp error
	select {
	case res := <-r.result:
		return res.raise()
	case <-ctx.Done():
		giveUp = ctx.Err()
	case <-timer.C:
		giveUp = fmt.Errorf("%w: waited %s for the write lock", ErrBusy, g.wait)
	case <-g.done:
		giveUp = fmt.Errorf("%w: the store is closed", ErrUnavailable)
	}
	if r.state.CompareAndSwap(reqQueued, reqAbandoned) {
		return giveUp
	}
	// Its turn came first: the outcome is the commit's.
	return (<-r.result).raise()
}

func (r writeResult) raise() error {
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

func (g *groupCommit) stop() {
	g.once.Do(func() { close(g.quit) })
	<-g.done
}

func (g *groupCommit) run() {
	defer close(g.done)
	batch := make([]*writeReq, 0, g.maxBatch)
	for {
		select {
		case <-g.quit:
			g.drain()
			return
		case r := <-g.queue:
			batch = append(batch[:0], r)
		}
		// Whatever queued up while the last group committed goes in this
		// one; nothing waits for more to arrive.
	fill:
		for len(batch) < g.maxBatch {
			select {
			case r := <-g.queue:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		g.commit(batch)
		clear(batch)
	}
}

// drain fails what is still queued at close.
func (g *groupCommit) drain() {
	for {
		select {
		case r := <-g.queue:
			if r.state.CompareAndSwap(reqQueued, reqRunning) {
				r.result <- writeResult{err: fmt.Errorf("%w: the store is closed", ErrUnavailable)}
			}
		default:
			return
		}
	}
}

// commit runs a group in one transaction and reports to each caller.
func (g *groupCommit) commit(batch []*writeReq) {
	began := time.Now()
	live := batch[:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqQueued, reqRunning) {
			live = append(live, r)
			if g.obs != nil {
				g.obs.WriteWaited(began.Sub(r.enqueued))
			}
		}
	}
	if len(live) == 0 {
		return
	}
	// A caller's context does not cancel its statements once its turn has
	// come: interrupting a statement can roll back the whole SQLite
	// transaction, and with it everybody else's work in the group. Nor
	// does a deadline: SQLite statements do not wait on anything here (the
	// writer holds the lock), and the driver watches a cancellable
	// context with a goroutine per statement.
	ctx := context.Background()
	results := make([]writeResult, len(live))
	fns := make([]func(tx *Store) error, len(live))
	for i, r := range live {
		fns[i] = r.fn
	}
	err := g.store.runGroup(ctx, fns, results)
	g.groups.Add(1)
	g.transactions.Add(uint64(len(live)))
	if g.obs != nil {
		g.obs.WriteGroup(len(live), time.Since(began))
	}
	for i, r := range live {
		res := results[i]
		if err != nil && res.err == nil && res.panicked == nil {
			// Its own work succeeded but the group did not commit.
			res.err = err
		}
		r.result <- res
	}
}

// runGroup runs fns in one transaction under ctx, each in a savepoint when
// there are several, and fills results. It returns the transaction's own
// error (begin, savepoint or commit), which undoes every fn's writes.
func (s *Store) runGroup(ctx context.Context, fns []func(tx *Store) error, results []writeResult) error {
	grouped := len(fns) > 1
	err := s.db.WithContext(ctx).Transaction(func(gtx *gorm.DB) error {
		for i, fn := range fns {
			if grouped {
				if err := gtx.Exec("SAVEPOINT fd_group").Error; err != nil {
					return err
				}
			}
			tx := *s
			tx.db, tx.inTx, tx.seqs, tx.txCtx = gtx, true, &txSeqs{}, ctx
			results[i] = tx.runFn(ctx, fn)
			failed := results[i].err != nil || results[i].panicked != nil
			switch {
			case !grouped && failed:
				return errFnFailed
			case failed:
				if err := gtx.Exec("ROLLBACK TO SAVEPOINT fd_group").Error; err != nil {
					return err
				}
				fallthrough
			case grouped:
				if err := gtx.Exec("RELEASE SAVEPOINT fd_group").Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err == errFnFailed {
		return nil // rolled back; the fn's own result says why
	}
	if err != nil {
		return fmt.Errorf("storage: transaction: %w", mapError(err))
	}
	return nil
}

// errFnFailed makes the transaction of a lone failed fn roll back.
var errFnFailed = fmt.Errorf("storage: the transaction's function failed")

// runFn runs one transaction's function, then writes the seqs its appends
// left pending. A panic is caught and returned so the writer goroutine
// survives it; the caller re-raises it.
func (tx *Store) runFn(ctx context.Context, fn func(tx *Store) error) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panicked: p}
		}
	}()
	if err := fn(tx); err != nil {
		return writeResult{err: err}
	}
	if err := tx.flushSeqs(ctx); err != nil {
		return writeResult{err: err}
	}
	return writeResult{}
}

// queued runs fn, a write outside any caller's transaction, through SQLite's
// write queue (in a transaction of its own), or directly on Postgres. Left
// to run on its own pool connection, a write would take SQLite's write lock
// past the queue, and the writer would then sleep in SQLite's busy handler
// (1, 2, 5, 10 … ms) behind it. The background workers' claims, which run
// several times a second, go through it.
func (s *Store) queued(ctx context.Context, fn func(tx *Store) error) error {
	if s.writer == nil || s.inTx {
		return fn(s)
	}
	return s.InTx(ctx, fn)
}
