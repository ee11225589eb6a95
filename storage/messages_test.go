package storage_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestMessageSeqStartsAtOneAndOnlyGrows(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		for i := 1; i <= 5; i++ {
			m, dup, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{
				ConversationID: c.ID, Author: storage.AuthorBot, Body: fmt.Sprintf("m%d", i),
			})
			require.NoError(t, err)
			require.False(t, dup)
			require.Equal(t, int64(i), m.Seq)
		}
		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(5), got.LastSeq)
		require.Equal(t, c.Version, got.Version, "messages do not bump the state version")

		// Resume: everything after the last seq the client saw, in order.
		after, err := s.ListMessagesAfter(ctx, b.ws, c.ID, 2, 0)
		require.NoError(t, err)
		require.Equal(t, []int64{3, 4, 5}, seqs(after))
		after, err = s.ListMessagesAfter(ctx, b.ws, c.ID, 2, 2)
		require.NoError(t, err)
		require.Equal(t, []int64{3, 4}, seqs(after), "bounded by the limit")

		// The transcript: the latest messages, oldest first.
		latest, err := s.ListMessages(ctx, b.ws, c.ID, 2)
		require.NoError(t, err)
		require.Equal(t, []int64{4, 5}, seqs(latest))
		before, err := s.ListMessagesBefore(ctx, b.ws, c.ID, 4, 2)
		require.NoError(t, err)
		require.Equal(t, []int64{2, 3}, seqs(before))

		// Each conversation counts on its own.
		other := b.conversation(t, storage.StatusBot)
		m, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: other.ID, Author: storage.AuthorVisitor, Body: "hi"})
		require.NoError(t, err)
		require.Equal(t, int64(1), m.Seq)
	})
}

func TestConcurrentAppendsGetConsecutiveSeqs(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		const n = 12
		got := make([]int64, n)
		errs := race(n, func(i int) error {
			m, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorAgent, AuthorID: b.agent.ID, Body: "x"})
			if err == nil {
				got[i] = m.Seq
			}
			return err
		})
		require.Equal(t, n, countWins(t, errs, nil))
		slices.Sort(got)
		want := make([]int64, n)
		for i := range want {
			want[i] = int64(i + 1)
		}
		require.Equal(t, want, got, "no gaps, no repeats")
	})
}

func TestRetriedClientMessageIsStoredOnce(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		in := storage.NewMessage{ConversationID: c.ID, ClientID: "cl-1", Author: storage.AuthorVisitor, Body: "hello",
			Payload: storage.JSON(`{"quick_reply":"a"}`)}

		first, dup, err := s.AppendMessage(ctx, b.ws, in)
		require.NoError(t, err)
		require.False(t, dup)
		again, dup, err := s.AppendMessage(ctx, b.ws, in)
		require.NoError(t, err)
		require.True(t, dup, "the retry is recognised")
		require.Equal(t, first.ID, again.ID)
		require.Equal(t, first.Seq, again.Seq, "acked with the same seq")
		require.Equal(t, `{"quick_reply":"a"}`, string(again.Payload))

		// Concurrent retries of one client message: one row, one seq.
		in.ClientID = "cl-2"
		const n = 8
		ids := make([]string, n)
		dups := make([]bool, n)
		errs := race(n, func(i int) error {
			m, d, err := s.AppendMessage(ctx, b.ws, in)
			if err == nil {
				ids[i], dups[i] = m.ID, d
			}
			return err
		})
		require.Equal(t, n, countWins(t, errs, nil))
		stored := 0
		for i, id := range ids {
			require.Equal(t, ids[0], id)
			if !dups[i] {
				stored++
			}
		}
		require.Equal(t, 1, stored, "exactly one racer stored it; the others were told it was a duplicate")
		msgs, err := s.ListMessages(ctx, b.ws, c.ID, 0)
		require.NoError(t, err)
		require.Equal(t, []int64{1, 2}, seqs(msgs), "two distinct client messages, two seqs")

		// Client ids are per conversation.
		other := b.conversation(t, storage.StatusBot)
		in.ConversationID = other.ID
		m, dup, err := s.AppendMessage(ctx, b.ws, in)
		require.NoError(t, err)
		require.False(t, dup)
		require.Equal(t, int64(1), m.Seq)
	})
}

func TestMessageBodiesAreBounded(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		for name, body := range map[string]string{
			"over the limit": strings.Repeat("a", storage.MaxMessageBytes+1),
			"NUL byte":       "a\x00b",
			"invalid UTF-8":  "a\xffb",
		} {
			_, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorVisitor, Body: body})
			require.ErrorIs(t, err, storage.ErrInvalid, name)
		}
		_, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: "robot", Body: "x"})
		require.ErrorIs(t, err, storage.ErrInvalid)
		markup := `<img src=x onerror=alert(1)>`
		m, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorVisitor, Body: markup})
		require.NoError(t, err)
		list, err := s.ListMessages(ctx, b.ws, c.ID, 0)
		require.NoError(t, err)
		require.Equal(t, markup, list[0].Body, "stored as text, unchanged")
		require.Equal(t, int64(1), m.Seq, "refused messages took no seq")
	})
}

func seqs(ms []storage.Message) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}
