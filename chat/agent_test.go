package chat

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// agents creates two agent users and returns them.
func agents(t *testing.T, b *bundle) (engine.Agent, engine.Agent) {
	t.Helper()
	ctx := context.Background()
	a, err := b.store.CreateUser(ctx, b.ws, storage.NewUser{Email: "ana@x.test", Name: "Ana", Role: storage.RoleAgent, PasswordHash: "x"})
	require.NoError(t, err)
	c, err := b.store.CreateUser(ctx, b.ws, storage.NewUser{Email: "bo@x.test", Name: "Bo", Role: storage.RoleAgent, PasswordHash: "x"})
	require.NoError(t, err)
	return engine.Agent{ID: a.ID, Name: a.Name}, engine.Agent{ID: c.ID, Name: c.Name}
}

func TestClaimRaceHasOneWinner(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "live-chat")
		b.presence.Set(b.ws, "x", Online)
		ana, bo := agents(t, b)
		for round := 0; round < 5; round++ {
			res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v", IsNew: true})
			require.NoError(t, err)
			require.Equal(t, storage.StatusUnassigned, res.Conversation.Status)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, a := range []engine.Agent{ana, bo} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, errs[i] = b.svc.Claim(ctx, b.ws, res.Conversation.ID, a)
				}()
			}
			wg.Wait()
			won := 0
			for _, err := range errs {
				if err == nil {
					won++
				} else {
					require.ErrorIs(t, err, ErrNotInQueue)
				}
			}
			require.Equal(t, 1, won, "round %d: %v", round, errs)
			timers, err := store.ListTimers(ctx, b.ws, res.Conversation.ID)
			require.NoError(t, err)
			require.Empty(t, timers, "the claim cancelled the handover wait")
		}
	})
}

func TestTakeOverHandBackAndClose(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		ana, _ := agents(t, b)
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v", IsNew: true})
		require.NoError(t, err)
		id := res.Conversation.ID

		res, err = b.svc.TakeOver(ctx, b.ws, id, ana)
		require.NoError(t, err)
		require.Equal(t, storage.StatusAssigned, res.Conversation.Status)
		require.Equal(t, ana.ID, res.Conversation.AssigneeID)
		require.Equal(t, []string{"Ana joined the chat."}, texts(res))

		res, err = b.svc.VisitorMessage(ctx, b.ws, id, "v1", "Get a quote")
		require.NoError(t, err)
		require.Empty(t, texts(res), "the bot is silent after a takeover")

		res, err = b.svc.AgentMessage(ctx, b.ws, id, ana, "a1", "Hi, Ana here")
		require.NoError(t, err)
		require.Equal(t, storage.AuthorAgent, res.Stored.Author)

		_, err = b.svc.HandBack(ctx, b.ws, id, "nope")
		require.ErrorIs(t, err, storage.ErrInvalid)
		res, err = b.svc.HandBack(ctx, b.ws, id, "qualify")
		require.NoError(t, err)
		require.Equal(t, storage.StatusBot, res.Conversation.Status)
		require.Empty(t, res.Conversation.AssigneeID)
		require.Equal(t, []string{"How many people work at your company?"}, texts(res), "the bot resumes at the chosen node")

		_, err = b.svc.AgentMessage(ctx, b.ws, id, ana, "a2", "still here?")
		require.ErrorIs(t, err, ErrNotYours)

		res, err = b.svc.Close(ctx, b.ws, id, ana.ID)
		require.NoError(t, err)
		require.Equal(t, storage.StatusClosed, res.Conversation.Status)
		_, err = b.svc.VisitorMessage(ctx, b.ws, id, "v2", "hello?")
		require.ErrorIs(t, err, ErrClosed)
		_, err = b.svc.Claim(ctx, b.ws, id, ana)
		require.ErrorIs(t, err, ErrClosed)
		_, err = b.svc.Close(ctx, b.ws, id, ana.ID)
		require.ErrorIs(t, err, ErrClosed, "closing is final")
	})
}

func TestReassignAndRelease(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "live-chat")
		b.presence.Set(b.ws, "x", Online)
		ana, bo := agents(t, b)
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v", IsNew: true})
		require.NoError(t, err)
		id := res.Conversation.ID
		_, err = b.svc.Claim(ctx, b.ws, id, ana)
		require.NoError(t, err)
		res, err = b.svc.Reassign(ctx, b.ws, id, &bo)
		require.NoError(t, err)
		require.Equal(t, bo.ID, res.Conversation.AssigneeID)
		require.Equal(t, []string{"Bo joined the chat."}, texts(res))
		res, err = b.svc.Reassign(ctx, b.ws, id, nil)
		require.NoError(t, err)
		require.Equal(t, storage.StatusUnassigned, res.Conversation.Status)
		require.Empty(t, res.Conversation.AssigneeID)
		timers, err := store.ListTimers(ctx, b.ws, id)
		require.NoError(t, err)
		require.Len(t, timers, 1, "back in the queue with a wait")
	})
}

func TestFollowUpWhenNobodyAnswers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "live-chat")
		b.presence.Set(b.ws, "x", Online)
		setSettings(t, b, AssistantSettings{FollowUp: FollowUp{Enabled: true, AfterSeconds: 60, Text: map[string]string{"en": "We'll email you."}}})
		ana, _ := agents(t, b)
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v", IsNew: true, Locale: "en"})
		require.NoError(t, err)
		id := res.Conversation.ID
		_, err = b.svc.VisitorMessage(ctx, b.ws, id, "m1", "Hello? Anyone?")
		require.NoError(t, err)

		b.clock.Advance(61 * time.Second) // the follow-up is due, the handover wait (120 s) is not
		require.Equal(t, 1, b.svc.FireDueTimers(ctx))
		msgs, err := store.ListMessages(ctx, b.ws, id, 500)
		require.NoError(t, err)
		require.Equal(t, "We'll email you.", msgs[len(msgs)-1].Body)
		require.Equal(t, 0, b.svc.FireDueTimers(ctx), "sent once")

		// An agent who answers cancels the follow-up.
		_, err = b.svc.Claim(ctx, b.ws, id, ana)
		require.NoError(t, err)
		_, err = b.svc.VisitorMessage(ctx, b.ws, id, "m2", "Thanks")
		require.NoError(t, err)
		_, err = b.svc.AgentMessage(ctx, b.ws, id, ana, "a1", "Hi!")
		require.NoError(t, err)
		b.clock.Advance(10 * time.Minute)
		require.Equal(t, 0, b.svc.FireDueTimers(ctx))
	})
}

// summarizerFunc adapts a function to Summarizer; the model behind it is
// tested in package knowledge against a server speaking the real protocol.
type summarizerFunc func(ctx context.Context, ws, transcript string) (string, error)

func (f summarizerFunc) Summarize(ctx context.Context, ws, transcript string) (string, error) {
	return f(ctx, ws, transcript)
}

func TestWrittenSummaryIsKeptBesideTheBuiltInOne(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "live-chat")
		b.presence.Set(b.ws, "x", Online)
		got := make(chan string, 1)
		svc := New(Config{Store: store, Presence: b.presence, Now: b.clock.Now,
			Summarizer: summarizerFunc(func(_ context.Context, ws, transcript string) (string, error) {
				got <- transcript
				return "The visitor wants a human.", nil
			})})
		res, err := svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v", IsNew: true, Locale: "en"})
		require.NoError(t, err)
		select {
		case transcript := <-got:
			require.Contains(t, transcript, "bot: ")
		case <-time.After(10 * time.Second):
			t.Fatal("no summary was asked for")
		}
		require.NoError(t, svc.Wait(ctx))
		events, err := store.ListEvents(ctx, b.ws, storage.EventFilter{ConversationID: res.Conversation.ID, Type: "handover_summary_written"})
		require.NoError(t, err)
		require.Len(t, events, 1)
		require.Contains(t, string(events[0].Data), "The visitor wants a human.")
	})
}
