package analytics

import "time"

// Thresholds of the figures. docs/analytics.md explains each.
const (
	// MinConversations is how many conversations a selection needs before
	// its figures mean much; below it a report sets NotEnoughData (and
	// still carries every figure).
	MinConversations = 15
	// ConversionWindow is how soon after its start a conversation must
	// produce a lead or deal to count as converted within the first hour.
	ConversionWindow = time.Hour
	// AbandonAfter is how long a conversation must have been silent (no
	// event at all) before it can count as a drop-off: a chat still in
	// progress has not been abandoned.
	AbandonAfter = 30 * time.Minute
	// MaxNodes bounds the nodes a NodeReport lists.
	MaxNodes = 10_000
)

// Header says what a report covers. It is shared by Report and NodeReport.
type Header struct {
	AssistantID string `json:"assistant_id" doc:"The assistant reported on."`
	// Version is the version number, or nil for all versions.
	Version *int      `json:"version" nullable:"true" doc:"The version number reported on, or null for every version of the assistant."`
	From    time.Time `json:"from" doc:"The period's start (inclusive), UTC."`
	To      time.Time `json:"to" doc:"The period's end (exclusive), UTC."`
	// Conversations counts the selected conversations.
	Conversations int64 `json:"conversations" doc:"Conversations started in the period (preview chats excluded)."`
	// NotEnoughData is set when Conversations < MinConversations; Message
	// then says so in words. The figures are still given.
	NotEnoughData    bool   `json:"not_enough_data" doc:"True when fewer than min_conversations conversations are selected; the figures are still given."`
	Message          string `json:"message,omitempty" doc:"Why the figures may mislead, when not_enough_data is true."`
	MinConversations int    `json:"min_conversations" doc:"The number of conversations below which not_enough_data is set."`
}

// Share is a count out of a whole.
type Share struct {
	Count int64 `json:"count" doc:"How many."`
	Of    int64 `json:"of" doc:"Out of how many (the denominator)."`
	// Rate is Count/Of, nil when Of is 0.
	Rate *float64 `json:"rate" nullable:"true" doc:"count / of, between 0 and 1; null when of is 0."`
}

func share(count, of int64) Share {
	s := Share{Count: count, Of: of}
	if of > 0 {
		r := float64(count) / float64(of)
		s.Rate = &r
	}
	return s
}

// DealValue is the value of the deals in one currency. Amounts are exact
// decimal strings: currencies are never mixed and never pass through a
// float.
type DealValue struct {
	Currency string `json:"currency" doc:"The currency as the deals state it; empty when they state none."`
	Total    string `json:"total" doc:"The sum of the deals' values, an exact decimal string."`
	Count    int64  `json:"count" doc:"The deals with a value in this currency."`
	Average  string `json:"average" doc:"total / count, rounded half away from zero to 4 decimal places."`
}

// Report holds every figure of a selection. docs/analytics.md defines each.
type Report struct {
	Header
	Engaged       Share `json:"engaged" doc:"Conversations where the visitor sent at least one message, of all conversations."`
	ResolvedByBot Share `json:"resolved_by_bot" doc:"Conversations ended or closed with no handover request and no agent action, of all conversations."`
	HandedOver    Share `json:"handed_over" doc:"Conversations with at least one handover request, of all conversations."`
	Claimed       Share `json:"claimed" doc:"Handed-over conversations an agent claimed, took over or was assigned after the first handover request, at any time; of handed-over conversations."`
	ClaimedInTime Share `json:"claimed_in_time" doc:"Handed-over conversations claimed before the first handover's wait timed out, of handed-over conversations."`
	// MedianTimeToClaimSeconds is nil when nothing was claimed.
	MedianTimeToClaimSeconds *float64 `json:"median_time_to_claim_seconds" nullable:"true" doc:"Median seconds from the first handover request to the first claim after it, over the claimed conversations; null when none."`
	Responded                Share    `json:"responded" doc:"The response rate: handed-over conversations where an agent sent a message after the first handover request, of handed-over conversations."`
	// MedianFirstResponseSeconds is nil when no agent responded.
	MedianFirstResponseSeconds *float64    `json:"median_first_response_seconds" nullable:"true" doc:"Median seconds from the first handover request to the first agent message after it, over the responded conversations; null when none."`
	OfflineCaptures            int64       `json:"offline_captures" doc:"lead_captured events: leads and deals the bot captured."`
	Leads                      int64       `json:"leads" doc:"Leads (kind lead) created from the conversations, by the bot or by agents."`
	Deals                      int64       `json:"deals" doc:"Deals (kind deal) created from the conversations, by the bot or by agents."`
	DealValue                  []DealValue `json:"deal_value" doc:"The deals' value per currency, by currency code."`
	ConvertedWithinHour        Share       `json:"converted_within_hour" doc:"Conversations with a lead or deal created at most one hour after the conversation started, of all conversations."`
	NewVisitors                Share       `json:"new_visitors" doc:"Conversations started by a new visitor, of all conversations."`
	Series                     Series      `json:"series" doc:"Counts per day or week, for charts."`
}

// Series is a report's counts per calendar bucket.
type Series struct {
	Granularity Granularity   `json:"granularity" enum:"day,week" doc:"day: UTC days; week: ISO weeks starting on Monday 00:00 UTC."`
	Points      []SeriesPoint `json:"points" doc:"Every bucket of the period in order, empty ones included."`
}

// SeriesPoint is one bucket. A conversation counts in the bucket of its
// start, and so do its leads and deals: the points add up to the report's
// totals.
type SeriesPoint struct {
	Start         time.Time `json:"start" doc:"The bucket's start: a UTC midnight, a Monday for weeks. The first bucket may start before the period."`
	Conversations int64     `json:"conversations"`
	Engaged       int64     `json:"engaged"`
	HandedOver    int64     `json:"handed_over"`
	Leads         int64     `json:"leads" doc:"Leads from the conversations started in the bucket."`
	Deals         int64     `json:"deals" doc:"Deals from the conversations started in the bucket."`
}

// NodeReport is the per-node view of a selection, drawn on the builder's
// canvas.
type NodeReport struct {
	Header
	AbandonAfterSeconds int64 `json:"abandon_after_seconds" doc:"How long a conversation must have been silent to count as a drop-off."`
	// DropOffs counts the abandoned conversations, over every node.
	DropOffs int64      `json:"drop_offs" doc:"Abandoned conversations, over all nodes."`
	Nodes    []NodeStat `json:"nodes" doc:"Every node entered in the selected conversations, by node id. Nodes never entered are absent."`
	// Truncated is set when there were more than MaxNodes nodes.
	Truncated bool `json:"truncated" doc:"True when more nodes were entered than the report lists."`
}

// NodeStat is one node's visits and drop-off.
type NodeStat struct {
	NodeID        string `json:"node_id"`
	Visits        int64  `json:"visits" doc:"node_entered events: every entry, repeated ones included."`
	Conversations int64  `json:"conversations" doc:"Conversations that entered the node at least once."`
	DropOffs      int64  `json:"drop_offs" doc:"Conversations abandoned at this node (see docs/analytics.md)."`
	// DropOffRate is DropOffs/Conversations.
	DropOffRate *float64 `json:"drop_off_rate" nullable:"true" doc:"drop_offs / conversations; null when conversations is 0."`
}
