package storage_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestConversationStartsPinnedToItsVersion(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, "")
		require.Equal(t, storage.StatusBot, c.Status)
		require.Equal(t, int64(1), c.Version)
		require.Equal(t, b.assistant.ID, c.AssistantID, "taken from the version")

		// Publishing again does not move the chat.
		_, err := s.PublishVersion(ctx, b.ws, b.assistant.ID, storage.JSON(`{"v":2}`), "")
		require.NoError(t, err)
		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, b.version.ID, got.VersionID)
		require.Equal(t, `{"node":"greet"}`, string(got.State))
		require.True(t, c.CreatedAt.Equal(got.CreatedAt), "times round-trip: %v vs %v", c.CreatedAt, got.CreatedAt)

		// A version of another assistant cannot be pinned.
		other, err := s.CreateAssistant(ctx, b.ws, storage.NewAssistant{Name: "Other"})
		require.NoError(t, err)
		_, err = s.CreateConversation(ctx, b.ws, storage.NewConversation{
			AssistantID: other.ID, VersionID: b.version.ID, VisitorID: "v",
		})
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}

func TestUpdateConversationIsACompareAndSet(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		u, err := s.UpdateConversationState(ctx, b.ws, c.ID, 1, storage.JSON(`{"node":"collect"}`))
		require.NoError(t, err)
		require.Equal(t, int64(2), u.Version)
		require.Equal(t, `{"node":"collect"}`, string(u.State))
		require.Equal(t, storage.StatusBot, u.Status, "untouched fields stay")

		// A second step computed from version 1 (a timer firing twice, a
		// retried request) is refused and changes nothing.
		_, err = s.UpdateConversationState(ctx, b.ws, c.ID, 1, storage.JSON(`{"node":"stale"}`))
		var ce *storage.ConflictError
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, storage.ErrConflict)
		require.Equal(t, int64(2), ce.Current)

		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, `{"node":"collect"}`, string(got.State))

		_, err = s.UpdateConversationState(ctx, b.ws, "missing", 1, storage.JSON(`{}`))
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func TestConcurrentCompareAndSetHasOneWinner(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		errs := race(10, func(i int) error {
			_, err := s.UpdateConversationState(ctx, b.ws, c.ID, c.Version, storage.JSON(fmt.Sprintf(`{"i":%d}`, i)))
			return err
		})
		require.Equal(t, 1, countWins(t, errs, storage.ErrConflict))
		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, c.Version+1, got.Version)
	})
}

func TestConcurrentClaimsHaveExactlyOneWinner(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusUnassigned)
		const n = 10
		agents := make([]*storage.User, n)
		for i := range agents {
			agents[i] = b.user(t, fmt.Sprintf("agent%d@acme.test", i))
		}
		errs := race(n, func(i int) error {
			_, err := s.ClaimConversation(ctx, b.ws, c.ID, agents[i].ID)
			return err
		})
		require.Equal(t, 1, countWins(t, errs, storage.ErrConflict))
		winner := ""
		for i, err := range errs {
			if err == nil {
				winner = agents[i].ID
			}
		}
		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, storage.StatusAssigned, got.Status)
		require.Equal(t, winner, got.AssigneeID)
		require.Equal(t, c.Version+1, got.Version, "one claim, one version bump")

		// The losers are told it is taken.
		_, err = s.ClaimConversation(ctx, b.ws, c.ID, b.agent.ID)
		var ce *storage.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Contains(t, ce.Reason, "already assigned")
	})
}

func TestStatusTransitions(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		// Take over a bot chat, reassign, hand back, close.
		c, err := s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusAssigned, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, b.agent.ID, c.AssigneeID)
		c, err = s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusAssigned, b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, b.admin.ID, c.AssigneeID)
		c, err = s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusBot, "")
		require.NoError(t, err)
		require.Equal(t, "", c.AssigneeID)
		require.Nil(t, c.ClosedAt)

		_, err = s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusAssigned, "")
		require.ErrorIs(t, err, storage.ErrInvalid, "assigned needs an assignee")

		c, err = s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusClosed, "")
		require.NoError(t, err)
		require.NotNil(t, c.ClosedAt)

		// Closed chats cannot be reopened, but data can still be added.
		_, err = s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusBot, "")
		var ce *storage.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Contains(t, ce.Reason, "closed")
		c, err = s.UpdateConversationState(ctx, b.ws, c.ID, c.Version, storage.JSON(`{"notes":"after close"}`))
		require.NoError(t, err)
		_, _, err = s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorSystem, Body: "closed"})
		require.NoError(t, err)

		_, err = s.ClaimConversation(ctx, b.ws, c.ID, b.agent.ID)
		require.ErrorIs(t, err, storage.ErrConflict, "only unassigned chats can be claimed")
	})
}

func TestGetConversationForUpdateNeedsATransaction(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		_, err := s.GetConversationForUpdate(ctx, b.ws, c.ID)
		require.ErrorIs(t, err, storage.ErrInvalid)
		require.NoError(t, s.InTx(ctx, func(tx *storage.Store) error {
			got, err := tx.GetConversationForUpdate(ctx, b.ws, c.ID)
			require.NoError(t, err)
			require.Equal(t, c.ID, got.ID)
			return nil
		}))
	})
}

// TestRunnerStepCommitsOrRollsBackAsOne walks the conversation runner's
// transaction: lock, compare-and-set the state, append messages, set a
// timer, queue a webhook and log an event.
func TestRunnerStepCommitsOrRollsBackAsOne(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		step := func(tx *storage.Store, fail bool) error {
			cur, err := tx.GetConversationForUpdate(ctx, b.ws, c.ID)
			if err != nil {
				return err
			}
			if _, err := tx.UpdateConversationState(ctx, b.ws, c.ID, cur.Version, storage.JSON(`{"node":"handover"}`)); err != nil {
				return err
			}
			for _, body := range []string{"Let me find someone.", "Please wait."} {
				if _, _, err := tx.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorBot, Body: body}); err != nil {
					return err
				}
			}
			if _, err := tx.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "handover", FireAt: cur.CreatedAt}); err != nil {
				return err
			}
			if _, err := tx.InsertOutbox(ctx, b.ws, storage.NewOutboxEntry{EventType: "conversation.handover", Payload: storage.JSON(`{}`)}); err != nil {
				return err
			}
			if _, err := tx.AppendEvent(ctx, b.ws, storage.NewEvent{ConversationID: c.ID, Type: "handover", NodeID: "n1"}); err != nil {
				return err
			}
			if fail {
				return errors.New("engine exploded")
			}
			return nil
		}

		boom := s.InTx(ctx, func(tx *storage.Store) error { return step(tx, true) })
		require.EqualError(t, boom, "engine exploded", "fn's error comes back unchanged")
		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, c.Version, got.Version)
		require.Equal(t, int64(0), got.LastSeq, "no seq was burnt")
		msgs, err := s.ListMessages(ctx, b.ws, c.ID, 0)
		require.NoError(t, err)
		require.Empty(t, msgs)
		timers, err := s.ListTimers(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Empty(t, timers)
		out, err := s.ListOutbox(ctx, b.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		require.Empty(t, out)
		events, err := s.ListEvents(ctx, b.ws, storage.EventFilter{ConversationID: c.ID})
		require.NoError(t, err)
		require.Empty(t, events)

		require.NoError(t, s.InTx(ctx, func(tx *storage.Store) error { return step(tx, false) }))
		got, err = s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, c.Version+1, got.Version)
		require.Equal(t, int64(2), got.LastSeq)
		msgs, err = s.ListMessages(ctx, b.ws, c.ID, 0)
		require.NoError(t, err)
		require.Len(t, msgs, 2)
		timers, err = s.ListTimers(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Len(t, timers, 1)
		out, err = s.ListOutbox(ctx, b.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		require.Len(t, out, 1)
		events, err = s.ListEvents(ctx, b.ws, storage.EventFilter{ConversationID: c.ID})
		require.NoError(t, err)
		require.Len(t, events, 1)
	})
}

func TestListConversationsFilters(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		other := b.user(t, "other@acme.test")
		bot := b.conversation(t, storage.StatusBot)
		queued := b.conversation(t, storage.StatusUnassigned)
		mine := b.conversation(t, storage.StatusUnassigned)
		_, err := s.ClaimConversation(ctx, b.ws, mine.ID, b.agent.ID)
		require.NoError(t, err)
		theirs := b.conversation(t, storage.StatusUnassigned)
		_, err = s.ClaimConversation(ctx, b.ws, theirs.ID, other.ID)
		require.NoError(t, err)
		preview, err := s.CreateConversation(ctx, b.ws, storage.NewConversation{
			AssistantID: b.assistant.ID, VisitorID: "admin", Preview: true,
		})
		require.NoError(t, err)

		ids := func(f storage.ConversationFilter) []string {
			t.Helper()
			list, err := s.ListConversations(ctx, b.ws, f)
			require.NoError(t, err)
			out := make([]string, len(list))
			for i, c := range list {
				out[i] = c.ID
			}
			return out
		}
		require.Equal(t, []string{theirs.ID, mine.ID, queued.ID, bot.ID}, ids(storage.ConversationFilter{}),
			"newest first, preview hidden")
		require.Equal(t, []string{queued.ID}, ids(storage.ConversationFilter{Statuses: []storage.ConversationStatus{storage.StatusUnassigned}}))
		require.Equal(t, []string{mine.ID}, ids(storage.ConversationFilter{AssigneeID: b.agent.ID}))
		require.Equal(t, []string{bot.ID, queued.ID, mine.ID},
			ids(storage.ConversationFilter{VisibleTo: b.agent.ID, Sort: storage.SortOldest}),
			"an agent does not see chats assigned to others")
		require.Contains(t, ids(storage.ConversationFilter{IncludePreview: true}), preview.ID)
		require.Len(t, ids(storage.ConversationFilter{Limit: 2}), 2)
		require.Equal(t, []string{queued.ID, bot.ID}, ids(storage.ConversationFilter{Offset: 2}))

		_, err = s.ListConversations(ctx, b.ws, storage.ConversationFilter{Sort: "created_at; DROP TABLE users"})
		require.ErrorIs(t, err, storage.ErrInvalid, "sorts are allow-listed")
		_, err = s.ListConversations(ctx, b.ws, storage.ConversationFilter{Statuses: []storage.ConversationStatus{"deleted"}})
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.ListConversations(ctx, b.ws, storage.ConversationFilter{Offset: storage.MaxListOffset + 1})
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}
