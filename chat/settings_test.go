package chat

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestScheduleInAnotherTimeZone(t *testing.T) {
	t.Parallel()
	a := Availability{Mode: AvailabilitySchedule, TimeZone: "America/New_York",
		Schedule: []Window{{Day: "mon", Start: "09:00", End: "17:30"}, {Day: "sat", Start: "10:00", End: "12:00"}}}
	require.NoError(t, AssistantSettings{Availability: a}.Validate())
	cases := []struct {
		at   string // UTC
		want bool
	}{
		{"2026-11-23T13:59:00Z", false}, // Monday 08:59 in New York (EST, UTC-5)
		{"2026-11-23T14:00:00Z", true},  // 09:00 opens
		{"2026-11-23T22:29:00Z", true},  // 17:29
		{"2026-11-23T22:30:00Z", false}, // 17:30 closes
		{"2026-11-24T14:00:00Z", false}, // Tuesday
		{"2026-11-28T15:00:00Z", true},  // Saturday 10:00
		{"2026-07-06T13:00:00Z", true},  // a summer Monday 09:00 (EDT, UTC-4)
		{"2026-07-06T12:59:00Z", false}, // 08:59 EDT
	}
	for _, c := range cases {
		at, err := time.Parse(time.RFC3339, c.at)
		require.NoError(t, err)
		require.Equal(t, c.want, a.On(at, 3), c.at)
		require.Equal(t, c.want, a.InSchedule(at), c.at)
	}
	off := Availability{Mode: AvailabilityWhenOffline}
	require.True(t, off.On(time.Now(), 0))
	require.False(t, off.On(time.Now(), 1))
	require.True(t, Availability{}.On(time.Now(), 5))
}

func TestSettingsValidationNamesTheField(t *testing.T) {
	t.Parallel()
	cases := map[string]AssistantSettings{
		"audience":                     {Audience: "vips"},
		"availability.mode":            {Availability: Availability{Mode: "sometimes"}},
		"availability.time_zone":       {Availability: Availability{TimeZone: "Mars/Olympus"}},
		"availability.schedule":        {Availability: Availability{Mode: AvailabilitySchedule}},
		"availability.schedule[0].day": {Availability: Availability{Schedule: []Window{{Day: "funday", Start: "09:00", End: "10:00"}}}},
		"availability.schedule[0].end": {Availability: Availability{Schedule: []Window{{Day: "mon", Start: "10:00", End: "09:00"}}}},
	}
	for field, s := range cases {
		err := s.Validate()
		var se *SettingsError
		require.ErrorAs(t, err, &se, field)
		require.Equal(t, field, se.Field)
	}
}

func setSettings(t *testing.T, b *bundle, s AssistantSettings) {
	t.Helper()
	raw, err := json.Marshal(s)
	require.NoError(t, err)
	require.NoError(t, b.store.UpdateAssistantSettings(context.Background(), b.ws, b.channel.AssistantID, storage.AssistantSettings{Settings: raw}))
}

func TestAvailabilityAndAudienceRouteNewChats(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		// Monday 2026-11-23 08:00 in Paris is 07:00 UTC: closed.
		b.clock.now = time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
		setSettings(t, b, AssistantSettings{Availability: Availability{Mode: AvailabilitySchedule, TimeZone: "Europe/Paris",
			Schedule: []Window{{Day: "mon", Start: "09:00", End: "18:00"}}}})
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "early", IsNew: true})
		require.NoError(t, err)
		require.Empty(t, res.Conversation.VersionID, "off: the channel's default response")
		require.Equal(t, []string{"Hi! How can we help you today?"}, texts(res))

		b.clock.Advance(time.Hour) // 09:00 in Paris: open
		res, err = b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "on-time", IsNew: true})
		require.NoError(t, err)
		require.NotEmpty(t, res.Conversation.VersionID, "on: the published assistant")

		// New visitors only: a returning visitor goes straight to the queue.
		b.svc = b.service() // drop the settings cache
		setSettings(t, b, AssistantSettings{Audience: AudienceNewOnly})
		b.presence.Set(b.ws, "agent-1", Online)
		res, err = b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "regular", IsNew: false})
		require.NoError(t, err)
		require.Equal(t, storage.RouteQueue, res.Conversation.Route)
		require.Equal(t, storage.StatusUnassigned, res.Conversation.Status)
		require.Equal(t, []string{"Thanks! An agent will be with you shortly."}, texts(res))
		res, err = b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "newcomer", IsNew: true})
		require.NoError(t, err)
		require.NotEmpty(t, res.Conversation.VersionID, "new visitors talk to the bot")

		// The workspace's out-of-office switch turns the assistant off.
		require.NoError(t, store.SetOutOfOffice(ctx, b.ws, true))
		res, err = b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "ooo", IsNew: true})
		require.NoError(t, err)
		require.Empty(t, res.Conversation.VersionID)
	})
}
