package storage_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestEventsAreAppendOnlyAndListable(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		other := b.conversation(t, storage.StatusBot)
		start := time.Now().Add(-time.Second)

		var ids []int64
		for i, typ := range []string{"node_visit", "node_visit", "handover", "claimed"} {
			e, err := s.AppendEvent(ctx, b.ws, storage.NewEvent{
				ConversationID: c.ID, AssistantID: b.assistant.ID, VersionID: b.version.ID,
				Type: typ, NodeID: "n" + strconv.Itoa(i), Data: storage.JSON(`{"i":` + strconv.Itoa(i) + `}`),
			})
			require.NoError(t, err)
			ids = append(ids, e.ID)
		}
		require.IsIncreasing(t, ids)
		_, err := s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: other.ID, Type: "node_visit"})
		require.NoError(t, err)
		_, err = s.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: other.ID, Type: "node_visit", Preview: true})
		require.NoError(t, err)

		list, err := s.ListEvents(ctx, b.ws, storage.EventFilter{ConversationID: c.ID})
		require.NoError(t, err)
		require.Len(t, list, 4)
		require.Equal(t, ids, []int64{list[0].ID, list[1].ID, list[2].ID, list[3].ID}, "in insertion order")
		require.Equal(t, "n2", list[2].NodeID)
		require.Equal(t, `{"i":2}`, string(list[2].Data))

		visits, err := s.ListEvents(ctx, b.ws, storage.EventFilter{Type: "node_visit"})
		require.NoError(t, err)
		require.Len(t, visits, 3, "preview events are left out")
		withPreview, err := s.ListEvents(ctx, b.ws, storage.EventFilter{Type: "node_visit", IncludePreview: true})
		require.NoError(t, err)
		require.Len(t, withPreview, 4)

		byVersion, err := s.ListEvents(ctx, b.ws, storage.EventFilter{VersionID: b.version.ID, AfterID: ids[1], Limit: 1})
		require.NoError(t, err)
		require.Len(t, byVersion, 1)
		require.Equal(t, ids[2], byVersion[0].ID, "paged by id")

		inWindow, err := s.ListEvents(ctx, b.ws, storage.EventFilter{Since: start, Until: time.Now().Add(time.Second)})
		require.NoError(t, err)
		require.Len(t, inWindow, 5)
		future, err := s.ListEvents(ctx, b.ws, storage.EventFilter{Since: time.Now().Add(time.Hour)})
		require.NoError(t, err)
		require.Empty(t, future)

		// No method changes an event, and the schema refuses it too.
		_, err = s.DB().ExecContext(ctx, `UPDATE conversation_events SET type = 'forged' WHERE id = `+strconv.FormatInt(ids[0], 10))
		require.ErrorContains(t, err, "immutable")

		// Analytics keep their events when the assistant is deleted.
		require.NoError(t, s.DeleteAssistant(ctx, b.ws, b.assistant.ID))
		kept, err := s.ListEvents(ctx, b.ws, storage.EventFilter{AssistantID: b.assistant.ID})
		require.NoError(t, err)
		require.Len(t, kept, 4)
	})
}
