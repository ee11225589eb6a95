package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/frontdesk/frontdesk/storage"
)

// DefaultMaxConversations is Service.MaxConversations when unset.
const DefaultMaxConversations = 200_000

// Service builds reports from the store. It is safe for concurrent use.
type Service struct {
	// Store is the database; required.
	Store *storage.Store
	// Now is the clock, read once per report for drop-offs. Defaults to
	// time.Now.
	Now func() time.Time
	// MaxConversations bounds a selection: a larger one is refused with a
	// *TooLargeError before it is aggregated. Defaults to
	// DefaultMaxConversations.
	MaxConversations int64
}

// Selection is what a report covers: the conversations of one assistant,
// and optionally one version, started in the period.
type Selection struct {
	// AssistantID is required. It must be the workspace's: the caller
	// checks it exists (another tenant's id simply selects nothing).
	AssistantID string
	// VersionID keeps one version; "" keeps every version.
	VersionID string
	// VersionNumber is VersionID's number, echoed in the report; 0 with
	// every version.
	VersionNumber int
	Period        Period
}

// TooLargeError refuses a selection of more than Service.MaxConversations
// conversations.
type TooLargeError struct {
	Conversations int64
	Max           int64
}

// Error describes the refusal and what to do about it.
func (e *TooLargeError) Error() string {
	return fmt.Sprintf("analytics: the selection has %d conversations, more than the %d a report covers; choose a shorter period or one version",
		e.Conversations, e.Max)
}

// Report computes every figure of the selection.
func (s *Service) Report(ctx context.Context, ws string, sel Selection) (*Report, error) {
	a, ssel, err := s.start(ctx, ws, sel)
	if err != nil {
		return nil, err
	}
	if err := s.Store.EachConversationFacts(ctx, ws, ssel, func(f *storage.ConversationFacts) error {
		a.add(f)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := s.Store.EachDealValue(ctx, ws, ssel, func(currency string, v decimal.Decimal) error {
		a.addDeal(currency, v)
		return nil
	}); err != nil {
		return nil, err
	}
	return a.report(header(sel)), nil
}

// Nodes computes the per-node visits and drop-offs of the selection.
func (s *Service) Nodes(ctx context.Context, ws string, sel Selection) (*NodeReport, error) {
	a, ssel, err := s.start(ctx, ws, sel)
	if err != nil {
		return nil, err
	}
	if err := s.Store.EachConversationFacts(ctx, ws, ssel, func(f *storage.ConversationFacts) error {
		a.add(f)
		return nil
	}); err != nil {
		return nil, err
	}
	visits, err := s.Store.ListNodeVisits(ctx, ws, ssel, MaxNodes+1)
	if err != nil {
		return nil, err
	}
	truncated := len(visits) > MaxNodes
	if truncated {
		visits = visits[:MaxNodes]
	}
	return a.nodes(header(sel), visits, truncated), nil
}

// start checks the selection and its size, and returns a fresh aggregator.
func (s *Service) start(ctx context.Context, ws string, sel Selection) (*aggregator, storage.AnalyticsSelection, error) {
	if err := sel.Period.Check(); err != nil {
		return nil, storage.AnalyticsSelection{}, err
	}
	ssel := storage.AnalyticsSelection{AssistantID: sel.AssistantID, VersionID: sel.VersionID, From: sel.Period.From, To: sel.Period.To}
	n, err := s.Store.CountAnalyticsConversations(ctx, ws, ssel)
	if err != nil {
		return nil, ssel, err
	}
	limit := s.MaxConversations
	if limit <= 0 {
		limit = DefaultMaxConversations
	}
	if n > limit {
		return nil, ssel, &TooLargeError{Conversations: n, Max: limit}
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	return newAggregator(sel.Period, now().UTC()), ssel, nil
}

func header(sel Selection) Header {
	h := Header{AssistantID: sel.AssistantID}
	if sel.VersionNumber > 0 {
		v := sel.VersionNumber
		h.Version = &v
	}
	return h
}
