// Package analytics reports how an assistant's conversations went: how
// many started, engaged, were resolved by the bot or handed over, how fast
// agents claimed and answered them, what leads and deals they brought (money
// summed exactly, per currency), and where on the graph visitors left.
//
// The figures come from the append-only conversation event log and the
// leads table, never from mutable conversation state, so a report for a past
// period is reproduced by the same events. A report covers a cohort: the
// conversations whose conversation_started event falls in the period, with
// everything that happened in them, even after the period ends.
// docs/analytics.md defines every figure.
//
// The work is bounded: the period is at most MaxPeriod, the database
// aggregates each conversation's events in SQL (storage's
// EachConversationFacts) and streams one row per conversation, and a
// selection of more than Service.MaxConversations is refused with a
// *TooLargeError before any aggregation runs. What is kept in memory grows
// only with the number of calendar buckets, currencies and graph nodes, and
// with one duration per handed-over conversation for the medians.
package analytics
