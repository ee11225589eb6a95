package storage_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// webhookSubscribe adds a subscription to the bundle's workspace.
func (b *bundle) webhookSubscribe(t *testing.T, url string, events ...string) *storage.WebhookSubscription {
	t.Helper()
	sub, err := b.s.CreateWebhookSubscription(context.Background(), b.ws, storage.NewWebhookSubscription{
		URL: url, Events: events, Secret: "whsec_" + strings.Repeat("A", 43) + "=",
	})
	require.NoError(t, err)
	return sub
}

// webhookEvent queues an outbox event in the bundle's workspace.
func (b *bundle) webhookEvent(t *testing.T, typ string) *storage.OutboxEntry {
	t.Helper()
	e, err := b.s.InsertOutbox(context.Background(), b.ws, storage.NewOutboxEntry{EventType: typ, Payload: storage.JSON(`{"n":1}`)})
	require.NoError(t, err)
	return e
}

func TestWebhookSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		sub := b.webhookSubscribe(t, "https://hooks.example.com/a", "lead.created")
		require.True(t, sub.Enabled, "a new subscription is enabled unless asked otherwise")
		require.Equal(t, storage.Strings{"lead.created"}, sub.Events)

		got, err := s.GetWebhookSubscription(ctx, b.ws, sub.ID)
		require.NoError(t, err)
		require.Equal(t, sub.URL, got.URL)
		require.Equal(t, sub.Secret, got.Secret)

		off := false
		url := "https://hooks.example.com/b"
		upd, err := s.UpdateWebhookSubscription(ctx, b.ws, sub.ID, storage.WebhookSubscriptionUpdate{
			URL: &url, Events: []string{"*"}, Enabled: &off,
		})
		require.NoError(t, err)
		require.Equal(t, url, upd.URL)
		require.Equal(t, storage.Strings{"*"}, upd.Events)
		require.False(t, upd.Enabled)
		require.True(t, upd.Wants("anything.at_all"), "* matches every type")

		list, err := s.ListWebhookSubscriptions(ctx, b.ws, 0)
		require.NoError(t, err)
		require.Len(t, list, 1)

		_, err = s.CreateWebhookSubscription(ctx, b.ws, storage.NewWebhookSubscription{URL: "https://x.example", Secret: "s"})
		require.ErrorIs(t, err, storage.ErrInvalid, "events are required")
		_, err = s.CreateWebhookSubscription(ctx, b.ws, storage.NewWebhookSubscription{URL: "https://x.example/" + strings.Repeat("a", 2048), Events: []string{"*"}, Secret: "s"})
		require.ErrorIs(t, err, storage.ErrInvalid, "URLs are bounded")
		_, err = s.CreateWebhookSubscription(ctx, b.ws, storage.NewWebhookSubscription{URL: "https://x.example", Events: []string{"*"}})
		require.ErrorIs(t, err, storage.ErrInvalid, "a secret is required")

		require.NoError(t, s.DeleteWebhookSubscription(ctx, b.ws, sub.ID))
		_, err = s.GetWebhookSubscription(ctx, b.ws, sub.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
		require.ErrorIs(t, s.DeleteWebhookSubscription(ctx, b.ws, sub.ID), storage.ErrNotFound)
	})
}

func TestWebhookSubscriptionLimit(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		b := setup(t, s)
		errs := race(storage.MaxWebhookSubscriptions+5, func(i int) error {
			_, err := s.CreateWebhookSubscription(context.Background(), b.ws, storage.NewWebhookSubscription{
				URL: fmt.Sprintf("https://h%d.example.com", i), Events: []string{"*"}, Secret: "s",
			})
			return err
		})
		wins := 0
		for _, err := range errs {
			if err == nil {
				wins++
				continue
			}
			// SQLite writers may also time out on the lock under this race.
			if !errors.Is(err, storage.ErrBusy) {
				require.ErrorIs(t, err, storage.ErrInvalid)
			}
		}
		list, err := s.ListWebhookSubscriptions(context.Background(), b.ws, storage.MaxListLimit)
		require.NoError(t, err)
		require.Equal(t, wins, len(list))
		require.LessOrEqual(t, len(list), storage.MaxWebhookSubscriptions, "concurrent creations cannot pass the limit")
	})
}

func TestWebhookSecretRotation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		sub := b.webhookSubscribe(t, "https://hooks.example.com", "*")
		now := time.Now()
		require.Equal(t, []string{sub.Secret}, sub.SigningSecrets(now))

		rotated, err := s.RotateWebhookSecret(ctx, b.ws, sub.ID, "whsec_new", now.Add(24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, "whsec_new", rotated.Secret)
		require.Equal(t, sub.Secret, rotated.PreviousSecret)
		require.Equal(t, []string{"whsec_new", sub.Secret}, rotated.SigningSecrets(now), "both sign during the grace period")
		require.Equal(t, []string{"whsec_new"}, rotated.SigningSecrets(now.Add(25*time.Hour)), "the old one stops at its end")

		n, err := s.DropExpiredWebhookSecrets(ctx, now.Add(time.Hour))
		require.NoError(t, err)
		require.Zero(t, n, "not before the end of the grace period")
		n, err = s.DropExpiredWebhookSecrets(ctx, now.Add(25*time.Hour))
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		got, err := s.GetWebhookSubscription(ctx, b.ws, sub.ID)
		require.NoError(t, err)
		require.Empty(t, got.PreviousSecret, "a dropped secret is gone from the database")
		require.Nil(t, got.PreviousSecretExpiresAt)

		_, err = s.RotateWebhookSecret(ctx, b.ws, "missing", "whsec_x", now)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func TestWebhookFanOut(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		other := setup(t, s)
		leads := b.webhookSubscribe(t, "https://a.example.com", "lead.created")
		all := b.webhookSubscribe(t, "https://b.example.com", "*")
		closed := b.webhookSubscribe(t, "https://c.example.com", "conversation.closed")
		off := b.webhookSubscribe(t, "https://d.example.com", "*")
		disabled := false
		_, err := s.UpdateWebhookSubscription(ctx, b.ws, off.ID, storage.WebhookSubscriptionUpdate{Enabled: &disabled})
		require.NoError(t, err)
		theirs := other.webhookSubscribe(t, "https://e.example.com", "*")

		ev := b.webhookEvent(t, "lead.created")
		now := time.Now().Add(time.Second)
		claimed, err := s.ClaimOutbox(ctx, now, 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		n, err := s.FanOutWebhookEvent(ctx, &claimed[0])
		require.NoError(t, err)
		require.Equal(t, 2, n, "the matching enabled subscriptions of the event's workspace")

		again, err := s.FanOutWebhookEvent(ctx, &claimed[0])
		require.NoError(t, err)
		require.Zero(t, again, "fanning out twice adds nothing")

		out, err := s.ListOutbox(ctx, b.ws, storage.OutboxFilter{Status: storage.OutboxDelivered})
		require.NoError(t, err)
		require.Len(t, out, 1, "the event is handed over to its deliveries")

		for sub, want := range map[string]int{leads.ID: 1, all.ID: 1, closed.ID: 0, off.ID: 0} {
			ds, err := s.ListWebhookDeliveries(ctx, b.ws, sub, storage.WebhookDeliveryFilter{})
			require.NoError(t, err)
			require.Len(t, ds, want, sub)
			for _, d := range ds {
				require.Equal(t, ev.EventID, d.EventID)
				require.Equal(t, storage.OutboxPending, d.Status)
			}
		}
		ds, err := s.ListWebhookDeliveries(ctx, other.ws, theirs.ID, storage.WebhookDeliveryFilter{})
		require.NoError(t, err)
		require.Empty(t, ds, "another workspace's subscriptions get nothing")
		_, err = s.ListWebhookDeliveries(ctx, other.ws, leads.ID, storage.WebhookDeliveryFilter{})
		require.ErrorIs(t, err, storage.ErrNotFound, "another workspace's subscription id")
	})
}

// webhookFanOutAll fans out every due event.
func webhookFanOutAll(t *testing.T, s *storage.Store, now time.Time) {
	t.Helper()
	ctx := context.Background()
	es, err := s.ClaimOutbox(ctx, now, storage.MaxListLimit, time.Minute)
	require.NoError(t, err)
	// RETURNING keeps no order: fan out oldest first, as the dispatcher does.
	slices.SortFunc(es, func(a, b storage.OutboxEntry) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range es {
		_, err := s.FanOutWebhookEvent(ctx, &es[i])
		require.NoError(t, err)
	}
}

func TestWebhookDeliveryLifecycle(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		a := b.webhookSubscribe(t, "https://a.example.com", "*")
		c := b.webhookSubscribe(t, "https://c.example.com", "*")
		first := b.webhookEvent(t, "lead.created")
		b.webhookEvent(t, "conversation.closed")
		now := time.Now().Add(time.Second)
		webhookFanOutAll(t, s, now)

		jobs, err := s.ClaimWebhookDeliveries(ctx, now, 10, time.Minute, nil)
		require.NoError(t, err)
		require.Len(t, jobs, 2, "one per subscription per claim")
		require.NotEqual(t, jobs[0].Subscription.ID, jobs[1].Subscription.ID)
		for _, j := range jobs {
			require.Equal(t, first.EventID, j.Delivery.EventID, "oldest first")
			require.Equal(t, first.ID, j.Event.ID)
			require.JSONEq(t, `{"n":1}`, string(j.Event.Payload))
			require.Equal(t, 1, j.Delivery.Attempts)
			require.NotNil(t, j.Delivery.LastAttemptAt)
		}
		none, err := s.ClaimWebhookDeliveries(ctx, now, 10, time.Minute, []string{a.ID, c.ID})
		require.NoError(t, err)
		require.Empty(t, none, "busy subscriptions are skipped")

		byID := map[string]storage.WebhookJob{}
		for _, j := range jobs {
			byID[j.Subscription.ID] = j
		}
		ja, jc := byID[a.ID].Delivery, byID[c.ID].Delivery
		require.NoError(t, s.MarkWebhookDelivered(ctx, b.ws, ja.ID, 204))
		require.NoError(t, s.MarkWebhookDelivered(ctx, b.ws, ja.ID, 200), "a second report is harmless")

		require.ErrorIs(t, s.RescheduleWebhookDelivery(ctx, b.ws, jc.ID, jc.Attempts+1, now.Add(time.Minute), 500, "x"),
			storage.ErrConflict, "a report from another claim is stale")
		require.NoError(t, s.RescheduleWebhookDelivery(ctx, b.ws, jc.ID, jc.Attempts, now.Add(2*time.Minute), 503, "HTTP 503"))

		// c's next event goes first now; its failed one waits for its backoff.
		next, err := s.ClaimWebhookDeliveries(ctx, now, 10, time.Minute, nil)
		require.NoError(t, err)
		require.Len(t, next, 2)
		for _, j := range next {
			require.NotEqual(t, jc.ID, j.Delivery.ID)
			require.NoError(t, s.MarkWebhookDelivered(ctx, b.ws, j.Delivery.ID, 200))
		}
		retry, err := s.ClaimWebhookDeliveries(ctx, now.Add(2*time.Minute), 10, time.Minute, nil)
		require.NoError(t, err)
		require.Len(t, retry, 1)
		require.Equal(t, jc.ID, retry[0].Delivery.ID)
		require.Equal(t, 2, retry[0].Delivery.Attempts)
		require.Equal(t, 503, retry[0].Delivery.LastStatus)

		require.NoError(t, s.DeadLetterWebhookDelivery(ctx, b.ws, jc.ID, 2, 500, "gave up\x00\xff"))
		require.ErrorIs(t, s.MarkWebhookDelivered(ctx, b.ws, jc.ID, 200), storage.ErrConflict)
		dead, err := s.ListWebhookDeliveries(ctx, b.ws, c.ID, storage.WebhookDeliveryFilter{Status: storage.OutboxDead})
		require.NoError(t, err)
		require.Len(t, dead, 1)
		require.Equal(t, "gave up\uFFFD", dead[0].LastError)

		_, err = s.RedeliverWebhookDelivery(ctx, b.ws, a.ID, jc.ID)
		require.ErrorIs(t, err, storage.ErrNotFound, "the delivery is c's")
		_, err = s.RedeliverWebhookDelivery(ctx, b.ws, a.ID, ja.ID)
		require.ErrorIs(t, err, storage.ErrConflict, "only dead deliveries are redelivered")
		re, err := s.RedeliverWebhookDelivery(ctx, b.ws, c.ID, jc.ID)
		require.NoError(t, err)
		require.Equal(t, storage.OutboxPending, re.Status)
		require.Zero(t, re.Attempts)
		again, err := s.ClaimWebhookDeliveries(ctx, time.Now().Add(time.Second), 10, time.Minute, nil)
		require.NoError(t, err)
		require.Len(t, again, 1)
		require.Equal(t, jc.EventID, again[0].Delivery.EventID, "a redelivery keeps the event id")

		_, err = s.ListWebhookDeliveries(ctx, b.ws, c.ID, storage.WebhookDeliveryFilter{Status: "lost"})
		require.ErrorIs(t, err, storage.ErrInvalid)

		// Deleting the subscription takes its deliveries along.
		require.NoError(t, s.DeleteWebhookSubscription(ctx, b.ws, c.ID))
		_, err = s.GetWebhookDelivery(ctx, b.ws, c.ID, jc.ID)
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func TestWebhookLeaseExpiryReclaims(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		b.webhookSubscribe(t, "https://a.example.com", "*")
		b.webhookEvent(t, "lead.created")
		now := time.Now().Add(time.Second)
		webhookFanOutAll(t, s, now)
		jobs, err := s.ClaimWebhookDeliveries(ctx, now, 10, time.Minute, nil)
		require.NoError(t, err)
		require.Len(t, jobs, 1)
		// The worker dies here: no report.
		none, err := s.ClaimWebhookDeliveries(ctx, now.Add(59*time.Second), 10, time.Minute, nil)
		require.NoError(t, err)
		require.Empty(t, none, "not within the lease")
		again, err := s.ClaimWebhookDeliveries(ctx, now.Add(time.Minute), 10, time.Minute, nil)
		require.NoError(t, err)
		require.Len(t, again, 1)
		require.Equal(t, jobs[0].Delivery.ID, again[0].Delivery.ID)
		require.Equal(t, 2, again[0].Delivery.Attempts)
		require.ErrorIs(t, s.DeadLetterWebhookDelivery(ctx, b.ws, jobs[0].Delivery.ID, 1, 0, "late"), storage.ErrConflict,
			"the dead worker's late report does not undo the new claim")
	})
}

func TestConcurrentWebhookClaimersGetEachDeliveryOnce(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		const subs, events = 6, 8
		for i := range subs {
			b.webhookSubscribe(t, fmt.Sprintf("https://h%d.example.com", i), "*")
		}
		for range events {
			b.webhookEvent(t, "lead.created")
		}
		now := time.Now().Add(time.Second)
		webhookFanOutAll(t, s, now)
		var (
			mu   sync.Mutex
			seen = map[string]int{}
		)
		errs := race(5, func(int) error {
			for {
				got, err := s.ClaimWebhookDeliveries(ctx, now, 3, time.Hour, nil)
				if err != nil {
					return err
				}
				if len(got) == 0 {
					return nil
				}
				mu.Lock()
				for _, j := range got {
					seen[j.Delivery.ID]++
				}
				mu.Unlock()
			}
		})
		require.Equal(t, len(errs), countWins(t, errs, nil))
		require.Len(t, seen, subs*events)
		for id, n := range seen {
			require.Equal(t, 1, n, "delivery %s claimed %d times", id, n)
		}
	})
}

func TestWebhookTenantIsolation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		a := setup(t, s)
		b := setup(t, s)
		sub := a.webhookSubscribe(t, "https://a.example.com", "*")
		a.webhookEvent(t, "lead.created")
		webhookFanOutAll(t, s, time.Now().Add(time.Second))
		ds, err := s.ListWebhookDeliveries(ctx, a.ws, sub.ID, storage.WebhookDeliveryFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		d := ds[0]
		on := true
		url := "https://pwned.example.com"

		calls := map[string]func(ws string) error{
			"GetWebhookSubscription": func(ws string) error { _, err := s.GetWebhookSubscription(ctx, ws, sub.ID); return err },
			"UpdateWebhookSubscription": func(ws string) error {
				_, err := s.UpdateWebhookSubscription(ctx, ws, sub.ID, storage.WebhookSubscriptionUpdate{URL: &url, Enabled: &on})
				return err
			},
			"RotateWebhookSecret": func(ws string) error {
				_, err := s.RotateWebhookSecret(ctx, ws, sub.ID, "whsec_pwned", time.Now())
				return err
			},
			"DeleteWebhookSubscription": func(ws string) error { return s.DeleteWebhookSubscription(ctx, ws, sub.ID) },
			"ListWebhookDeliveries": func(ws string) error {
				_, err := s.ListWebhookDeliveries(ctx, ws, sub.ID, storage.WebhookDeliveryFilter{})
				return err
			},
			"GetWebhookDelivery": func(ws string) error { _, err := s.GetWebhookDelivery(ctx, ws, sub.ID, d.ID); return err },
			"RedeliverWebhookDelivery": func(ws string) error {
				_, err := s.RedeliverWebhookDelivery(ctx, ws, sub.ID, d.ID)
				return err
			},
			"MarkWebhookDelivered": func(ws string) error { return s.MarkWebhookDelivered(ctx, ws, d.ID, 200) },
			"RescheduleWebhookDelivery": func(ws string) error {
				return s.RescheduleWebhookDelivery(ctx, ws, d.ID, 0, time.Now(), 0, "x")
			},
			"DeadLetterWebhookDelivery": func(ws string) error {
				return s.DeadLetterWebhookDelivery(ctx, ws, d.ID, 0, 0, "x")
			},
		}
		for name, call := range calls {
			require.ErrorIs(t, call(b.ws), storage.ErrNotFound, "%s with another workspace", name)
			require.ErrorIs(t, call(""), storage.ErrInvalid, "%s with no workspace", name)
		}
		got, err := s.GetWebhookSubscription(ctx, a.ws, sub.ID)
		require.NoError(t, err)
		require.Equal(t, sub.URL, got.URL)
		require.Equal(t, sub.Secret, got.Secret)
		still, err := s.GetWebhookDelivery(ctx, a.ws, sub.ID, d.ID)
		require.NoError(t, err)
		require.Equal(t, storage.OutboxPending, still.Status)
		_, err = s.CreateWebhookSubscription(ctx, "", storage.NewWebhookSubscription{URL: url, Events: []string{"*"}, Secret: "s"})
		require.ErrorIs(t, err, storage.ErrInvalid)
	})
}
