package storage

import (
	"context"
	"time"

	"github.com/shopspring/decimal"
)

// LeadKind tells a lead from a deal.
type LeadKind string

// The lead kinds.
const (
	KindLead LeadKind = "lead"
	// KindDeal is a lead with a value.
	KindDeal LeadKind = "deal"
)

// Lead is a lead or deal captured in a conversation or by an agent.
type Lead struct {
	ID          string
	WorkspaceID string
	// ConversationID is the chat it came from, or "".
	ConversationID string `gorm:"serializer:frontdesk_nullstring"`
	Kind           LeadKind
	PersonName     string
	Email          string
	Phone          string
	OrgName        string
	OrgAddress     string
	// Value is the deal value, exact: NUMERIC(20,4) on Postgres, decimal
	// text on SQLite, never a float.
	Value         decimal.NullDecimal
	Currency      string
	ExpectedClose *Date
	Notes         string
	CreatedAt     time.Time
}

// TableName is the leads table.
func (Lead) TableName() string { return "leads" }

// NewLead is the input of CreateLead. Field checks (email shape, phone
// length, currency code) are the API's; storage enforces what the schema
// needs.
type NewLead struct {
	ConversationID string
	Kind           LeadKind
	PersonName     string
	Email          string
	Phone          string
	OrgName        string
	OrgAddress     string
	Value          decimal.NullDecimal
	Currency       string
	ExpectedClose  *Date
	Notes          string
}

// Money bounds: NUMERIC(20,4) holds 16 digits before the point and 4 after.
const (
	// MaxValueScale is the most digits a value may have after the point.
	MaxValueScale = 4
)

// maxValue is the first value NUMERIC(20,4) cannot hold (10^16).
var maxValue = decimal.New(1, 16)

// checkValue refuses what one dialect would round or refuse, so both store
// the same number: more than four decimals, 10^16 or more, or a negative.
func checkValue(v decimal.NullDecimal) error {
	if !v.Valid {
		return nil
	}
	d := v.Decimal
	if d.IsNegative() {
		return invalidf("value %s: must not be negative", d)
	}
	if d.GreaterThanOrEqual(maxValue) {
		return invalidf("value %s: must be below %s", d, maxValue)
	}
	if !d.Equal(d.Truncate(MaxValueScale)) {
		return invalidf("value %s: at most %d decimal places", d, MaxValueScale)
	}
	return nil
}

// CreateLead stores a lead or deal. Creating one does not close the
// conversation.
func (s *Store) CreateLead(ctx context.Context, ws string, in NewLead) (*Lead, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if in.Kind != KindLead && in.Kind != KindDeal {
		return nil, invalidf("kind %q: want lead or deal", in.Kind)
	}
	if err := checkValue(in.Value); err != nil {
		return nil, err
	}
	if in.ExpectedClose != nil && !in.ExpectedClose.valid() {
		return nil, invalidf("expected close %s: not a calendar date", in.ExpectedClose)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"person name", in.PersonName, MaxNameBytes}, {"email", in.Email, MaxNameBytes},
		{"phone", in.Phone, MaxNameBytes}, {"organisation name", in.OrgName, MaxNameBytes},
		{"organisation address", in.OrgAddress, MaxTextBytes}, {"currency", in.Currency, MaxNameBytes},
		{"notes", in.Notes, MaxTextBytes},
	} {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return nil, err
		}
	}
	l := &Lead{
		ID: newID(), WorkspaceID: ws, ConversationID: in.ConversationID, Kind: in.Kind,
		PersonName: in.PersonName, Email: in.Email, Phone: in.Phone, OrgName: in.OrgName,
		OrgAddress: in.OrgAddress, Value: in.Value, Currency: in.Currency,
		ExpectedClose: in.ExpectedClose, Notes: in.Notes, CreatedAt: s.now(),
	}
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "conversations", "conversation", ws, in.ConversationID); err != nil {
			return err
		}
		return mapError(tx.conn(ctx).Create(l).Error)
	})
	if err != nil {
		return nil, wrap("create lead", err)
	}
	return l, nil
}

// GetLead returns the lead, or ErrNotFound.
func (s *Store) GetLead(ctx context.Context, ws, id string) (*Lead, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var l Lead
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&l).Error; err != nil {
		return nil, wrap("get lead", err)
	}
	return &l, nil
}

// LeadFilter selects leads for ListLeads.
type LeadFilter struct {
	// ConversationID keeps one conversation's leads; another workspace's id
	// gives ErrNotFound.
	ConversationID string
	// Kind keeps leads or deals; "" keeps both.
	Kind LeadKind
	// Since keeps leads created at or after it; zero means no bound.
	Since time.Time
	// Before is the id of the last lead of the previous page: the page
	// starts after it, newest first (a keyset cursor, so paging deep stays
	// as cheap as the first page). A lead of another workspace gives
	// ErrNotFound.
	Before string
	// Limit: see DefaultListLimit and MaxListLimit.
	Limit int
}

// ListLeads returns a page of the workspace's leads, newest first.
func (s *Store) ListLeads(ctx context.Context, ws string, f LeadFilter) ([]Lead, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	q := s.conn(ctx).Where("workspace_id = ?", ws)
	if f.ConversationID != "" {
		if err := s.needConversation(ctx, ws, f.ConversationID); err != nil {
			return nil, err
		}
		q = q.Where("conversation_id = ?", f.ConversationID)
	}
	if f.Kind != "" {
		if f.Kind != KindLead && f.Kind != KindDeal {
			return nil, invalidf("kind %q: want lead or deal", f.Kind)
		}
		q = q.Where("kind = ?", f.Kind)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", utc(f.Since))
	}
	if f.Before != "" {
		cursor, err := s.GetLead(ctx, ws, f.Before)
		if err != nil {
			return nil, wrap("list leads", err)
		}
		q = q.Where("(created_at < ? OR (created_at = ? AND id < ?))", cursor.CreatedAt, cursor.CreatedAt, cursor.ID)
	}
	var out []Lead
	if err := q.Order("created_at DESC, id DESC").Limit(clampLimit(f.Limit)).Find(&out).Error; err != nil {
		return nil, wrap("list leads", err)
	}
	return out, nil
}
