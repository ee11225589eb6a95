package chat

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AssistantSettings are an assistant's runtime settings, kept as JSON in
// the assistant's settings document.
type AssistantSettings struct {
	Availability Availability `json:"availability"`
	// Audience is "everyone" (the default) or "new_only": returning
	// visitors go straight to the agents' queue.
	Audience string `json:"audience,omitempty" enum:"everyone,new_only"`
	// FollowUp is sent to a visitor waiting for a human who got no answer.
	FollowUp FollowUp `json:"follow_up"`
}

// FollowUp is the message a visitor gets when their chat waits for a human
// (in the queue, or with an agent who has not answered) for AfterSeconds
// after their last message.
type FollowUp struct {
	Enabled bool `json:"enabled"`
	// AfterSeconds defaults to 300; 30 to 86,400.
	AfterSeconds int `json:"after_seconds,omitempty" minimum:"0" maximum:"86400"`
	// Text is per language; defaults to a built-in text.
	Text map[string]string `json:"text,omitempty" maxProperties:"20"`
}

// DefaultFollowUpSeconds is FollowUp.AfterSeconds when unset.
const DefaultFollowUpSeconds = 300

// Audiences.
const (
	AudienceEveryone = "everyone"
	AudienceNewOnly  = "new_only"
)

// Availability says when the assistant talks to visitors.
type Availability struct {
	// Mode is "always" (the default), "when_offline" (only while no agent
	// is online) or "schedule" (inside the weekly windows).
	Mode string `json:"mode,omitempty" enum:"always,when_offline,schedule"`
	// TimeZone is an IANA zone such as Europe/Paris; defaults to UTC.
	TimeZone string `json:"time_zone,omitempty" maxLength:"64"`
	// Schedule holds weekly windows; it also defines business_hours for
	// conditions, whatever the mode.
	Schedule []Window `json:"schedule,omitempty" maxItems:"50"`
}

// Availability modes.
const (
	AvailabilityAlways      = "always"
	AvailabilityWhenOffline = "when_offline"
	AvailabilitySchedule    = "schedule"
)

// Window is one weekly opening window in the assistant's time zone, from
// Start to End ("09:00" to "18:00"); End after Start.
type Window struct {
	Day   string `json:"day" enum:"mon,tue,wed,thu,fri,sat,sun"`
	Start string `json:"start" pattern:"^([01][0-9]|2[0-3]):[0-5][0-9]$"`
	End   string `json:"end" pattern:"^([01][0-9]|2[0-4]):[0-5][0-9]$"`
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// SettingsError names the faulty field of a settings document.
type SettingsError struct {
	Field, Message string
}

func (e *SettingsError) Error() string { return e.Field + ": " + e.Message }

// ParseSettings reads a settings document; an empty one gives the
// defaults. It checks every field and names the first faulty one.
func ParseSettings(raw []byte) (AssistantSettings, error) {
	var s AssistantSettings
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &s); err != nil {
			return s, &SettingsError{Field: "settings", Message: "not a settings document: " + err.Error()}
		}
	}
	return s, s.Validate()
}

// Validate checks every field and names the first faulty one.
func (s AssistantSettings) Validate() error {
	switch s.Audience {
	case "", AudienceEveryone, AudienceNewOnly:
	default:
		return &SettingsError{Field: "audience", Message: "want everyone or new_only"}
	}
	if f := s.FollowUp; f.AfterSeconds != 0 && (f.AfterSeconds < 30 || f.AfterSeconds > 86_400) {
		return &SettingsError{Field: "follow_up.after_seconds", Message: "want 30 to 86400 seconds"}
	}
	for lang, t := range s.FollowUp.Text {
		if len(t) > 2000 || len(lang) > 16 {
			return &SettingsError{Field: "follow_up.text." + lang, Message: "at most 2000 bytes"}
		}
	}
	a := s.Availability
	switch a.Mode {
	case "", AvailabilityAlways, AvailabilityWhenOffline, AvailabilitySchedule:
	default:
		return &SettingsError{Field: "availability.mode", Message: "want always, when_offline or schedule"}
	}
	if a.TimeZone != "" {
		if _, err := time.LoadLocation(a.TimeZone); err != nil || len(a.TimeZone) > 64 {
			return &SettingsError{Field: "availability.time_zone", Message: fmt.Sprintf("%q is not an IANA time zone such as Europe/Paris", a.TimeZone)}
		}
	}
	if len(a.Schedule) > 50 {
		return &SettingsError{Field: "availability.schedule", Message: "at most 50 windows"}
	}
	for i, w := range a.Schedule {
		field := fmt.Sprintf("availability.schedule[%d]", i)
		if _, ok := weekdays[w.Day]; !ok {
			return &SettingsError{Field: field + ".day", Message: "want mon, tue, wed, thu, fri, sat or sun"}
		}
		start, ok1 := minutes(w.Start)
		end, ok2 := minutes(w.End)
		if !ok1 {
			return &SettingsError{Field: field + ".start", Message: "want HH:MM"}
		}
		if !ok2 || end <= start || end > 24*60 {
			return &SettingsError{Field: field + ".end", Message: "want HH:MM after start, at most 24:00"}
		}
	}
	if a.Mode == AvailabilitySchedule && len(a.Schedule) == 0 {
		return &SettingsError{Field: "availability.schedule", Message: "a schedule needs at least one window"}
	}
	return nil
}

func minutes(hhmm string) (int, bool) {
	h, m, ok := strings.Cut(hhmm, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, false
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 24 || mm < 0 || mm > 59 || (hh == 24 && mm != 0) {
		return 0, false
	}
	return hh*60 + mm, true
}

// zone is the availability's location; UTC when unset or unknown.
func (a Availability) zone() *time.Location {
	if a.TimeZone == "" {
		return time.UTC
	}
	if loc, err := loadLocation(a.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

var (
	zonesMu sync.Mutex
	zones   = map[string]*time.Location{}
)

// loadLocation caches zones: LoadLocation reads the zone database on every
// call.
func loadLocation(name string) (*time.Location, error) {
	zonesMu.Lock()
	defer zonesMu.Unlock()
	if loc, ok := zones[name]; ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	if len(zones) < 1000 {
		zones[name] = loc
	}
	return loc, nil
}

// InSchedule reports whether now falls inside a window, in the
// availability's time zone. Without a schedule it is always true.
func (a Availability) InSchedule(now time.Time) bool {
	if len(a.Schedule) == 0 {
		return true
	}
	local := now.In(a.zone())
	min := local.Hour()*60 + local.Minute()
	for _, w := range a.Schedule {
		if weekdays[w.Day] != local.Weekday() {
			continue
		}
		start, _ := minutes(w.Start)
		end, _ := minutes(w.End)
		if min >= start && min < end {
			return true
		}
	}
	return false
}

// On reports whether the assistant talks to visitors at now, given how
// many agents are online.
func (a Availability) On(now time.Time, agentsOnline int) bool {
	switch a.Mode {
	case AvailabilityWhenOffline:
		return agentsOnline == 0
	case AvailabilitySchedule:
		return a.InSchedule(now)
	}
	return true
}
