package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// holdWriter occupies SQLite's writer with a transaction that waits until
// the returned release is called, so that the test can queue others.
func holdWriter(t *testing.T, s *storage.Store) (release func()) {
	t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.InTx(context.Background(), func(tx *storage.Store) error {
			close(entered)
			<-gate
			return nil
		})
	}()
	<-entered
	var once sync.Once
	release = func() {
		once.Do(func() {
			close(gate)
			require.NoError(t, <-done)
		})
	}
	t.Cleanup(release)
	return release
}

// waitQueued waits until n write transactions are queued.
func waitQueued(t *testing.T, s *storage.Store, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return s.WriterStats().Queued >= n }, 5*time.Second, time.Millisecond)
}

func TestGroupCommitRollsBackOnlyTheFailedTransaction(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	ctx := context.Background()
	b := setup(t, s)
	conv := b.conversation(t, storage.StatusBot)

	release := holdWriter(t, s)
	before := s.WriterStats()
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.InTx(ctx, func(tx *storage.Store) error {
				if _, _, err := tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: conv.ID, ClientID: fmt.Sprint("c", i), Author: storage.AuthorVisitor, Body: fmt.Sprint("message ", i)}); err != nil {
					return err
				}
				if i == 3 {
					return errors.New("the step failed after writing")
				}
				return nil
			})
		}()
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()

	after := s.WriterStats()
	require.Equal(t, uint64(n), after.Transactions-before.Transactions-1, "the held one plus the n queued")
	require.Less(t, after.Groups-before.Groups-1, uint64(n), "queued transactions commit together")
	for i, err := range errs {
		if i == 3 {
			require.EqualError(t, err, "the step failed after writing", "the caller gets its own error unchanged")
			continue
		}
		require.NoError(t, err, "transaction %d", i)
	}
	msgs, err := s.ListMessages(ctx, b.ws, conv.ID, 100)
	require.NoError(t, err)
	require.Len(t, msgs, n-1, "only the failed transaction's message is gone")
	for i, m := range msgs {
		require.Equal(t, int64(i+1), m.Seq, "seqs have no gap where the failed one rolled back")
		require.NotEqual(t, "c3", m.ClientID)
	}
	got, err := s.GetConversation(ctx, b.ws, conv.ID)
	require.NoError(t, err)
	require.Equal(t, int64(n-1), got.LastSeq)
}

func TestGroupCommitPanicReachesTheCallerAndSparesTheGroup(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	ctx := context.Background()
	b := setup(t, s)
	conv := b.conversation(t, storage.StatusBot)

	release := holdWriter(t, s)
	var wg sync.WaitGroup
	var panicked any
	var okErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer func() { panicked = recover() }()
		_ = s.InTx(ctx, func(tx *storage.Store) error {
			if _, _, err := tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorBot, Body: "lost"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	go func() {
		defer wg.Done()
		okErr = s.InTx(ctx, func(tx *storage.Store) error {
			_, _, err := tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorBot, Body: "kept"})
			return err
		})
	}()
	waitQueued(t, s, 2)
	release()
	wg.Wait()
	require.Equal(t, "boom", panicked, "the panic is raised again in the caller's goroutine")
	require.NoError(t, okErr)
	msgs, err := s.ListMessages(ctx, b.ws, conv.ID, 10)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.Equal(t, "kept", msgs[0].Body)

	// The writer survived.
	require.NoError(t, s.InTx(ctx, func(tx *storage.Store) error { return nil }))
}

func TestGroupCommitQueueBound(t *testing.T) {
	t.Parallel()
	s := storagetest.OpenWith(t, storage.SQLite, storage.Options{MaxWriteQueue: 2})
	ctx := context.Background()
	release := holdWriter(t, s)

	ran := make(chan int, 3)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, s.InTx(ctx, func(*storage.Store) error { ran <- i; return nil }))
		}()
	}
	waitQueued(t, s, 2)
	err := s.InTx(ctx, func(*storage.Store) error { ran <- 99; return nil })
	require.ErrorIs(t, err, storage.ErrBusy, "past the queue bound a transaction is refused at once")
	require.ErrorContains(t, err, "2 write transactions are waiting")
	release()
	wg.Wait()
	close(ran)
	var got []int
	for i := range ran {
		got = append(got, i)
	}
	require.ElementsMatch(t, []int{0, 1}, got, "the refused one never ran")
}

func TestGroupCommitGivesUpAfterTheBusyTimeoutOrTheCallersContext(t *testing.T) {
	t.Parallel()
	s := storagetest.OpenWith(t, storage.SQLite, storage.Options{BusyTimeout: 50 * time.Millisecond})
	release := holdWriter(t, s)

	ran := false
	err := s.InTx(context.Background(), func(*storage.Store) error { ran = true; return nil })
	require.ErrorIs(t, err, storage.ErrBusy)
	require.ErrorContains(t, err, "waited 50ms for the write lock")

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		waitQueued(t, s, 1)
		cancel()
	}()
	err = s.InTx(ctx, func(*storage.Store) error { ran = true; return nil })
	require.ErrorIs(t, err, context.Canceled)

	release()
	// The abandoned transactions are skipped, not run late.
	require.NoError(t, s.InTx(context.Background(), func(*storage.Store) error { return nil }))
	require.False(t, ran)
}

func TestGroupCommitAfterClose(t *testing.T) {
	t.Parallel()
	url := storagetest.URL(t, storage.SQLite)
	s, err := storage.Open(context.Background(), url, storage.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(context.Background()))
	require.NoError(t, s.Close())
	err = s.InTx(context.Background(), func(*storage.Store) error { return nil })
	require.ErrorIs(t, err, storage.ErrUnavailable)
}

// A step appends several times; the seq is read once, with the lock, and
// written once, with the conversation's update or before the commit.
// (assert, not require, inside the transactions: they run on SQLite's
// writer goroutine, which require's FailNow would stop.)
func TestSeqsInsideATransaction(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		conv := b.conversation(t, storage.StatusBot)

		err := s.InTx(ctx, func(tx *storage.Store) error {
			c, err := tx.GetConversationForUpdate(ctx, b.ws, conv.ID)
			assert.NoError(t, err)
			m, dup, err := tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, ClientID: "v1", Author: storage.AuthorVisitor, Body: "hi"})
			assert.NoError(t, err)
			assert.False(t, dup)
			assert.Equal(t, int64(1), m.Seq)
			again, dup, err := tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, ClientID: "v1", Author: storage.AuthorVisitor, Body: "hi"})
			assert.NoError(t, err)
			assert.True(t, dup, "a retried client id in the same transaction")
			assert.Equal(t, m.ID, again.ID)
			bots, err := tx.AppendMessages(ctx, b.ws, c.ID, []storage.NewMessage{
				{ConversationID: c.ID, Author: storage.AuthorBot, Body: "a"}, {ConversationID: c.ID, Author: storage.AuthorBot, Body: "b"},
			})
			assert.NoError(t, err)
			assert.Equal(t, []int64{2, 3}, []int64{bots[0].Seq, bots[1].Seq}, "the duplicate burned no seq")
			read, err := tx.GetConversation(ctx, b.ws, c.ID)
			assert.NoError(t, err)
			assert.Equal(t, int64(3), read.LastSeq, "a read inside the transaction sees its appends")
			up, err := tx.UpdateConversation(ctx, b.ws, c.ID, c.Version, storage.ConversationUpdate{State: storage.JSON(`{"node":"next"}`)})
			assert.NoError(t, err)
			assert.Equal(t, int64(3), up.LastSeq, "the update writes the seq")
			_, err = tx.AppendMessages(ctx, b.ws, c.ID, []storage.NewMessage{{ConversationID: c.ID, Author: storage.AuthorSystem, Body: "after the update"}})
			return err
		})
		require.NoError(t, err)
		got, err := s.GetConversation(ctx, b.ws, conv.ID)
		require.NoError(t, err)
		require.Equal(t, int64(4), got.LastSeq, "an append after the update is written before the commit")

		// A failed compare-and-set leaves the seq to the flush.
		err = s.InTx(ctx, func(tx *storage.Store) error {
			c, err := tx.GetConversationForUpdate(ctx, b.ws, conv.ID)
			assert.NoError(t, err)
			_, _, err = tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorBot, Body: "x"})
			assert.NoError(t, err)
			_, err = tx.UpdateConversation(ctx, b.ws, c.ID, c.Version-1, storage.ConversationUpdate{State: storage.JSON(`{}`)})
			assert.ErrorIs(t, err, storage.ErrConflict)
			return nil
		})
		require.NoError(t, err)
		got, err = s.GetConversation(ctx, b.ws, conv.ID)
		require.NoError(t, err)
		require.Equal(t, int64(5), got.LastSeq)
		msgs, err := s.ListMessagesAfter(ctx, b.ws, conv.ID, 0, 10)
		require.NoError(t, err)
		require.Len(t, msgs, 5)

		// Outside a transaction each append writes its own seq.
		m, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: conv.ID, Author: storage.AuthorBot, Body: "alone"})
		require.NoError(t, err)
		require.Equal(t, int64(6), m.Seq)
		got, err = s.GetConversation(ctx, b.ws, conv.ID)
		require.NoError(t, err)
		require.Equal(t, int64(6), got.LastSeq)
	})
}

// The row UpdateLockedConversation works out is the row the database holds.
func TestUpdateLockedConversationMatchesTheStoredRow(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		conv := b.conversation(t, storage.StatusBot)

		_, err := s.UpdateLockedConversation(ctx, conv, storage.ConversationUpdate{State: storage.JSON(`{}`)})
		require.ErrorIs(t, err, storage.ErrInvalid, "outside a transaction there is no lock")

		for _, u := range []storage.ConversationUpdate{
			{State: storage.JSON(`{"node":"ask"}`), Language: "fr"},
			{Status: storage.StatusAssigned, SetAssignee: true, AssigneeID: b.agent.ID},
			{Status: storage.StatusClosed, State: storage.JSON(`{"node":"end"}`)},
		} {
			var worked *storage.Conversation
			err := s.InTx(ctx, func(tx *storage.Store) error {
				c, err := tx.GetConversationForUpdate(ctx, b.ws, conv.ID)
				if err != nil {
					return err
				}
				if _, err := tx.AppendMessages(ctx, b.ws, c.ID, []storage.NewMessage{{ConversationID: c.ID, Author: storage.AuthorBot, Body: "hi"}}); err != nil {
					return err
				}
				worked, err = tx.UpdateLockedConversation(ctx, c, u)
				return err
			})
			require.NoError(t, err)
			stored, err := s.GetConversation(ctx, b.ws, conv.ID)
			require.NoError(t, err)
			require.Equal(t, stored, worked)
		}

		// A stale version is a conflict, and nothing is written.
		err = s.InTx(ctx, func(tx *storage.Store) error {
			c, err := tx.GetConversationForUpdate(ctx, b.ws, conv.ID)
			if err != nil {
				return err
			}
			stale := *c
			stale.Version--
			_, err = tx.UpdateLockedConversation(ctx, &stale, storage.ConversationUpdate{State: storage.JSON(`{}`)})
			return err
		})
		require.ErrorIs(t, err, storage.ErrConflict)
	})
}

type countingObserver struct {
	mu     sync.Mutex
	waits  []time.Duration
	groups []int
}

func (o *countingObserver) WriteWaited(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, d)
}

func (o *countingObserver) WriteGroup(size int, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.groups = append(o.groups, size)
}

func TestGroupCommitReportsWaitsAndGroups(t *testing.T) {
	t.Parallel()
	obs := &countingObserver{}
	s := storagetest.OpenWith(t, storage.SQLite, storage.Options{WriteObserver: obs})
	ctx := context.Background()
	release := holdWriter(t, s)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.NoError(t, s.InTx(ctx, func(*storage.Store) error { return nil }))
		}()
	}
	waitQueued(t, s, 3)
	time.Sleep(20 * time.Millisecond) // a wait long enough to see
	release()
	wg.Wait()
	obs.mu.Lock()
	defer obs.mu.Unlock()
	require.Contains(t, obs.groups, 3, "the three queued transactions made one group")
	var long int
	for _, w := range obs.waits {
		if w >= 20*time.Millisecond {
			long++
		}
	}
	require.Equal(t, 3, long, "each queued transaction reports its wait")
}
