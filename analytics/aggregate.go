package analytics

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"

	"github.com/frontdesk/frontdesk/storage"
)

// The aggregator is the pure half of a report: it folds per-conversation
// facts and deal values into figures, with no IO and no clock (now comes in
// as a value). Each predicate below is one definition of docs/analytics.md.

// Engaged: the visitor sent at least one message.
func Engaged(f *storage.ConversationFacts) bool { return f.VisitorMessages > 0 }

// HandedOver: at least one handover was requested.
func HandedOver(f *storage.ConversationFacts) bool { return f.HandoverEventID > 0 }

// ResolvedByBot: the conversation ended (an end node) or was closed, with
// no handover request and no agent action at all.
func ResolvedByBot(f *storage.ConversationFacts) bool {
	return f.Ends > 0 && !HandedOver(f) && f.AgentEvents == 0
}

// Claimed: after the first handover request an agent claimed the chat, took
// it over or was assigned it, at any time.
func Claimed(f *storage.ConversationFacts) bool { return f.ClaimEventID > 0 }

// ClaimedInTime: claimed before the first handover request's wait timed
// out, that is with no handover_timed_out between the request and the
// claim.
func ClaimedInTime(f *storage.ConversationFacts) bool {
	return Claimed(f) && (f.TimeoutEventID == 0 || f.TimeoutEventID > f.ClaimEventID)
}

// Responded: an agent sent a message after the first handover request.
func Responded(f *storage.ConversationFacts) bool { return !f.AgentMessageAt.IsZero() }

// ConvertedWithinHour: a lead or deal was created from the conversation at
// most ConversionWindow after it started.
func ConvertedWithinHour(f *storage.ConversationFacts) bool {
	return f.Leads+f.Deals > 0 && !f.FirstLeadAt.IsZero() && f.FirstLeadAt.Sub(f.StartedAt) <= ConversionWindow
}

// NewVisitor: the conversation_started event says is_new.
func NewVisitor(f *storage.ConversationFacts) bool {
	var d struct {
		IsNew bool `json:"is_new"`
	}
	return json.Unmarshal(f.StartData, &d) == nil && d.IsNew
}

// Abandoned reports whether the conversation was abandoned at its last
// node, as of now: it entered a node, then neither the visitor nor an agent
// did anything, it did not end and was not closed, and it has been silent
// for AbandonAfter.
func Abandoned(f *storage.ConversationFacts, now time.Time) bool {
	return f.LastNodeEventID > 0 && f.LastActivityEventID < f.LastNodeEventID &&
		f.Ends == 0 && now.Sub(f.LastEventAt) >= AbandonAfter
}

// aggregator folds facts into a Report and a NodeReport.
type aggregator struct {
	period Period
	now    time.Time

	conversations, engaged, resolved, handedOver, claimed, claimedInTime int64
	responded, captures, leads, deals, converted, newVisitors            int64

	// toClaim and toRespond are seconds, for the medians.
	toClaim, toRespond []float64
	points             []SeriesPoint
	money              map[string]*money
	dropOffs           map[string]int64
	dropTotal          int64
}

type money struct {
	total decimal.Decimal
	count int64
}

func newAggregator(p Period, now time.Time) *aggregator {
	a := &aggregator{period: p, now: now, money: map[string]*money{}, dropOffs: map[string]int64{}}
	for _, b := range p.Buckets() {
		a.points = append(a.points, SeriesPoint{Start: b})
	}
	return a
}

// add counts one conversation.
func (a *aggregator) add(f *storage.ConversationFacts) {
	a.conversations++
	pt := &SeriesPoint{} // a start outside the period is counted, not charted
	if i := a.period.bucket(f.StartedAt); !f.StartedAt.Before(a.period.From) && i >= 0 && i < len(a.points) {
		pt = &a.points[i]
	}
	pt.Conversations++
	if Engaged(f) {
		a.engaged++
		pt.Engaged++
	}
	if ResolvedByBot(f) {
		a.resolved++
	}
	if HandedOver(f) {
		a.handedOver++
		pt.HandedOver++
	}
	if Claimed(f) {
		a.claimed++
		a.toClaim = append(a.toClaim, seconds(f.ClaimAt.Sub(f.HandoverAt)))
	}
	if ClaimedInTime(f) {
		a.claimedInTime++
	}
	if Responded(f) {
		a.responded++
		a.toRespond = append(a.toRespond, seconds(f.AgentMessageAt.Sub(f.HandoverAt)))
	}
	a.captures += f.Captures
	a.leads += f.Leads
	a.deals += f.Deals
	pt.Leads += f.Leads
	pt.Deals += f.Deals
	if ConvertedWithinHour(f) {
		a.converted++
	}
	if NewVisitor(f) {
		a.newVisitors++
	}
	if Abandoned(f, a.now) {
		a.dropOffs[f.LastNode]++
		a.dropTotal++
	}
}

// addDeal adds one deal's value to its currency's total.
func (a *aggregator) addDeal(currency string, v decimal.Decimal) {
	m := a.money[currency]
	if m == nil {
		m = &money{total: decimal.Zero}
		a.money[currency] = m
	}
	m.total = m.total.Add(v)
	m.count++
}

// header fills the fields every report shares.
func (a *aggregator) header(h Header) Header {
	h.From, h.To = a.period.From, a.period.To
	h.Conversations = a.conversations
	h.MinConversations = MinConversations
	if a.conversations < MinConversations {
		h.NotEnoughData = true
		h.Message = fmt.Sprintf("Not enough data: %d conversations in this selection, and figures mean little below %d. They are shown as they are.",
			a.conversations, MinConversations)
	}
	return h
}

func (a *aggregator) report(h Header) *Report {
	r := &Report{
		Header:                     a.header(h),
		Engaged:                    share(a.engaged, a.conversations),
		ResolvedByBot:              share(a.resolved, a.conversations),
		HandedOver:                 share(a.handedOver, a.conversations),
		Claimed:                    share(a.claimed, a.handedOver),
		ClaimedInTime:              share(a.claimedInTime, a.handedOver),
		MedianTimeToClaimSeconds:   median(a.toClaim),
		Responded:                  share(a.responded, a.handedOver),
		MedianFirstResponseSeconds: median(a.toRespond),
		OfflineCaptures:            a.captures,
		Leads:                      a.leads,
		Deals:                      a.deals,
		DealValue:                  []DealValue{},
		ConvertedWithinHour:        share(a.converted, a.conversations),
		NewVisitors:                share(a.newVisitors, a.conversations),
		Series:                     Series{Granularity: a.period.Granularity(), Points: a.points},
	}
	for _, c := range sortedKeys(a.money) {
		m := a.money[c]
		r.DealValue = append(r.DealValue, DealValue{
			Currency: c, Total: m.total.String(), Count: m.count,
			Average: m.total.DivRound(decimal.NewFromInt(m.count), averageScale).String(),
		})
	}
	if r.Series.Points == nil {
		r.Series.Points = []SeriesPoint{}
	}
	return r
}

// averageScale is the decimal places of an average: those a value is
// stored with (storage.MaxValueScale).
const averageScale = storage.MaxValueScale

func (a *aggregator) nodes(h Header, visits []storage.NodeVisits, truncated bool) *NodeReport {
	r := &NodeReport{
		Header:              a.header(h),
		AbandonAfterSeconds: int64(AbandonAfter / time.Second),
		DropOffs:            a.dropTotal,
		Nodes:               make([]NodeStat, 0, len(visits)),
		Truncated:           truncated,
	}
	for _, v := range visits {
		n := NodeStat{NodeID: v.NodeID, Visits: v.Visits, Conversations: v.Conversations, DropOffs: a.dropOffs[v.NodeID]}
		n.DropOffRate = share(n.DropOffs, n.Conversations).Rate
		r.Nodes = append(r.Nodes, n)
	}
	return r
}

// seconds is d in seconds; a negative d (clock skew between nodes) is 0.
func seconds(d time.Duration) float64 {
	return max(d, 0).Seconds()
}

// median is the middle value, or the mean of the two middle values; nil
// for no values. It sorts xs.
func median(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	slices.Sort(xs)
	m := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		m = (xs[len(xs)/2-1] + m) / 2
	}
	return &m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
