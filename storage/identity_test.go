package storage_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// A channel's identity secret is generated, replaced and cleared, only
// within its workspace.
func TestChannelIdentitySecret(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		require.False(t, b.channel.IdentityVerification())
		require.Nil(t, b.channel.IdentitySecretSetAt)

		secret, ch, err := s.GenerateIdentitySecret(ctx, b.ws, b.channel.ID)
		require.NoError(t, err)
		require.Regexp(t, regexp.MustCompile(`^fdid_[A-Za-z0-9_-]{43}$`), secret)
		require.Equal(t, secret, ch.IdentitySecret)
		require.True(t, ch.IdentityVerification())
		require.NotNil(t, ch.IdentitySecretSetAt)
		got, err := s.GetChannelByPublicKey(ctx, b.channel.PublicKey)
		require.NoError(t, err)
		require.Equal(t, secret, got.IdentitySecret)

		// Rotating replaces it.
		again, _, err := s.GenerateIdentitySecret(ctx, b.ws, b.channel.ID)
		require.NoError(t, err)
		require.NotEqual(t, secret, again)
		got, err = s.GetChannel(ctx, b.ws, b.channel.ID)
		require.NoError(t, err)
		require.Equal(t, again, got.IdentitySecret)

		// Another workspace cannot touch it.
		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, _, err = s.GenerateIdentitySecret(ctx, other.ID, b.channel.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.ClearIdentitySecret(ctx, other.ID, b.channel.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.ClearIdentitySecret(ctx, "", b.channel.ID)
		require.ErrorIs(t, err, storage.ErrInvalid)

		ch, err = s.ClearIdentitySecret(ctx, b.ws, b.channel.ID)
		require.NoError(t, err)
		require.False(t, ch.IdentityVerification())
		require.Nil(t, ch.IdentitySecretSetAt)
		ch, err = s.ClearIdentitySecret(ctx, b.ws, b.channel.ID)
		require.NoError(t, err, "clearing twice is fine")
		require.False(t, ch.IdentityVerification())
	})
}

// LatestOpenConversation finds the visitor's newest conversation on the
// channel that is not closed.
func TestLatestOpenConversation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		mk := func(visitor string, status storage.ConversationStatus) *storage.Conversation {
			c, err := s.CreateConversation(ctx, b.ws, storage.NewConversation{ChannelID: b.channel.ID, VersionID: b.version.ID, VisitorID: visitor, Status: status})
			require.NoError(t, err)
			return c
		}
		_, err := s.LatestOpenConversation(ctx, b.ws, b.channel.ID, "id:ada")
		require.ErrorIs(t, err, storage.ErrNotFound)
		has, err := s.HasVisitorConversation(ctx, b.ws, b.channel.ID, "id:ada")
		require.NoError(t, err)
		require.False(t, has)

		older := mk("id:ada", "")
		newer := mk("id:ada", "")
		mk("id:ada", storage.StatusClosed)
		mk("id:bob", "")
		got, err := s.LatestOpenConversation(ctx, b.ws, b.channel.ID, "id:ada")
		require.NoError(t, err)
		require.Equal(t, newer.ID, got.ID, "the newest open one, not the closed one after it")
		require.NotEqual(t, older.ID, got.ID)
		has, err = s.HasVisitorConversation(ctx, b.ws, b.channel.ID, "id:ada")
		require.NoError(t, err)
		require.True(t, has)

		// Scoped by workspace and channel.
		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, err = s.LatestOpenConversation(ctx, other.ID, b.channel.ID, "id:ada")
		require.ErrorIs(t, err, storage.ErrNotFound)
		ch2, err := s.CreateChannel(ctx, b.ws, storage.NewChannel{Name: "Blog"})
		require.NoError(t, err)
		_, err = s.LatestOpenConversation(ctx, b.ws, ch2.ID, "id:ada")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.LatestOpenConversation(ctx, "", b.channel.ID, "id:ada")
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}
