package storage_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestAppendMessagesAndEventsInBatches(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		w, err := s.CreateWorkspace(ctx, "Acme")
		require.NoError(t, err)
		ch, err := s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Site"})
		require.NoError(t, err)
		c, err := s.CreateConversation(ctx, w.ID, storage.NewConversation{ChannelID: ch.ID, VisitorID: "v"})
		require.NoError(t, err)
		_, _, err = s.AppendMessage(ctx, w.ID, storage.NewMessage{ConversationID: c.ID, ClientID: "c1", Author: storage.AuthorVisitor, Body: "hi"})
		require.NoError(t, err)

		var msgs []storage.Message
		require.NoError(t, s.InTx(ctx, func(tx *storage.Store) error {
			var err error
			msgs, err = tx.AppendMessages(ctx, w.ID, c.ID, []storage.NewMessage{
				{ConversationID: c.ID, Author: storage.AuthorBot, Body: "one"},
				{ConversationID: c.ID, Author: storage.AuthorSystem, Body: "two"},
			})
			return err
		}))
		require.Equal(t, []int64{2, 3}, []int64{msgs[0].Seq, msgs[1].Seq}, "the next seqs, in order")
		got, err := s.ListMessages(ctx, w.ID, c.ID, 10)
		require.NoError(t, err)
		require.Len(t, got, 3)
		conv, err := s.GetConversation(ctx, w.ID, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(3), conv.LastSeq)

		// Refusals: client ids (they need the one-by-one dedupe), another
		// conversation, past the bound, another tenant.
		_, err = s.AppendMessages(ctx, w.ID, c.ID, []storage.NewMessage{{ConversationID: c.ID, ClientID: "x", Author: storage.AuthorVisitor, Body: "b"}})
		require.ErrorIs(t, err, storage.ErrInvalid)
		big := make([]storage.NewMessage, storage.MaxBatch+1)
		for i := range big {
			big[i] = storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorBot, Body: "x"}
		}
		_, err = s.AppendMessages(ctx, w.ID, c.ID, big)
		require.ErrorIs(t, err, storage.ErrInvalid)
		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, err = s.AppendMessages(ctx, other.ID, c.ID, []storage.NewMessage{{ConversationID: c.ID, Author: storage.AuthorBot, Body: "x"}})
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.AppendMessages(ctx, "", c.ID, []storage.NewMessage{{ConversationID: c.ID, Author: storage.AuthorBot, Body: "x"}})
		require.ErrorIs(t, err, storage.ErrInvalid)

		require.NoError(t, s.AppendEvents(ctx, w.ID, []storage.NewEvent{
			{ConversationID: c.ID, Type: "node_entered", NodeID: "a"},
			{ConversationID: c.ID, Type: "node_entered", NodeID: "b"},
		}))
		events, err := s.ListEvents(ctx, w.ID, storage.EventFilter{ConversationID: c.ID})
		require.NoError(t, err)
		require.Len(t, events, 2)
		require.Equal(t, "a", events[0].NodeID, "in order")
		require.Equal(t, "b", events[1].NodeID)
		require.Error(t, s.AppendEvents(ctx, w.ID, []storage.NewEvent{{ConversationID: c.ID, Type: strings.Repeat("t", storage.MaxNameBytes+1)}}))
		require.Error(t, s.AppendEvents(ctx, other.ID, []storage.NewEvent{{ConversationID: c.ID, Type: "x"}}), "another tenant's conversation")
	})
}
