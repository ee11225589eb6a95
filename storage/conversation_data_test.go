package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestConversationDataStartsEmptyAndRoundTripsExactly(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		d, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), d.Revision, "no data yet is revision 0")
		require.Equal(t, c.ID, d.ConversationID)
		require.False(t, d.Value.Valid)
		require.Nil(t, d.ExpectedClose)

		closeDate := storage.Date{Year: 2031, Month: 12, Day: 31}
		in := storage.ConversationDataFields{
			PersonName: `<img src=x onerror=alert(1)>`, Email: "eve@example.test", Phone: "+33 1 23 45 67 89",
			OrgName: "Example & Co", OrgAddress: "1 rue de la Paix\nParis", Notes: "[click](javascript:alert(1))",
			Value:    decimal.NewNullDecimal(decimal.RequireFromString("12345678901234.5678")),
			Currency: "EUR", ExpectedClose: &closeDate,
		}
		saved, err := s.SaveConversationData(ctx, b.ws, c.ID, 0, in, b.agent.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), saved.Revision)
		require.Equal(t, b.agent.ID, saved.UpdatedBy)

		got, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), got.Revision)
		require.Equal(t, in.PersonName, got.PersonName, "markup is kept as text, byte for byte")
		require.Equal(t, in.Notes, got.Notes)
		require.Equal(t, in.OrgAddress, got.OrgAddress)
		require.True(t, got.Value.Valid)
		require.Truef(t, in.Value.Decimal.Equal(got.Value.Decimal), "stored %s, read %s", in.Value.Decimal, got.Value.Decimal)
		require.Equal(t, "12345678901234.5678", got.Value.Decimal.String())
		require.Equal(t, closeDate, *got.ExpectedClose)
		require.Equal(t, saved.UpdatedAt, got.UpdatedAt)

		// 0.1 + 0.2 stored and read back is exactly 0.3.
		sum := decimal.RequireFromString("0.1").Add(decimal.RequireFromString("0.2"))
		saved, err = s.SaveConversationData(ctx, b.ws, c.ID, 1, storage.ConversationDataFields{Value: decimal.NewNullDecimal(sum)}, "")
		require.NoError(t, err)
		require.Equal(t, int64(2), saved.Revision)
		got, err = s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, "0.3", got.Value.Decimal.String())
		require.Empty(t, got.PersonName, "a save replaces every field")
		require.Nil(t, got.ExpectedClose)
		require.Empty(t, got.UpdatedBy)
	})
}

func TestConversationDataRevisionConflicts(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)

		_, err := s.SaveConversationData(ctx, b.ws, c.ID, 3, storage.ConversationDataFields{PersonName: "x"}, "")
		var ce *storage.ConflictError
		require.ErrorAs(t, err, &ce, "revision 3 of nothing")
		require.Equal(t, int64(0), ce.Current)

		_, err = s.SaveConversationData(ctx, b.ws, c.ID, 0, storage.ConversationDataFields{PersonName: "Ann"}, "")
		require.NoError(t, err)
		_, err = s.SaveConversationData(ctx, b.ws, c.ID, 0, storage.ConversationDataFields{PersonName: "Bob"}, "")
		require.ErrorAs(t, err, &ce, "a second first save conflicts")
		require.ErrorIs(t, err, storage.ErrConflict)
		require.Equal(t, int64(1), ce.Current)

		// Two agents saving from the same revision: exactly one wins.
		errs := race(8, func(i int) error {
			_, err := s.SaveConversationData(ctx, b.ws, c.ID, 1, storage.ConversationDataFields{PersonName: "racer"}, "")
			return err
		})
		require.Equal(t, 1, countWins(t, errs, storage.ErrConflict))

		// Last write wins when no revision is given, and no save is lost.
		errs = race(6, func(i int) error {
			_, err := s.SaveConversationData(ctx, b.ws, c.ID, storage.AnyRevision, storage.ConversationDataFields{PersonName: "any"}, "")
			return err
		})
		for _, err := range errs {
			if err != nil {
				require.ErrorIs(t, err, storage.ErrBusy, "only a lock timeout may refuse a blind save")
			}
		}
		d, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2+6-countErrors(errs)), d.Revision)
		require.Equal(t, "any", d.PersonName)
	})
}

func TestConversationDataFirstSavesWithoutRevisionDoNotCollide(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		errs := race(6, func(i int) error {
			_, err := s.SaveConversationData(ctx, b.ws, c.ID, storage.AnyRevision, storage.ConversationDataFields{Notes: "n"}, "")
			return err
		})
		require.Zero(t, countErrors(errs), "%v", errs)
		d, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(6), d.Revision)
	})
}

func TestConversationDataOnClosedConversationsAndTenancy(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		closed, err := s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusClosed, "")
		require.NoError(t, err)
		_, err = s.SaveConversationData(ctx, b.ws, closed.ID, storage.AnyRevision, storage.ConversationDataFields{Email: "late@example.test"}, "")
		require.NoError(t, err, "data can be added after the chat is closed")

		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, err = s.GetConversationData(ctx, other.ID, c.ID)
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's conversation")
		_, err = s.SaveConversationData(ctx, other.ID, c.ID, storage.AnyRevision, storage.ConversationDataFields{Email: "x"}, "")
		require.ErrorIs(t, err, storage.ErrNotFound)
		_, err = s.GetConversationData(ctx, "", c.ID)
		require.ErrorIs(t, err, storage.ErrInvalid, "an empty tenant never widens the query")
		_, err = s.SaveConversationData(ctx, b.ws, "no-such-conversation", storage.AnyRevision, storage.ConversationDataFields{}, "")
		require.ErrorIs(t, err, storage.ErrNotFound)

		d, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, "late@example.test", d.Email, "the other tenant's save changed nothing")
	})
}

func TestConversationDataRefusesWhatADialectCannotKeep(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		for _, v := range []string{"-1", "0.00001", "10000000000000000", "1e309"} {
			d, err := decimal.NewFromString(v)
			require.NoError(t, err)
			_, err = s.SaveConversationData(ctx, b.ws, c.ID, storage.AnyRevision, storage.ConversationDataFields{Value: decimal.NewNullDecimal(d)}, "")
			require.ErrorIs(t, err, storage.ErrInvalid, "value %s", v)
		}
		_, err := s.SaveConversationData(ctx, b.ws, c.ID, storage.AnyRevision, storage.ConversationDataFields{ExpectedClose: &storage.Date{Year: 2030, Month: 2, Day: 30}}, "")
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.SaveConversationData(ctx, b.ws, c.ID, storage.AnyRevision, storage.ConversationDataFields{Notes: "nul\x00byte"}, "")
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.SaveConversationData(ctx, b.ws, c.ID, -2, storage.ConversationDataFields{}, "")
		require.ErrorIs(t, err, storage.ErrInvalid)
		d, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), d.Revision, "nothing was stored half-way")
	})
}

func TestListLeadsPages(t *testing.T) {
	t.Parallel()
	for _, dialect := range storagetest.Dialects {
		t.Run(string(dialect), func(t *testing.T) {
			t.Parallel()
			// A clock that moves one second per read orders the leads.
			base := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
			var tick int64
			clock := func() time.Time { tick++; return base.Add(time.Duration(tick) * time.Second) }
			s := storagetest.OpenWith(t, dialect, storage.Options{Now: clock})
			ctx := context.Background()
			b := setup(t, s)
			var ids []string
			for i := range 6 {
				kind := storage.KindLead
				if i%2 == 1 {
					kind = storage.KindDeal
				}
				l, err := s.CreateLead(ctx, b.ws, storage.NewLead{Kind: kind, PersonName: "p"})
				require.NoError(t, err)
				ids = append(ids, l.ID)
			}
			page, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{Limit: 4})
			require.NoError(t, err)
			require.Len(t, page, 4)
			require.Equal(t, ids[5], page[0].ID, "newest first")
			next, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{Limit: 4, Before: page[3].ID})
			require.NoError(t, err)
			require.Len(t, next, 2)
			require.Equal(t, ids[1], next[0].ID)
			require.Equal(t, ids[0], next[1].ID)

			deals, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{Kind: storage.KindDeal})
			require.NoError(t, err)
			require.Len(t, deals, 3)
			for _, d := range deals {
				require.Equal(t, storage.KindDeal, d.Kind)
			}
			third, err := s.GetLead(ctx, b.ws, ids[3])
			require.NoError(t, err)
			recent, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{Since: third.CreatedAt})
			require.NoError(t, err)
			require.Len(t, recent, 3, "since is inclusive")

			_, err = s.ListLeads(ctx, b.ws, storage.LeadFilter{Kind: "opportunity"})
			require.ErrorIs(t, err, storage.ErrInvalid)
			other, err := s.CreateWorkspace(ctx, "Other")
			require.NoError(t, err)
			none, err := s.ListLeads(ctx, other.ID, storage.LeadFilter{})
			require.NoError(t, err)
			require.Empty(t, none)
			_, err = s.ListLeads(ctx, other.ID, storage.LeadFilter{Before: ids[0]})
			require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's cursor")
		})
	}
}

func TestConversationDataMigrationDownUp(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		_, err := s.SaveConversationData(ctx, b.ws, c.ID, storage.AnyRevision, storage.ConversationDataFields{Notes: "x"}, "")
		require.NoError(t, err)
		require.NoError(t, migrations.DownTo(ctx, s.DB(), s.Dialect(), 3), "migration 4 rolls back on its own")
		_, err = s.GetConversationData(ctx, b.ws, c.ID)
		require.Error(t, err, "the table is gone")
		_, err = s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err, "older tables stay")
		require.NoError(t, migrations.Up(ctx, s.DB(), s.Dialect()))
		d, err := s.GetConversationData(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), d.Revision)
	})
}

// countErrors counts non-nil errors.
func countErrors(errs []error) int {
	n := 0
	for _, err := range errs {
		if err != nil {
			n++
		}
	}
	return n
}
