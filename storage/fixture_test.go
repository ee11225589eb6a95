package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
)

// bundle is one workspace with the rows most tests start from.
type bundle struct {
	s         *storage.Store
	ws        string
	admin     *storage.User
	agent     *storage.User
	channel   *storage.Channel
	assistant *storage.Assistant
	version   *storage.Version
}

// setup creates a workspace with an admin, an agent, a channel, and an
// assistant with one published version connected to the channel.
func setup(t *testing.T, s *storage.Store) *bundle {
	t.Helper()
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, "Acme")
	require.NoError(t, err)
	b := &bundle{s: s, ws: w.ID}
	b.admin, err = s.CreateUser(ctx, w.ID, storage.NewUser{Email: "admin@acme.test", Name: "Ada", Role: storage.RoleAdmin})
	require.NoError(t, err)
	b.agent, err = s.CreateUser(ctx, w.ID, storage.NewUser{Email: "agent@acme.test", Name: "Bob", Role: storage.RoleAgent})
	require.NoError(t, err)
	b.channel, err = s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Website", AllowedOrigins: []string{"https://acme.test"}})
	require.NoError(t, err)
	b.assistant, err = s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Helper", CreatedBy: b.admin.ID})
	require.NoError(t, err)
	b.version, err = s.PublishVersion(ctx, w.ID, b.assistant.ID, storage.JSON(`{"nodes":[]}`), b.admin.ID)
	require.NoError(t, err)
	require.NoError(t, s.ConnectAssistant(ctx, w.ID, b.channel.ID, b.assistant.ID))
	return b
}

// conversation starts a conversation on the bundle's channel and version.
func (b *bundle) conversation(t *testing.T, status storage.ConversationStatus) *storage.Conversation {
	t.Helper()
	c, err := b.s.CreateConversation(context.Background(), b.ws, storage.NewConversation{
		ChannelID: b.channel.ID, VersionID: b.version.ID, VisitorID: "visitor-1", Status: status,
		State: storage.JSON(`{"node":"greet"}`), Language: "en",
	})
	require.NoError(t, err)
	return c
}

// user adds another agent.
func (b *bundle) user(t *testing.T, email string) *storage.User {
	t.Helper()
	u, err := b.s.CreateUser(context.Background(), b.ws, storage.NewUser{Email: email, Role: storage.RoleAgent})
	require.NoError(t, err)
	return u
}

// race runs fn n times at once, released together, and returns the errors
// by index.
func race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			errs[i] = fn(i)
		}()
	}
	start.Done()
	done.Wait()
	return errs
}

// countWins counts nil errors and requires every other one to match want.
func countWins(t *testing.T, errs []error, want error) int {
	t.Helper()
	wins := 0
	for i, err := range errs {
		if err == nil {
			wins++
			continue
		}
		require.Truef(t, errors.Is(err, want), "racer %d: want %v, got %v", i, want, err)
	}
	return wins
}
