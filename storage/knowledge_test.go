package storage_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestKnowledgeSaveNeedsTheCurrentRevision(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)

		// Never saved: no row, revision 0 in the head.
		_, err := s.GetKnowledge(ctx, b.ws, b.assistant.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		h, err := s.GetKnowledgeHead(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, storage.KnowledgeHead{AssistantName: "Helper", DefaultLanguage: "en", Languages: storage.Strings{"en"}, Revision: 0}, *h)

		k, err := s.SaveKnowledge(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{"bio":"first"}`), b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), k.Revision)

		// A second editor still on revision 0 loses and learns the current
		// revision; nothing is overwritten.
		_, err = s.SaveKnowledge(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{"bio":"second"}`), b.agent.ID)
		var ce *storage.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, int64(1), ce.Current)
		require.Equal(t, "knowledge", ce.Resource)

		k, err = s.SaveKnowledge(ctx, b.ws, b.assistant.ID, 1, storage.JSON(`{"bio":"third"}`), b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), k.Revision)
		_, err = s.SaveKnowledge(ctx, b.ws, b.assistant.ID, 1, storage.JSON(`{"bio":"stale"}`), "")
		require.ErrorAs(t, err, &ce)
		require.Equal(t, int64(2), ce.Current)

		got, err := s.GetKnowledge(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), got.Revision)
		require.Equal(t, `{"bio":"third"}`, string(got.Document), "the document comes back byte for byte")
		require.Equal(t, b.agent.ID, got.UpdatedBy)
		h, err = s.GetKnowledgeHead(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), h.Revision)

		// A stale non-zero revision on a base never saved is a conflict
		// at 0, not a missing assistant.
		other, err := s.CreateAssistant(ctx, b.ws, storage.NewAssistant{Name: "Other"})
		require.NoError(t, err)
		_, err = s.SaveKnowledge(ctx, b.ws, other.ID, 3, storage.JSON(`{}`), "")
		require.ErrorAs(t, err, &ce)
		require.Equal(t, int64(0), ce.Current)
	})
}

func TestConcurrentFirstKnowledgeSavesHaveOneWinner(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		errs := race(8, func(i int) error {
			_, err := s.SaveKnowledge(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{"i":1}`), "")
			return err
		})
		require.Equal(t, 1, countWins(t, errs, storage.ErrConflict))
		k, err := s.GetKnowledge(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), k.Revision)
	})
}

func TestKnowledgeReplaceAlwaysBumpsTheRevision(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		k, err := s.ReplaceKnowledge(ctx, b.ws, b.assistant.ID, storage.JSON(`{"v":1}`), b.admin.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), k.Revision, "the first replace creates the row")

		errs := race(6, func(i int) error {
			_, err := s.ReplaceKnowledge(ctx, b.ws, b.assistant.ID, storage.JSON(`{"v":2}`), "")
			return err
		})
		require.Equal(t, 6, countWins(t, errs, nil), "replacements never conflict")
		k, err = s.GetKnowledge(ctx, b.ws, b.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, int64(7), k.Revision, "each replacement is a revision")
		require.Equal(t, `{"v":2}`, string(k.Document))
	})
}

func TestKnowledgeRefusesBadDocumentsAndStrangers(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		for _, d := range []string{``, `{`, "{\"a\":\"\x00\"}", `{"a":"` + strings.Repeat("x", storage.MaxKnowledgeBytes) + `"}`} {
			_, err := s.SaveKnowledge(ctx, a.ws, a.assistant.ID, 0, storage.JSON(d), "")
			require.ErrorIs(t, err, storage.ErrInvalid, "document %.20q", d)
			_, err = s.ReplaceKnowledge(ctx, a.ws, a.assistant.ID, storage.JSON(d), "")
			require.ErrorIs(t, err, storage.ErrInvalid, "document %.20q", d)
		}
		_, err := s.SaveKnowledge(ctx, a.ws, a.assistant.ID, 0, storage.JSON(`{"secret":true}`), a.admin.ID)
		require.NoError(t, err)

		// b's workspace sees none of a's knowledge, and cannot write it.
		_, err = s.GetKnowledge(ctx, b.ws, a.assistant.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetKnowledgeHead(ctx, b.ws, a.assistant.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.SaveKnowledge(ctx, b.ws, a.assistant.ID, 0, storage.JSON(`{"pwned":1}`), "")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.SaveKnowledge(ctx, b.ws, a.assistant.ID, 1, storage.JSON(`{"pwned":1}`), "")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.ReplaceKnowledge(ctx, b.ws, a.assistant.ID, storage.JSON(`{"pwned":1}`), "")
		require.ErrorIs(t, err, storage.ErrNotFound)
		// Nor name a's admin as its author.
		_, err = s.SaveKnowledge(ctx, b.ws, b.assistant.ID, 0, storage.JSON(`{}`), a.admin.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		// An empty workspace id never widens a query.
		_, err = s.GetKnowledge(ctx, "", a.assistant.ID)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.GetKnowledgeHead(ctx, "", a.assistant.ID)
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.SaveKnowledge(ctx, "", a.assistant.ID, 1, storage.JSON(`{}`), "")
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.ReplaceKnowledge(ctx, "", a.assistant.ID, storage.JSON(`{}`), "")
		require.ErrorIs(t, err, storage.ErrInvalid)
		got, err := s.GetKnowledge(ctx, a.ws, a.assistant.ID)
		require.NoError(t, err)
		require.Equal(t, `{"secret":true}`, string(got.Document))
		require.Equal(t, int64(1), got.Revision)

		// Deleting the assistant deletes its knowledge.
		require.NoError(t, s.DeleteAssistant(ctx, a.ws, a.assistant.ID))
		_, err = s.GetKnowledge(ctx, a.ws, a.assistant.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func TestAnswererSettingsUpsert(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		_, err := s.GetAnswererSettings(ctx, a.ws)
		require.ErrorIs(t, err, storage.ErrNotFound, "never saved")

		in := storage.AnswererSettings{
			Mode: storage.AnswererOpenAI, BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.2", APIKey: "sk-secret",
			MaxTokens: 300, TimeoutMS: 8000, Threshold: 0.6, Stream: true, HandoverTool: true, UpdatedBy: a.admin.ID,
		}
		got, err := s.SaveAnswererSettings(ctx, a.ws, in)
		require.NoError(t, err)
		require.Equal(t, a.ws, got.WorkspaceID)
		require.False(t, got.UpdatedAt.IsZero())
		in.WorkspaceID, in.UpdatedAt = got.WorkspaceID, got.UpdatedAt
		require.Equal(t, in, *got)

		in.Mode, in.Threshold, in.Stream, in.UpdatedBy = storage.AnswererBuiltin, 0.35, false, ""
		got, err = s.SaveAnswererSettings(ctx, a.ws, in)
		require.NoError(t, err)
		read, err := s.GetAnswererSettings(ctx, a.ws)
		require.NoError(t, err)
		require.Equal(t, *got, *read)
		require.Equal(t, storage.AnswererBuiltin, read.Mode)
		require.InDelta(t, 0.35, read.Threshold, 1e-9)
		require.Equal(t, "sk-secret", read.APIKey)
		require.Empty(t, read.UpdatedBy)

		// Another workspace has its own (none), and cannot name a's admin.
		_, err = s.GetAnswererSettings(ctx, b.ws)
		require.ErrorIs(t, err, storage.ErrNotFound)
		in.UpdatedBy = a.admin.ID
		_, err = s.SaveAnswererSettings(ctx, b.ws, in)
		require.ErrorIs(t, err, storage.ErrNotFound)

		for name, bad := range map[string]storage.AnswererSettings{
			"mode":      {Mode: "gpt", MaxTokens: 1, TimeoutMS: 1},
			"tokens":    {Mode: storage.AnswererBuiltin, MaxTokens: 0, TimeoutMS: 1},
			"threshold": {Mode: storage.AnswererBuiltin, MaxTokens: 1, TimeoutMS: 1, Threshold: 1.5},
			"nul":       {Mode: storage.AnswererBuiltin, MaxTokens: 1, TimeoutMS: 1, Model: "a\x00b"},
		} {
			_, err := s.SaveAnswererSettings(ctx, a.ws, bad)
			require.ErrorIs(t, err, storage.ErrInvalid, name)
		}
		_, err = s.SaveAnswererSettings(ctx, "", in)
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}
