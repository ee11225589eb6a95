package storage_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestAgentSettingsDefaultToEverythingOnAndRoundTrip(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)

		got, err := s.GetAgentSettings(ctx, b.ws, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, storage.DefaultAgentSettings(b.ws, b.agent.ID), *got, "a member who never saved has the defaults")
		require.True(t, got.UpdatedAt.IsZero())

		in := storage.AgentSettingsFields{NotifyNewUnassigned: false, NotifyAssigned: true, NotifyNewMessage: false, NotifyHumanRequest: true}
		saved, err := s.SaveAgentSettings(ctx, b.ws, b.agent.ID, in)
		require.NoError(t, err)
		require.Equal(t, b.ws, saved.WorkspaceID)
		require.Equal(t, b.agent.ID, saved.UserID)
		require.False(t, saved.NotifyNewUnassigned)
		require.True(t, saved.NotifyAssigned)
		require.False(t, saved.NotifyNewMessage)
		require.True(t, saved.NotifyHumanRequest)
		require.False(t, saved.UpdatedAt.IsZero())

		got, err = s.GetAgentSettings(ctx, b.ws, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, *saved, *got)

		// A second save replaces every field.
		all := storage.AgentSettingsFields{NotifyNewUnassigned: true, NotifyAssigned: false, NotifyNewMessage: true, NotifyHumanRequest: false}
		_, err = s.SaveAgentSettings(ctx, b.ws, b.agent.ID, all)
		require.NoError(t, err)
		got, err = s.GetAgentSettings(ctx, b.ws, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, all, storage.AgentSettingsFields{NotifyNewUnassigned: got.NotifyNewUnassigned,
			NotifyAssigned: got.NotifyAssigned, NotifyNewMessage: got.NotifyNewMessage, NotifyHumanRequest: got.NotifyHumanRequest})

		// Another member keeps the defaults.
		other, err := s.GetAgentSettings(ctx, b.ws, b.admin.ID)
		require.NoError(t, err)
		require.True(t, other.NotifyNewUnassigned && other.NotifyAssigned && other.NotifyNewMessage && other.NotifyHumanRequest)
	})
}

func TestAgentSettingsAreScopedToTheWorkspace(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		_, err := s.SaveAgentSettings(ctx, a.ws, a.agent.ID, storage.AgentSettingsFields{})
		require.NoError(t, err)

		_, err = s.GetAgentSettings(ctx, b.ws, a.agent.ID)
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's member reads as not found, not as defaults")
		_, err = s.SaveAgentSettings(ctx, b.ws, a.agent.ID, storage.AgentSettingsFields{NotifyAssigned: true})
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetAgentSettings(ctx, a.ws, "no-such-user")
		require.ErrorIs(t, err, storage.ErrNotFound)

		_, err = s.GetAgentSettings(ctx, "", a.agent.ID)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.SaveAgentSettings(ctx, "", a.agent.ID, storage.AgentSettingsFields{})
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.GetAgentSettings(ctx, a.ws, "")
		require.ErrorIs(t, err, storage.ErrInvalid)

		// Nothing changed for the victim.
		got, err := s.GetAgentSettings(ctx, a.ws, a.agent.ID)
		require.NoError(t, err)
		require.False(t, got.NotifyAssigned)
	})
}

func TestAgentSettingsConcurrentFirstSavesBothSucceed(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		errs := race(8, func(i int) error {
			_, err := s.SaveAgentSettings(ctx, b.ws, b.agent.ID, storage.AgentSettingsFields{NotifyNewMessage: i%2 == 0})
			return err
		})
		for i, err := range errs {
			if err != nil {
				// SQLite serializes writers; a busy timeout is the only
				// acceptable failure, and it must be the sentinel.
				require.ErrorIs(t, err, storage.ErrBusy, "racer %d", i)
			}
		}
		_, err := s.GetAgentSettings(ctx, b.ws, b.agent.ID)
		require.NoError(t, err)
	})
}
