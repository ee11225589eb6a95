package analytics

import (
	"fmt"
	"strings"
	"time"
)

// Period bounds, and how a period is charted.
const (
	// DefaultPeriod is the period when none is given: the last 30 UTC days,
	// today included.
	DefaultPeriod = 30 * Day
	// MaxPeriod is the longest period a report covers: 366 days.
	MaxPeriod = 366 * Day
	// MaxDailyPeriod is the longest period charted per day; longer ones
	// are charted per week, so a chart has at most 93 daily or 54 weekly
	// points.
	MaxDailyPeriod = 92 * Day
	// Day is one UTC calendar day.
	Day = 24 * time.Hour
	// Week is seven UTC calendar days; weeks start on Monday (ISO 8601).
	Week = 7 * Day
)

// Granularity is the width of a chart bucket.
type Granularity string

// The granularities.
const (
	// Daily buckets are UTC calendar days.
	Daily Granularity = "day"
	// Weekly buckets are ISO weeks, Monday 00:00 UTC to the next Monday.
	Weekly Granularity = "week"
)

// Period is a half-open interval [From, To) of time, in UTC.
type Period struct {
	From time.Time
	To   time.Time
}

// PeriodError is a bad from or to. Param names the parameter ("from" or
// "to") so the API can point at it.
type PeriodError struct {
	Param  string
	Value  string
	Reason string
}

// Error describes the fault.
func (e *PeriodError) Error() string {
	return fmt.Sprintf("analytics: %s: %s", e.Param, e.Reason)
}

// dateLayout is a bare date, read as midnight UTC at its start.
const dateLayout = "2006-01-02"

// ParsePeriod reads the from and to parameters of a report. Each is a date
// (2025-03-01, midnight UTC at its start) or an RFC 3339 timestamp
// (2025-03-01T08:00:00+01:00); the period is [from, to), so to=2025-04-01
// ends with the last moment of March.
//
// An empty to is the end of today (UTC), so today counts; an empty from is
// DefaultPeriod before to. The period must be non-empty and at most
// MaxPeriod long. Errors are *PeriodError.
func ParsePeriod(from, to string, now time.Time) (Period, error) {
	var p Period
	var err error
	if to == "" {
		p.To = startOfDay(now.UTC()).Add(Day)
	} else if p.To, err = parseTime("to", to); err != nil {
		return Period{}, err
	}
	if from == "" {
		p.From = p.To.Add(-DefaultPeriod)
	} else if p.From, err = parseTime("from", from); err != nil {
		return Period{}, err
	}
	if err := p.Check(); err != nil {
		return Period{}, err
	}
	return p, nil
}

// Check reports whether the period is non-empty and at most MaxPeriod long.
func (p Period) Check() error {
	if !p.From.Before(p.To) {
		return &PeriodError{Param: "to", Value: p.To.Format(time.RFC3339Nano),
			Reason: fmt.Sprintf("must be after from (%s): the period is [from, to)", p.From.Format(time.RFC3339Nano))}
	}
	if d := p.To.Sub(p.From); d > MaxPeriod {
		return &PeriodError{Param: "from", Value: p.From.Format(time.RFC3339Nano),
			Reason: fmt.Sprintf("the period is %s long; it may be at most %d days", days(d), MaxPeriod/Day)}
	}
	return nil
}

func parseTime(param, v string) (time.Time, error) {
	if len(v) > 64 {
		return time.Time{}, &PeriodError{Param: param, Value: v[:64], Reason: "too long for a date or a timestamp"}
	}
	if t, err := time.ParseInLocation(dateLayout, v, time.UTC); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, &PeriodError{Param: param, Value: v,
			Reason: "want a date (2025-03-01) or an RFC 3339 timestamp (2025-03-01T08:00:00Z)"}
	}
	// The database keeps microseconds; finer digits would not compare
	// the same on both dialects.
	return t.UTC().Truncate(time.Microsecond), nil
}

// days writes a duration in days, with a fraction when it is not whole.
func days(d time.Duration) string {
	if d%Day == 0 {
		return fmt.Sprintf("%d days", d/Day)
	}
	s := fmt.Sprintf("%.2f", d.Hours()/24)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + " days"
}

// Granularity is Daily for periods up to MaxDailyPeriod, Weekly beyond.
func (p Period) Granularity() Granularity {
	if p.To.Sub(p.From) > MaxDailyPeriod {
		return Weekly
	}
	return Daily
}

// Buckets returns the start of each chart bucket covering the period, in
// order: UTC midnights for Daily, Mondays at midnight UTC for Weekly. The
// first starts at or before From (a bucket is never cut), the last before
// To.
func (p Period) Buckets() []time.Time {
	g := p.Granularity()
	var out []time.Time
	for b := bucketStart(g, p.From); b.Before(p.To); b = b.Add(width(g)) {
		out = append(out, b)
	}
	return out
}

// bucket returns the index in Buckets of the bucket holding t, which must
// be in the period.
func (p Period) bucket(t time.Time) int {
	g := p.Granularity()
	return int(bucketStart(g, t).Sub(bucketStart(g, p.From)) / width(g))
}

func width(g Granularity) time.Duration {
	if g == Weekly {
		return Week
	}
	return Day
}

func bucketStart(g Granularity, t time.Time) time.Time {
	d := startOfDay(t.UTC())
	if g == Weekly {
		// time.Monday is 1; Sunday (0) goes back six days.
		back := (int(d.Weekday()) + 6) % 7
		d = d.AddDate(0, 0, -back)
	}
	return d
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}
