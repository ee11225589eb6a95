package storage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestOpenPicksTheDialectFromTheURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	for _, u := range []string{
		"sqlite:" + filepath.Join(dir, "a.db"),
		"file:" + filepath.Join(dir, "b.db"),
		filepath.Join(dir, "c.db"),
	} {
		s, err := storage.Open(ctx, u, storage.Options{})
		require.NoError(t, err, u)
		require.Equal(t, storage.SQLite, s.Dialect())
		require.NoError(t, s.Ping(ctx))
		require.NoError(t, s.Close())
	}
	for _, u := range []string{":memory:", "sqlite::memory:", "sqlite:" + filepath.Join(dir, "d.db") + "?_pragma=foreign_keys(0)", "sqlite:"} {
		_, err := storage.Open(ctx, u, storage.Options{})
		require.ErrorIs(t, err, storage.ErrInvalid, u)
	}
	t.Run("postgres", func(t *testing.T) {
		s := storagetest.Open(t, storage.Postgres)
		require.Equal(t, storage.Postgres, s.Dialect())
		require.NoError(t, s.Ping(ctx))
	})
}

func TestUnreachablePostgresIsUnavailable(t *testing.T) {
	t.Parallel()
	_, err := storage.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", storage.Options{})
	require.ErrorIs(t, err, storage.ErrUnavailable)
}

func TestUsers(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		u, err := s.CreateUser(ctx, b.ws, storage.NewUser{Email: "  Carol@Acme.TEST ", Name: "Carol", Role: storage.RoleOwner, PasswordHash: "h1"})
		require.NoError(t, err)
		require.Equal(t, "carol@acme.test", u.Email, "stored lowercased")

		got, err := s.GetUserByEmail(ctx, b.ws, "CAROL@acme.test")
		require.NoError(t, err)
		require.Equal(t, u.ID, got.ID)

		_, err = s.CreateUser(ctx, b.ws, storage.NewUser{Email: "carol@ACME.test", Role: storage.RoleAgent})
		require.ErrorIs(t, err, storage.ErrDuplicate, "emails are unique per workspace, ignoring case")
		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, err = s.CreateUser(ctx, other.ID, storage.NewUser{Email: "carol@acme.test", Role: storage.RoleAgent})
		require.NoError(t, err, "but not across workspaces")

		_, err = s.CreateUser(ctx, b.ws, storage.NewUser{Email: "d@acme.test", Role: "root"})
		require.ErrorIs(t, err, storage.ErrInvalid)

		require.NoError(t, s.UpdateUserPassword(ctx, b.ws, u.ID, "h2"))
		got, err = s.GetUser(ctx, b.ws, u.ID)
		require.NoError(t, err)
		require.Equal(t, "h2", got.PasswordHash)
		require.True(t, got.UpdatedAt.After(u.UpdatedAt) || got.UpdatedAt.Equal(u.UpdatedAt))

		users, err := s.ListUsers(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Len(t, users, 3)
		require.Equal(t, "admin@acme.test", users[0].Email, "by email")
		require.Equal(t, storage.RoleAdmin, users[0].Role)
	})
}

func TestDuplicateErrorsHideTheDriver(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		_, err := s.CreateUser(ctx, b.ws, storage.NewUser{Email: "admin@acme.test", Role: storage.RoleAgent})
		require.ErrorIs(t, err, storage.ErrDuplicate)
		// Only sentinels and context errors are reachable by errors.As/Is;
		// the chain ends at storage's own errors.
		for e := err; e != nil; e = errors.Unwrap(e) {
			require.Contains(t, []string{"*fmt.wrapError", "*errors.errorString"}, fmt.Sprintf("%T", e))
		}
	})
}

func TestChannelsAndAssistantsList(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)

		byKey, err := s.GetChannelByPublicKey(ctx, b.channel.PublicKey)
		require.NoError(t, err)
		require.Equal(t, b.channel.ID, byKey.ID)
		require.Equal(t, b.ws, byKey.WorkspaceID, "the key identifies the tenant")
		require.Equal(t, storage.Strings{"https://acme.test"}, byKey.AllowedOrigins)
		require.JSONEq(t, `{}`, string(byKey.DefaultResponse))
		_, err = s.GetChannelByPublicKey(ctx, "pk_unknown")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetChannelByPublicKey(ctx, "")
		require.ErrorIs(t, err, storage.ErrNotFound)

		second, err := s.CreateChannel(ctx, b.ws, storage.NewChannel{Name: "Blog"})
		require.NoError(t, err)
		require.NotEqual(t, b.channel.PublicKey, second.PublicKey)
		draftOnly, err := s.CreateAssistant(ctx, b.ws, storage.NewAssistant{Name: "Draft bot", Languages: []string{"en", "de"}})
		require.NoError(t, err)
		require.Equal(t, storage.Strings{"en", "de"}, draftOnly.Languages)

		// Connecting replaces the channel's assistant.
		require.NoError(t, s.ConnectAssistant(ctx, b.ws, b.channel.ID, draftOnly.ID))
		require.NoError(t, s.ConnectAssistant(ctx, b.ws, second.ID, b.assistant.ID))

		list, err := s.ListAssistants(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, "Draft bot", list[0].Name)
		require.False(t, list[0].Published())
		require.Equal(t, []storage.ChannelRef{{ID: b.channel.ID, Name: "Website"}}, list[0].Channels)
		require.Equal(t, "Helper", list[1].Name)
		require.True(t, list[1].Published())
		require.Equal(t, 1, list[1].LatestVersion)
		require.Equal(t, []storage.ChannelRef{{ID: second.ID, Name: "Blog"}}, list[1].Channels)

		require.NoError(t, s.DisconnectAssistant(ctx, b.ws, b.channel.ID))
		ch, err := s.GetChannel(ctx, b.ws, b.channel.ID)
		require.NoError(t, err)
		require.Empty(t, ch.AssistantID)

		require.NoError(t, s.RenameAssistant(ctx, b.ws, draftOnly.ID, "Renamed"))
		require.NoError(t, s.UpdateAssistantSettings(ctx, b.ws, draftOnly.ID, storage.AssistantSettings{
			Languages: []string{"fr"}, Settings: storage.JSON(`{"audience":"new"}`),
		}))
		got, err := s.GetAssistant(ctx, b.ws, draftOnly.ID)
		require.NoError(t, err)
		require.Equal(t, "Renamed", got.Name)
		require.Equal(t, storage.Strings{"fr"}, got.Languages)
		require.Equal(t, `{"audience":"new"}`, string(got.Settings))

		// Deleting an assistant frees its channels and keeps its chats.
		c := b.conversation(t, storage.StatusBot)
		require.NoError(t, s.DeleteAssistant(ctx, b.ws, b.assistant.ID))
		ch, err = s.GetChannel(ctx, b.ws, second.ID)
		require.NoError(t, err)
		require.Empty(t, ch.AssistantID)
		conv, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Empty(t, conv.AssistantID)
		require.Empty(t, conv.VersionID)
		_, err = s.GetDraft(ctx, b.ws, b.assistant.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		require.ErrorIs(t, s.DeleteAssistant(ctx, b.ws, b.assistant.ID), storage.ErrNotFound)

		require.NoError(t, s.SetOutOfOffice(ctx, b.ws, true))
		w, err := s.GetWorkspace(ctx, b.ws)
		require.NoError(t, err)
		require.True(t, w.OutOfOffice)
	})
}

func TestListLimitsAreBounded(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		for range storage.DefaultListLimit + 5 {
			_, _, err := s.AppendMessage(ctx, b.ws, storage.NewMessage{ConversationID: c.ID, Author: storage.AuthorBot, Body: "x"})
			require.NoError(t, err)
		}
		def, err := s.ListMessagesAfter(ctx, b.ws, c.ID, 0, 0)
		require.NoError(t, err)
		require.Len(t, def, storage.DefaultListLimit, "zero means the default")
		huge, err := s.ListMessagesAfter(ctx, b.ws, c.ID, 0, 1_000_000)
		require.NoError(t, err)
		require.Len(t, huge, storage.DefaultListLimit+5, "a huge limit is cut to MaxListLimit, here all rows")
	})
}

func TestTimesComeBackAsTheSameUTCInstant(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		// Written through UPDATE … RETURNING and read back by SELECT.
		u, err := s.UpdateConversationState(ctx, b.ws, c.ID, c.Version, storage.JSON(`{}`))
		require.NoError(t, err)
		g, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, u.UpdatedAt, g.UpdatedAt)
		require.Equal(t, c.CreatedAt, g.CreatedAt)
		require.Equal(t, time.UTC, g.UpdatedAt.Location())

		// A caller's time in another zone, with nanoseconds, is stored as
		// the same instant at microsecond precision, in UTC.
		zone := time.FixedZone("UTC-5", -5*3600)
		fire := time.Date(2030, 6, 1, 7, 0, 0, 123456789, zone)
		tm, err := s.SetTimer(ctx, b.ws, storage.NewTimer{ConversationID: c.ID, Name: "x", FireAt: fire})
		require.NoError(t, err)
		want := fire.UTC().Truncate(time.Microsecond)
		require.Equal(t, want, tm.FireAt)
		claimed, err := s.ClaimDueTimers(ctx, fire, 1, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 1, "due at exactly its time, in any zone")
		require.Equal(t, want, claimed[0].FireAt)
		require.Equal(t, want.Add(time.Minute), *claimed[0].ClaimedUntil)
	})
}
