package storage_test

import (
	"context"
	"testing"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestLeadValuesAreExactDecimals(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)

		big := decimal.RequireFromString("12345678901234.5678")
		sum := decimal.RequireFromString("0.1").Add(decimal.RequireFromString("0.2"))
		closeDate := storage.Date{Year: 2030, Month: 2, Day: 28}
		for _, v := range []decimal.Decimal{big, sum, decimal.Zero, decimal.RequireFromString("9999999999999999.9999")} {
			l, err := s.CreateLead(ctx, b.ws, storage.NewLead{
				Kind: storage.KindDeal, PersonName: "Eve", Email: "eve@example.test", OrgName: "Example",
				Value: decimal.NewNullDecimal(v), Currency: "EUR", ExpectedClose: &closeDate,
			})
			require.NoError(t, err)
			got, err := s.GetLead(ctx, b.ws, l.ID)
			require.NoError(t, err)
			require.True(t, got.Value.Valid)
			require.Truef(t, v.Equal(got.Value.Decimal), "stored %s, read %s", v, got.Value.Decimal)
			require.Equal(t, closeDate, *got.ExpectedClose)
		}
		require.True(t, sum.Equal(decimal.RequireFromString("0.3")), "0.1 + 0.2 is exactly 0.3 in decimal")

		// A lead without a value reads back as no value, not zero.
		l, err := s.CreateLead(ctx, b.ws, storage.NewLead{Kind: storage.KindLead, Email: "x@example.test"})
		require.NoError(t, err)
		got, err := s.GetLead(ctx, b.ws, l.ID)
		require.NoError(t, err)
		require.False(t, got.Value.Valid)
		require.Nil(t, got.ExpectedClose)
	})
}

func TestLeadValuesOneDialectCannotKeepAreRefused(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		for _, v := range []string{"-1", "0.00001", "10000000000000000", "1e309"} {
			d, err := decimal.NewFromString(v)
			require.NoError(t, err)
			_, err = s.CreateLead(ctx, b.ws, storage.NewLead{Kind: storage.KindDeal, Value: decimal.NewNullDecimal(d)})
			require.ErrorIs(t, err, storage.ErrInvalid, "value %s", v)
		}
		_, err := s.CreateLead(ctx, b.ws, storage.NewLead{Kind: "opportunity"})
		require.ErrorIs(t, err, storage.ErrInvalid)
		_, err = s.CreateLead(ctx, b.ws, storage.NewLead{Kind: storage.KindLead, ExpectedClose: &storage.Date{Year: 2030, Month: 2, Day: 30}})
		require.ErrorIs(t, err, storage.ErrInvalid, "no such date")
		_, err = s.CreateLead(ctx, b.ws, storage.NewLead{Kind: storage.KindLead, Email: "a@b.test\r\nBcc: x"})
		require.NoError(t, err, "storage keeps text as text; field rules are the API's")
	})
}

func TestLeadsBelongToTheirConversation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		closed, err := s.SetConversationStatus(ctx, b.ws, c.ID, c.Version, storage.StatusClosed, "")
		require.NoError(t, err)
		lead, err := s.CreateLead(ctx, b.ws, storage.NewLead{ConversationID: closed.ID, Kind: storage.KindLead, PersonName: "Eve"})
		require.NoError(t, err, "leads can be created from closed chats")
		deal, err := s.CreateLead(ctx, b.ws, storage.NewLead{ConversationID: closed.ID, Kind: storage.KindDeal, Value: decimal.NewNullDecimal(decimal.NewFromInt(5))})
		require.NoError(t, err)
		_, err = s.CreateLead(ctx, b.ws, storage.NewLead{Kind: storage.KindLead})
		require.NoError(t, err)

		list, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{ConversationID: c.ID})
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, deal.ID, list[0].ID, "newest first")
		require.Equal(t, lead.ID, list[1].ID)
		deals, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{Kind: storage.KindDeal})
		require.NoError(t, err)
		require.Len(t, deals, 1)
		all, err := s.ListLeads(ctx, b.ws, storage.LeadFilter{})
		require.NoError(t, err)
		require.Len(t, all, 3)

		got, err := s.GetConversation(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, storage.StatusClosed, got.Status, "creating a lead does not change the chat")
	})
}
