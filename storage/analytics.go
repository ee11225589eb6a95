package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Read-only queries for package analytics. They aggregate the event log in
// SQL, one row per selected conversation, so the database does the heavy
// lifting on either dialect and the caller streams a bounded number of rows:
// no method here loads events into memory. Medians, exact money sums and
// calendar buckets are the caller's, because the two dialects disagree on
// percentiles, decimal text and date arithmetic.
//
// Every statement spells its event types as literals rather than bound
// parameters: the partial index on conversation_started events
// (conversation_events_started_idx) is only used when the planner can see
// the literal. And every statement starts from the selected conversations
// and reaches their events and leads by conversation id, written as a
// CROSS JOIN: SQLite, which has no statistics to go by, keeps the left table
// of a CROSS JOIN outermost, and would otherwise walk every event of the
// workspace; to Postgres it is a plain inner join its planner may reorder.

// AnalyticsSelection picks the conversations analytics count: those of one
// assistant, and optionally one of its versions, whose conversation_started
// event falls in [From, To). Preview chats are never selected, whether the
// conversation or its events carry the flag.
type AnalyticsSelection struct {
	// AssistantID is required.
	AssistantID string
	// VersionID keeps one version; "" keeps them all.
	VersionID string
	// From and To bound the conversation_started event: From <= t < To.
	// Both are required.
	From time.Time
	To   time.Time
}

func (sel AnalyticsSelection) check(ws string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if err := needID("assistant id", sel.AssistantID); err != nil {
		return err
	}
	if sel.From.IsZero() || sel.To.IsZero() || !sel.From.Before(sel.To) {
		return invalidf("analytics period [%s, %s): want a non-empty period", sel.From.Format(time.RFC3339), sel.To.Format(time.RFC3339))
	}
	return nil
}

// cohort is the CTE naming the selected conversations: one row each, with
// its first conversation_started event (start_id) and when it happened.
func (sel AnalyticsSelection) cohort(ws string) (string, []any) {
	var b strings.Builder
	b.WriteString(`cohort AS (
	SELECT s.conversation_id, MIN(s.id) AS start_id, MIN(s.created_at) AS started_at
	FROM conversation_events s
	JOIN conversations c ON c.workspace_id = s.workspace_id AND c.id = s.conversation_id
	WHERE s.workspace_id = ? AND s.type = 'conversation_started' AND s.assistant_id = ?`)
	args := []any{ws, sel.AssistantID}
	if sel.VersionID != "" {
		b.WriteString(` AND s.version_id = ?`)
		args = append(args, sel.VersionID)
	}
	b.WriteString(`
	  AND s.created_at >= ? AND s.created_at < ? AND s.preview = ? AND c.preview = ?
	GROUP BY s.conversation_id
)`)
	args = append(args, utc(sel.From), utc(sel.To), false, false)
	return b.String(), args
}

// The event types the facts query sorts events into. They are the chat
// runtime's (package chat); the analytics documentation defines each
// figure in their terms.
const (
	// factClaimTypes answer a handover: an agent claims the chat from the
	// queue, takes it over, or is assigned it by someone else.
	factClaimTypes = `'agent_claimed', 'agent_took_over', 'agent_reassigned'`
	// factAgentTypes are every agent action on a conversation.
	factAgentTypes = `'agent_claimed', 'agent_took_over', 'agent_reassigned', 'agent_released', 'handed_back', 'agent_message'`
	// factEndTypes end a conversation: the bot reached an end node, or a
	// person closed it.
	factEndTypes = `'conversation_ended', 'conversation_closed'`
)

// ConversationFacts summarises one selected conversation's events (and its
// leads) for analytics. Event ids order events within a conversation:
// they increase in insertion order, and a conversation's events are written
// under its row lock, so they never interleave out of order.
type ConversationFacts struct {
	ConversationID string
	// VersionID is the version the conversation started on.
	VersionID string
	// StartedAt is its first conversation_started event's time, and
	// StartData that event's data ({is_new, page_url, locale}).
	StartedAt time.Time
	StartData JSON
	// VisitorMessages counts visitor_message events.
	VisitorMessages int64
	// HandoverEventID and HandoverAt are the first handover_requested
	// event; zero when there is none.
	HandoverEventID int64
	HandoverAt      time.Time
	// ClaimEventID and ClaimAt are the first agent_claimed, agent_took_over
	// or agent_reassigned event after the first handover request; zero when
	// there is none.
	ClaimEventID int64
	ClaimAt      time.Time
	// TimeoutEventID is the first handover_timed_out event after the first
	// handover request; zero when there is none.
	TimeoutEventID int64
	// AgentMessageAt is the first agent_message after the first handover
	// request; zero when there is none.
	AgentMessageAt time.Time
	// AgentEvents counts every agent action (claimed, took over, reassigned,
	// released, handed back, agent message).
	AgentEvents int64
	// Ends counts conversation_ended and conversation_closed events.
	Ends int64
	// Captures counts lead_captured events (the bot's offline captures).
	Captures int64
	// Leads and Deals count the rows of the leads table that name the
	// conversation, by kind, whoever created them; FirstLeadAt is the
	// earliest one's created_at (zero when there is none).
	Leads       int64
	Deals       int64
	FirstLeadAt time.Time
	// LastNodeEventID is the last node_entered event (zero when there is
	// none) and LastNode its node id.
	LastNodeEventID int64
	LastNode        string
	// LastActivityEventID is the last visitor_message or agent action.
	LastActivityEventID int64
	// LastEventAt is the time of the conversation's newest event.
	LastEventAt time.Time
}

// CountAnalyticsConversations returns how many conversations sel selects,
// so a caller can refuse a selection too large to report on before it
// aggregates it.
func (s *Store) CountAnalyticsConversations(ctx context.Context, ws string, sel AnalyticsSelection) (int64, error) {
	if err := sel.check(ws); err != nil {
		return 0, err
	}
	q, args := sel.countQuery(ws)
	var n int64
	if err := s.conn(ctx).Raw(q, args...).Row().Scan(&n); err != nil {
		return 0, wrap("count analytics conversations", err)
	}
	return n, nil
}

// EachConversationFacts calls fn with the facts of every conversation sel
// selects, in no particular order, streaming the rows: memory does not grow
// with the selection. fn must not keep f, which is reused. An error from fn
// stops the iteration and is returned as is.
func (s *Store) EachConversationFacts(ctx context.Context, ws string, sel AnalyticsSelection, fn func(f *ConversationFacts) error) error {
	if err := sel.check(ws); err != nil {
		return err
	}
	q, args := sel.factsQuery(ws)
	rows, err := s.conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return wrap("analytics facts", err)
	}
	defer rows.Close()
	var (
		f                                                                        ConversationFacts
		version, node                                                            sql.NullString
		data                                                                     JSON
		hID, claimID, timeoutID, leads, deals, lastNodeID, lastActivityID        sql.NullInt64
		startedAt, handoverAt, claimAt, agentMessageAt, firstLeadAt, lastEventAt anyTime
		visitorMessages, agentEvents, ends, captures                             int64
	)
	for rows.Next() {
		err := rows.Scan(&f.ConversationID, &version, &startedAt, &data,
			&visitorMessages, &hID, &handoverAt, &claimID, &claimAt, &timeoutID, &agentMessageAt,
			&agentEvents, &ends, &captures,
			&leads, &deals, &firstLeadAt,
			&lastNodeID, &node, &lastActivityID, &lastEventAt)
		if err != nil {
			return wrap("analytics facts", err)
		}
		f = ConversationFacts{
			ConversationID: f.ConversationID, VersionID: version.String,
			StartedAt: startedAt.t, StartData: data,
			VisitorMessages: visitorMessages,
			HandoverEventID: hID.Int64, HandoverAt: handoverAt.t,
			ClaimEventID: claimID.Int64, ClaimAt: claimAt.t,
			TimeoutEventID: timeoutID.Int64, AgentMessageAt: agentMessageAt.t,
			AgentEvents: agentEvents, Ends: ends, Captures: captures,
			Leads: leads.Int64, Deals: deals.Int64, FirstLeadAt: firstLeadAt.t,
			LastNodeEventID: lastNodeID.Int64, LastNode: node.String,
			LastActivityEventID: lastActivityID.Int64, LastEventAt: lastEventAt.t,
		}
		if err := fn(&f); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("analytics facts", err)
	}
	return nil
}

// factsQuery is EachConversationFacts' statement: the cohort, its first
// handover requests, its leads per conversation, then one pass over the
// cohort's events (by the conversation index) with conditional aggregates.
func (sel AnalyticsSelection) factsQuery(ws string) (string, []any) {
	cte, args := sel.cohort(ws)
	q := `WITH ` + cte + `,
first_handover AS (
	SELECT e.conversation_id, MIN(e.id) AS h_id
	FROM cohort k CROSS JOIN conversation_events e
	WHERE e.workspace_id = ? AND e.conversation_id = k.conversation_id AND e.type = 'handover_requested' AND e.preview = ?
	GROUP BY e.conversation_id
),
lead_agg AS (
	SELECT l.conversation_id,
		COUNT(CASE WHEN l.kind = 'lead' THEN 1 END) AS leads,
		COUNT(CASE WHEN l.kind = 'deal' THEN 1 END) AS deals,
		MIN(l.created_at) AS first_lead_at
	FROM cohort k CROSS JOIN leads l
	WHERE l.conversation_id = k.conversation_id AND l.workspace_id = ?
	GROUP BY l.conversation_id
),
facts AS (
	SELECT k.conversation_id, k.start_id, k.started_at, h.h_id,
		COUNT(CASE WHEN e.type = 'visitor_message' THEN 1 END) AS visitor_messages,
		MIN(CASE WHEN e.type = 'handover_requested' THEN e.created_at END) AS handover_at,
		MIN(CASE WHEN e.type IN (` + factClaimTypes + `) AND e.id > h.h_id THEN e.id END) AS claim_id,
		MIN(CASE WHEN e.type IN (` + factClaimTypes + `) AND e.id > h.h_id THEN e.created_at END) AS claim_at,
		MIN(CASE WHEN e.type = 'handover_timed_out' AND e.id > h.h_id THEN e.id END) AS timeout_id,
		MIN(CASE WHEN e.type = 'agent_message' AND e.id > h.h_id THEN e.created_at END) AS agent_message_at,
		COUNT(CASE WHEN e.type IN (` + factAgentTypes + `) THEN 1 END) AS agent_events,
		COUNT(CASE WHEN e.type IN (` + factEndTypes + `) THEN 1 END) AS ends,
		COUNT(CASE WHEN e.type = 'lead_captured' THEN 1 END) AS captures,
		MAX(CASE WHEN e.type = 'node_entered' THEN e.id END) AS last_node_id,
		MAX(CASE WHEN e.type = 'visitor_message' OR e.type IN (` + factAgentTypes + `) THEN e.id END) AS last_activity_id,
		MAX(e.created_at) AS last_event_at
	FROM cohort k
	CROSS JOIN conversation_events e
	LEFT JOIN first_handover h ON h.conversation_id = k.conversation_id
	WHERE e.workspace_id = ? AND e.conversation_id = k.conversation_id AND e.preview = ?
	GROUP BY k.conversation_id, k.start_id, k.started_at, h.h_id
)
SELECT f.conversation_id, st.version_id, f.started_at, st.data,
	f.visitor_messages, f.h_id, f.handover_at, f.claim_id, f.claim_at, f.timeout_id, f.agent_message_at,
	f.agent_events, f.ends, f.captures,
	la.leads, la.deals, la.first_lead_at,
	f.last_node_id, n.node_id, f.last_activity_id, f.last_event_at
FROM facts f
JOIN conversation_events st ON st.id = f.start_id
LEFT JOIN conversation_events n ON n.id = f.last_node_id
LEFT JOIN lead_agg la ON la.conversation_id = f.conversation_id`
	return q, append(args, ws, false, ws, ws, false)
}

// EachDealValue calls fn with the currency and exact value of every deal
// (a lead of kind deal with a value) of the conversations sel selects,
// streaming the rows. Values are read as decimal text and never pass
// through a float.
func (s *Store) EachDealValue(ctx context.Context, ws string, sel AnalyticsSelection, fn func(currency string, value decimal.Decimal) error) error {
	if err := sel.check(ws); err != nil {
		return err
	}
	q, args := sel.dealValuesQuery(ws)
	rows, err := s.conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return wrap("analytics deal values", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			currency string
			value    decimal.NullDecimal
		)
		if err := rows.Scan(&currency, &value); err != nil {
			return wrap("analytics deal values", err)
		}
		if !value.Valid {
			continue
		}
		if err := fn(currency, value.Decimal); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("analytics deal values", err)
	}
	return nil
}

// NodeVisits counts the node_entered events of one node in the selected
// conversations.
type NodeVisits struct {
	NodeID string
	// Visits counts every entry, repeated ones included.
	Visits int64
	// Conversations counts the conversations that entered it at least once.
	Conversations int64
}

// ListNodeVisits returns the node_entered counts per node of the
// conversations sel selects, ordered by node id. It returns at most limit
// nodes; a limit of zero or less, or above MaxNodeVisitRows, means
// MaxNodeVisitRows. Ask for one more than you show to learn whether the list
// was cut.
func (s *Store) ListNodeVisits(ctx context.Context, ws string, sel AnalyticsSelection, limit int) ([]NodeVisits, error) {
	if err := sel.check(ws); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > MaxNodeVisitRows {
		limit = MaxNodeVisitRows
	}
	q, args := sel.nodeVisitsQuery(ws, limit)
	rows, err := s.conn(ctx).Raw(q, args...).Rows()
	if err != nil {
		return nil, wrap("analytics node visits", err)
	}
	defer rows.Close()
	var out []NodeVisits
	for rows.Next() {
		var v NodeVisits
		if err := rows.Scan(&v.NodeID, &v.Visits, &v.Conversations); err != nil {
			return nil, wrap("analytics node visits", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("analytics node visits", err)
	}
	return out, nil
}

// countQuery is CountAnalyticsConversations' statement.
func (sel AnalyticsSelection) countQuery(ws string) (string, []any) {
	cte, args := sel.cohort(ws)
	return `WITH ` + cte + ` SELECT COUNT(*) FROM cohort`, args
}

// dealValuesQuery is EachDealValue's statement.
func (sel AnalyticsSelection) dealValuesQuery(ws string) (string, []any) {
	cte, args := sel.cohort(ws)
	return `WITH ` + cte + `
SELECT l.currency, l.value
FROM cohort k CROSS JOIN leads l
WHERE l.conversation_id = k.conversation_id AND l.workspace_id = ? AND l.kind = 'deal' AND l.value IS NOT NULL`, append(args, ws)
}

// nodeVisitsQuery is ListNodeVisits' statement.
func (sel AnalyticsSelection) nodeVisitsQuery(ws string, limit int) (string, []any) {
	cte, args := sel.cohort(ws)
	return `WITH ` + cte + `
SELECT e.node_id, COUNT(*) AS visits, COUNT(DISTINCT e.conversation_id) AS conversations
FROM cohort k CROSS JOIN conversation_events e
WHERE e.workspace_id = ? AND e.conversation_id = k.conversation_id AND e.type = 'node_entered' AND e.preview = ? AND e.node_id IS NOT NULL
GROUP BY e.node_id
ORDER BY e.node_id
LIMIT ?`, append(args, ws, false, limit)
}

// MaxNodeVisitRows bounds ListNodeVisits: many versions of a graph at the
// engine's node limit.
const MaxNodeVisitRows = 100_000

// anyTime scans a timestamp that may come back as a time.Time (Postgres, and
// SQLite columns declared DATETIME) or as text (SQLite aggregates such as
// MIN(created_at), which lose the column's declared type). NULL is the zero
// time.
type anyTime struct{ t time.Time }

// sqliteTimeLayouts are the text forms the SQLite driver writes (the first)
// and reads.
var sqliteTimeLayouts = []string{
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02T15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339Nano,
}

// Scan implements sql.Scanner.
func (a *anyTime) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		a.t = time.Time{}
		return nil
	case time.Time:
		a.t = v.UTC()
		return nil
	case string:
		return a.parse(v)
	case []byte:
		return a.parse(string(v))
	}
	return fmt.Errorf("storage: cannot scan %T into a time", src)
}

func (a *anyTime) parse(s string) error {
	s = strings.TrimSuffix(s, "Z")
	for _, layout := range sqliteTimeLayouts {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			a.t = t.UTC()
			return nil
		}
	}
	return fmt.Errorf("storage: cannot parse time %q", s)
}
