package analytics_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/analytics"
)

func TestParsePeriod(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 4, 10, 15, 4, 5, 0, time.UTC)
	d := func(y int, m time.Month, day int) time.Time { return time.Date(y, m, day, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name, from, to string
		want           analytics.Period
		param, reason  string // the *PeriodError, when one is wanted
	}{
		{name: "defaults: the last 30 days, today included", want: analytics.Period{From: d(2025, 3, 12), To: d(2025, 4, 11)}},
		{name: "from alone runs to the end of today", from: "2025-04-01", want: analytics.Period{From: d(2025, 4, 1), To: d(2025, 4, 11)}},
		{name: "to alone goes back 30 days", to: "2025-03-31", want: analytics.Period{From: d(2025, 3, 1), To: d(2025, 3, 31)}},
		{name: "dates", from: "2025-02-01", to: "2025-03-01", want: analytics.Period{From: d(2025, 2, 1), To: d(2025, 3, 1)}},
		{name: "timestamps in UTC", from: "2025-03-01T08:00:00+01:00", to: "2025-03-02T00:00:00.1234567Z",
			want: analytics.Period{From: time.Date(2025, 3, 1, 7, 0, 0, 0, time.UTC), To: time.Date(2025, 3, 2, 0, 0, 0, 123456000, time.UTC)}},
		{name: "366 days", from: "2024-01-01", to: "2025-01-01", want: analytics.Period{From: d(2024, 1, 1), To: d(2025, 1, 1)}},

		{name: "not a date", from: "yesterday", param: "from", reason: "want a date (2025-03-01) or an RFC 3339 timestamp (2025-03-01T08:00:00Z)"},
		{name: "no such month", to: "2025-13-01", param: "to", reason: "want a date"},
		{name: "too long a value", from: strings.Repeat("9", 100), param: "from", reason: "too long"},
		{name: "empty period", from: "2025-03-01", to: "2025-03-01", param: "to", reason: "must be after from (2025-03-01T00:00:00Z): the period is [from, to)"},
		{name: "backwards", from: "2025-03-02", to: "2025-03-01", param: "to", reason: "must be after from"},
		{name: "367 days", from: "2024-01-01", to: "2025-01-02", param: "from", reason: "the period is 367 days long; it may be at most 366 days"},
		{name: "from long ago, to by default", from: "2020-01-01", param: "from", reason: "it may be at most 366 days"},
		{name: "a fraction of a day too long", from: "2024-01-01", to: "2025-01-01T12:00:00Z", param: "from", reason: "the period is 366.5 days long"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := analytics.ParsePeriod(c.from, c.to, now)
			if c.param == "" {
				require.NoError(t, err)
				require.Equal(t, c.want, got)
				return
			}
			var pe *analytics.PeriodError
			require.True(t, errors.As(err, &pe), "got %v", err)
			require.Equal(t, c.param, pe.Param)
			require.Contains(t, pe.Reason, c.reason)
			require.Zero(t, got)
		})
	}
}

func TestBuckets(t *testing.T) {
	t.Parallel()
	at := func(m time.Month, day, h int) time.Time { return time.Date(2025, m, day, h, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		name  string
		p     analytics.Period
		g     analytics.Granularity
		first time.Time
		n     int
	}{
		{"a day", analytics.Period{From: at(3, 1, 0), To: at(3, 2, 0)}, analytics.Daily, at(3, 1, 0), 1},
		{"days cut at noon keep whole buckets", analytics.Period{From: at(3, 1, 12), To: at(3, 3, 12)}, analytics.Daily, at(3, 1, 0), 3},
		{"92 days are daily", analytics.Period{From: at(1, 1, 0), To: at(1, 1, 0).Add(analytics.MaxDailyPeriod)}, analytics.Daily, at(1, 1, 0), 92},
		{"beyond 92 days, ISO weeks", analytics.Period{From: at(1, 1, 0), To: at(1, 1, 0).Add(analytics.MaxDailyPeriod + time.Microsecond)}, analytics.Weekly, time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC), 14},
		{"a year from a Sunday", analytics.Period{From: at(3, 2, 0), To: at(3, 2, 0).Add(analytics.MaxPeriod)}, analytics.Weekly, at(2, 24, 0), 54},
	} {
		t.Run(c.name, func(t *testing.T) {
			require.Equal(t, c.g, c.p.Granularity())
			b := c.p.Buckets()
			require.Len(t, b, c.n)
			require.Equal(t, c.first, b[0])
			require.True(t, b[len(b)-1].Before(c.p.To))
			for i := 1; i < len(b); i++ {
				require.Equal(t, c.p.Granularity() == analytics.Weekly, b[i].Sub(b[i-1]) == analytics.Week)
			}
		})
	}
}

func ExampleParsePeriod() {
	now := time.Date(2025, 4, 10, 15, 4, 5, 0, time.UTC)
	p, _ := analytics.ParsePeriod("", "", now)
	fmt.Println(p.From, "to", p.To, p.Granularity())
	p, _ = analytics.ParsePeriod("2025-01-01", "2025-07-01", now)
	fmt.Println(p.Granularity(), len(p.Buckets()), "buckets from", p.Buckets()[0].Format("Mon 2006-01-02"))
	_, err := analytics.ParsePeriod("2025-03-01", "2025-02-01", now)
	fmt.Println(err)
	// Output:
	// 2025-03-12 00:00:00 +0000 UTC to 2025-04-11 00:00:00 +0000 UTC day
	// week 27 buckets from Mon 2024-12-30
	// analytics: to: must be after from (2025-03-01T00:00:00Z): the period is [from, to)
}
