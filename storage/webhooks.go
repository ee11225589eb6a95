package storage

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// Webhook bounds. The API applies its own rules first (an allow-list of
// event types, SSRF checks on the URL); these are the storage backstops.
const (
	// MaxWebhookSubscriptions bounds a workspace's subscriptions, so that
	// fanning one event out stays a small, bounded insert.
	MaxWebhookSubscriptions = 20
	// MaxWebhookURLBytes bounds a receiver URL.
	MaxWebhookURLBytes = 2048
	// MaxWebhookEvents bounds a subscription's list of event types.
	MaxWebhookEvents = 32
)

// WebhookAllEvents in a subscription's Events matches every event type,
// including types added later.
const WebhookAllEvents = "*"

// WebhookSubscription is a receiver of a workspace's webhook events.
type WebhookSubscription struct {
	ID          string
	WorkspaceID string
	// URL is where deliveries are POSTed. The API checks it against the
	// SSRF rules before saving; the dispatcher checks every dial again.
	URL string
	// Events are the event types sent, or WebhookAllEvents.
	Events Strings
	// Enabled subscriptions receive new events; disabled ones receive
	// nothing, and their pending deliveries go to the dead letter.
	Enabled bool
	// Secret signs every delivery. It is stored as is: HMAC needs the key.
	Secret string
	// PreviousSecret is the secret a rotation replaced. Until
	// PreviousSecretExpiresAt it signs deliveries beside Secret, so a
	// receiver can switch secrets without rejecting a delivery.
	PreviousSecret          string
	PreviousSecretExpiresAt *time.Time
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// TableName is the webhook_subscriptions table.
func (WebhookSubscription) TableName() string { return "webhook_subscriptions" }

// Wants reports whether the subscription receives events of this type.
func (w *WebhookSubscription) Wants(eventType string) bool {
	return slices.Contains(w.Events, WebhookAllEvents) || slices.Contains(w.Events, eventType)
}

// SigningSecrets returns the secrets that sign a delivery made at now: the
// current one, then the previous one while its grace period lasts.
func (w *WebhookSubscription) SigningSecrets(now time.Time) []string {
	out := []string{w.Secret}
	if w.PreviousSecret != "" && w.PreviousSecretExpiresAt != nil && now.Before(*w.PreviousSecretExpiresAt) {
		out = append(out, w.PreviousSecret)
	}
	return out
}

// NewWebhookSubscription is the input of CreateWebhookSubscription.
type NewWebhookSubscription struct {
	URL    string
	Events []string
	// Secret is the signing secret; the caller generates it.
	Secret string
	// Disabled creates the subscription switched off.
	Disabled bool
}

// CreateWebhookSubscription adds a subscription to the workspace. A
// workspace already at MaxWebhookSubscriptions gives ErrInvalid.
func (s *Store) CreateWebhookSubscription(ctx context.Context, ws string, in NewWebhookSubscription) (*WebhookSubscription, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := checkWebhookURL(in.URL); err != nil {
		return nil, err
	}
	if err := checkWebhookEvents(in.Events); err != nil {
		return nil, err
	}
	if in.Secret == "" {
		return nil, invalidf("webhook secret is empty")
	}
	if err := checkText("webhook secret", in.Secret, MaxNameBytes); err != nil {
		return nil, err
	}
	var sub *WebhookSubscription
	err := s.InTx(ctx, func(tx *Store) error {
		// Lock the workspace so two concurrent creations cannot both pass
		// the count below.
		var w Workspace
		if err := tx.conn(ctx).Clauses(forUpdate()).Select("id").Where("id = ?", ws).Take(&w).Error; err != nil {
			return wrap("create webhook subscription", err)
		}
		var n int64
		if err := tx.conn(ctx).Model(&WebhookSubscription{}).Where("workspace_id = ?", ws).Count(&n).Error; err != nil {
			return wrap("create webhook subscription", err)
		}
		if n >= MaxWebhookSubscriptions {
			return invalidf("the workspace has %d webhook subscriptions, the limit", n)
		}
		now := tx.now()
		sub = &WebhookSubscription{
			ID: newID(), WorkspaceID: ws, URL: in.URL, Events: Strings(slices.Clone(in.Events)),
			Enabled: !in.Disabled, Secret: in.Secret, CreatedAt: now, UpdatedAt: now,
		}
		if err := tx.conn(ctx).Create(sub).Error; err != nil {
			return wrap("create webhook subscription", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// ListWebhookSubscriptions returns the workspace's subscriptions, oldest
// first. See MaxListLimit.
func (s *Store) ListWebhookSubscriptions(ctx context.Context, ws string, limit int) ([]WebhookSubscription, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var out []WebhookSubscription
	err := s.conn(ctx).Where("workspace_id = ?", ws).Order("created_at, id").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list webhook subscriptions", err)
	}
	return out, nil
}

// GetWebhookSubscription returns one of the workspace's subscriptions, or
// ErrNotFound.
func (s *Store) GetWebhookSubscription(ctx context.Context, ws, id string) (*WebhookSubscription, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("webhook subscription id", id); err != nil {
		return nil, err
	}
	var sub WebhookSubscription
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&sub).Error; err != nil {
		return nil, wrap("get webhook subscription", err)
	}
	return &sub, nil
}

// WebhookSubscriptionUpdate is the input of UpdateWebhookSubscription;
// nil fields are left as they are.
type WebhookSubscriptionUpdate struct {
	URL *string
	// Events replaces the list when not nil.
	Events  []string
	Enabled *bool
}

// UpdateWebhookSubscription changes the fields given and returns the
// subscription as it now is.
func (s *Store) UpdateWebhookSubscription(ctx context.Context, ws, id string, u WebhookSubscriptionUpdate) (*WebhookSubscription, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("webhook subscription id", id); err != nil {
		return nil, err
	}
	set := map[string]any{"updated_at": s.now()}
	if u.URL != nil {
		if err := checkWebhookURL(*u.URL); err != nil {
			return nil, err
		}
		set["url"] = *u.URL
	}
	if u.Events != nil {
		if err := checkWebhookEvents(u.Events); err != nil {
			return nil, err
		}
		set["events"] = Strings(slices.Clone(u.Events))
	}
	if u.Enabled != nil {
		set["enabled"] = *u.Enabled
	}
	res := s.conn(ctx).Model(&WebhookSubscription{}).Where("workspace_id = ? AND id = ?", ws, id).Updates(set)
	if res.Error != nil {
		return nil, wrap("update webhook subscription", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, notFound("webhook subscription " + id)
	}
	return s.GetWebhookSubscription(ctx, ws, id)
}

// RotateWebhookSecret makes secret the signing secret. The one it replaces
// keeps signing, beside it, until previousUntil. Rotating again before then
// drops the oldest secret at once: at most two sign at any time.
func (s *Store) RotateWebhookSecret(ctx context.Context, ws, id, secret string, previousUntil time.Time) (*WebhookSubscription, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("webhook subscription id", id); err != nil {
		return nil, err
	}
	if secret == "" {
		return nil, invalidf("webhook secret is empty")
	}
	if err := checkText("webhook secret", secret, MaxNameBytes); err != nil {
		return nil, err
	}
	// The right-hand sides read the row as it was before the update, on
	// both dialects, so the old secret moves to previous_secret.
	res := s.conn(ctx).Exec(`UPDATE webhook_subscriptions
		SET previous_secret = secret, previous_secret_expires_at = ?, secret = ?, updated_at = ?
		WHERE workspace_id = ? AND id = ?`, utc(previousUntil), secret, s.now(), ws, id)
	if res.Error != nil {
		return nil, wrap("rotate webhook secret", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil, notFound("webhook subscription " + id)
	}
	return s.GetWebhookSubscription(ctx, ws, id)
}

// DropExpiredWebhookSecrets forgets previous secrets whose grace period
// ended by now, so a leaked old secret is gone from the database too, not
// only unused. Like ClaimOutbox it spans all workspaces; it is the
// dispatcher's housekeeping. It returns how many secrets were dropped.
func (s *Store) DropExpiredWebhookSecrets(ctx context.Context, now time.Time) (int64, error) {
	res := s.conn(ctx).Exec(`UPDATE webhook_subscriptions
		SET previous_secret = '', previous_secret_expires_at = NULL
		WHERE previous_secret_expires_at IS NOT NULL AND previous_secret_expires_at <= ?`, utc(now))
	if res.Error != nil {
		return 0, wrap("drop expired webhook secrets", res.Error)
	}
	return res.RowsAffected, nil
}

// DeleteWebhookSubscription deletes a subscription and its deliveries.
func (s *Store) DeleteWebhookSubscription(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if err := needID("webhook subscription id", id); err != nil {
		return err
	}
	res := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Delete(&WebhookSubscription{})
	if res.Error != nil {
		return wrap("delete webhook subscription", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("webhook subscription " + id)
	}
	return nil
}

func checkWebhookURL(u string) error {
	if u == "" {
		return invalidf("webhook url is empty")
	}
	return checkText("webhook url", u, MaxWebhookURLBytes)
}

func checkWebhookEvents(events []string) error {
	if len(events) == 0 {
		return invalidf("webhook events: the list is empty")
	}
	if err := checkStrings("webhook events", events, MaxWebhookEvents, MaxNameBytes); err != nil {
		return err
	}
	for i, e := range events {
		if strings.TrimSpace(e) == "" {
			return invalidf("webhook events[%d] is empty", i)
		}
	}
	return nil
}

// WebhookDelivery is one event on its way to one subscription. Its status
// values are the outbox's: pending, delivered, dead.
type WebhookDelivery struct {
	ID             string
	WorkspaceID    string
	SubscriptionID string
	// OutboxID is the event's outbox row, which holds its payload.
	OutboxID string
	// EventID is the stable id sent as webhook-id on every attempt and
	// redelivery; the same event has the same id at every subscription.
	EventID   string
	EventType string
	Status    OutboxStatus
	// Attempts counts claims, including one that never reported back.
	Attempts int
	// NextAttemptAt is when a pending delivery may be claimed next.
	NextAttemptAt time.Time
	LastAttemptAt *time.Time
	// LastStatus is the receiver's HTTP status on the last attempt, 0 when
	// no response came back.
	LastStatus  int
	LastError   string
	CreatedAt   time.Time
	DeliveredAt *time.Time
}

// TableName is the webhook_deliveries table.
func (WebhookDelivery) TableName() string { return "webhook_deliveries" }

// FanOutWebhookEvent turns a claimed outbox entry into one pending
// delivery per enabled subscription of its workspace that wants its type,
// and marks the entry delivered (handed over to its deliveries), all in one
// transaction. Fanning the same entry out again (its lease expired while a
// first worker was at it) adds no second delivery. It returns how many
// deliveries it added.
func (s *Store) FanOutWebhookEvent(ctx context.Context, e *OutboxEntry) (int, error) {
	if e == nil {
		return 0, invalidf("outbox entry is nil")
	}
	if err := needWorkspace(e.WorkspaceID); err != nil {
		return 0, err
	}
	added := 0
	err := s.InTx(ctx, func(tx *Store) error {
		var subs []WebhookSubscription
		err := tx.conn(ctx).Where("workspace_id = ? AND enabled = ?", e.WorkspaceID, true).
			Order("created_at, id").Limit(MaxWebhookSubscriptions).Find(&subs).Error
		if err != nil {
			return wrap("fan out webhook event", err)
		}
		now := tx.now()
		var rows []WebhookDelivery
		for _, sub := range subs {
			if !sub.Wants(e.EventType) {
				continue
			}
			rows = append(rows, WebhookDelivery{
				ID: newID(), WorkspaceID: e.WorkspaceID, SubscriptionID: sub.ID, OutboxID: e.ID,
				EventID: e.EventID, EventType: e.EventType, Status: OutboxPending,
				NextAttemptAt: now, CreatedAt: now,
			})
		}
		if len(rows) > 0 {
			res := tx.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows)
			if res.Error != nil {
				return wrap("fan out webhook event", res.Error)
			}
			added = int(res.RowsAffected)
		}
		return tx.MarkOutboxDelivered(ctx, e.WorkspaceID, e.ID)
	})
	if err != nil {
		return 0, err
	}
	return added, nil
}

// WebhookJob is a claimed delivery with what sending it needs.
type WebhookJob struct {
	Delivery     WebhookDelivery
	Subscription WebhookSubscription
	Event        OutboxEntry
}

// ClaimWebhookDeliveries claims up to limit pending deliveries due at now,
// oldest first, at most one per subscription, skipping the subscriptions
// in skip (those the caller is still sending to). A claim counts an attempt
// and moves NextAttemptAt to now+lease, so a delivery whose worker died is
// claimed again after the lease and re-sent with the same event id
// (at-least-once). Like ClaimOutbox it spans all workspaces, and concurrent
// claimers never get the same delivery within a lease.
//
// One per subscription per claim, and skip, keep one receiver's backlog
// from taking every worker: a slow receiver holds one worker, not all.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration, skip []string) ([]WebhookJob, error) {
	if lease <= 0 {
		return nil, invalidf("lease %v: want a positive duration", lease)
	}
	now = utc(now)
	limit = clampLimit(limit)
	// Candidates are locked (Postgres) before the window function picks one
	// per subscription: FOR UPDATE cannot share a query level with it.
	candidates := min(limit*4, MaxListLimit)
	args := []any{now.Add(lease), now, now}
	skipClause := ""
	if len(skip) > 0 {
		skipClause = " AND subscription_id NOT IN ?"
		args = append(args, skip)
	}
	args = append(args, candidates, limit)
	var claimed []WebhookDelivery
	err := s.queued(ctx, func(s *Store) error {
		return s.conn(ctx).Raw(`UPDATE webhook_deliveries
		SET attempts = attempts + 1, next_attempt_at = ?, last_attempt_at = ?
		WHERE id IN (
			SELECT id FROM (
				SELECT id, next_attempt_at,
					ROW_NUMBER() OVER (PARTITION BY subscription_id ORDER BY next_attempt_at, id) AS rn
				FROM (
					SELECT id, subscription_id, next_attempt_at FROM webhook_deliveries
					WHERE status = 'pending' AND next_attempt_at <= ?`+skipClause+`
					ORDER BY next_attempt_at, id
					LIMIT ?`+s.skipLocked()+`
				) candidates
			) ranked
			WHERE rn = 1
			ORDER BY next_attempt_at, id
			LIMIT ?
		)
		RETURNING *`, args...).Scan(&claimed).Error
	})
	if err != nil {
		return nil, wrap("claim webhook deliveries", err)
	}
	if len(claimed) == 0 {
		return nil, nil
	}
	slices.SortFunc(claimed, func(a, b WebhookDelivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	subIDs := make([]string, 0, len(claimed))
	outboxIDs := make([]string, 0, len(claimed))
	for _, d := range claimed {
		subIDs = append(subIDs, d.SubscriptionID)
		outboxIDs = append(outboxIDs, d.OutboxID)
	}
	var subs []WebhookSubscription
	if err := s.conn(ctx).Where("id IN ?", subIDs).Find(&subs).Error; err != nil {
		return nil, wrap("claim webhook deliveries", err)
	}
	var events []OutboxEntry
	if err := s.conn(ctx).Where("id IN ?", outboxIDs).Find(&events).Error; err != nil {
		return nil, wrap("claim webhook deliveries", err)
	}
	subByID := make(map[string]WebhookSubscription, len(subs))
	for _, sub := range subs {
		subByID[sub.ID] = sub
	}
	eventByID := make(map[string]OutboxEntry, len(events))
	for _, e := range events {
		eventByID[e.ID] = e
	}
	jobs := make([]WebhookJob, 0, len(claimed))
	for _, d := range claimed {
		sub, ok1 := subByID[d.SubscriptionID]
		ev, ok2 := eventByID[d.OutboxID]
		if !ok1 || !ok2 {
			// Deleted since the claim; the cascade takes the delivery too.
			continue
		}
		jobs = append(jobs, WebhookJob{Delivery: d, Subscription: sub, Event: ev})
	}
	return jobs, nil
}

// MarkWebhookDelivered records a 2xx answer. Marking a delivered delivery
// again is a no-op (two workers may both send after a lease expired);
// marking a dead one is ErrConflict.
func (s *Store) MarkWebhookDelivered(ctx context.Context, ws, id string, status int) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_deliveries
		SET status = 'delivered', delivered_at = ?, last_status = ?, last_error = ''
		WHERE workspace_id = ? AND id = ? AND status = 'pending'`, s.now(), status, ws, id)
	if res.Error != nil {
		return wrap("mark webhook delivered", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.explainDeliveryMiss(ctx, "mark webhook delivered", ws, id, OutboxDelivered)
}

// RescheduleWebhookDelivery records a failed attempt and when to try again;
// the backoff policy is the caller's. attempt is the Attempts value of the
// caller's claim: if the delivery was claimed again since (the caller's
// lease ran out), the report is stale and refused with ErrConflict, so a
// late failure cannot undo a newer attempt.
func (s *Store) RescheduleWebhookDelivery(ctx context.Context, ws, id string, attempt int, next time.Time, status int, lastError string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_deliveries
		SET next_attempt_at = ?, last_status = ?, last_error = ?
		WHERE workspace_id = ? AND id = ? AND status = 'pending' AND attempts = ?`,
		utc(next), status, truncateError(lastError), ws, id, attempt)
	if res.Error != nil {
		return wrap("reschedule webhook delivery", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.explainDeliveryMiss(ctx, "reschedule webhook delivery", ws, id, "")
}

// DeadLetterWebhookDelivery gives up on a delivery: it stays, marked dead,
// with its last error, until RedeliverWebhookDelivery. attempt fences stale
// reports as in RescheduleWebhookDelivery.
func (s *Store) DeadLetterWebhookDelivery(ctx context.Context, ws, id string, attempt, status int, lastError string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_deliveries
		SET status = 'dead', last_status = ?, last_error = ?
		WHERE workspace_id = ? AND id = ? AND status = 'pending' AND attempts = ?`,
		status, truncateError(lastError), ws, id, attempt)
	if res.Error != nil {
		return wrap("dead-letter webhook delivery", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.explainDeliveryMiss(ctx, "dead-letter webhook delivery", ws, id, "")
}

// explainDeliveryMiss tells apart a missing delivery (ErrNotFound), one
// already in the wanted status (no-op), and any other state (ErrConflict).
func (s *Store) explainDeliveryMiss(ctx context.Context, op, ws, id string, want OutboxStatus) error {
	var d WebhookDelivery
	if err := s.conn(ctx).Select("status").Where("workspace_id = ? AND id = ?", ws, id).Take(&d).Error; err != nil {
		return wrap(op, err)
	}
	if want != "" && d.Status == want {
		return nil
	}
	return &ConflictError{Resource: "webhook delivery", Reason: "delivery is " + string(d.Status) + " or was claimed again"}
}

// WebhookDeliveryFilter selects deliveries for ListWebhookDeliveries.
type WebhookDeliveryFilter struct {
	// Status keeps one status, e.g. OutboxDead for the dead letters.
	Status OutboxStatus
	// Limit: see DefaultListLimit and MaxListLimit.
	Limit int
}

// ListWebhookDeliveries returns a subscription's deliveries, newest first.
// A subscription that is not the workspace's gives ErrNotFound.
func (s *Store) ListWebhookDeliveries(ctx context.Context, ws, subscriptionID string, f WebhookDeliveryFilter) ([]WebhookDelivery, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("webhook subscription id", subscriptionID); err != nil {
		return nil, err
	}
	if err := s.needRef(ctx, "webhook_subscriptions", "webhook subscription", ws, subscriptionID); err != nil {
		return nil, err
	}
	q := s.conn(ctx).Where("workspace_id = ? AND subscription_id = ?", ws, subscriptionID)
	if f.Status != "" {
		switch f.Status {
		case OutboxPending, OutboxDelivered, OutboxDead:
		default:
			return nil, invalidf("status %q: want pending, delivered or dead", f.Status)
		}
		q = q.Where("status = ?", f.Status)
	}
	var out []WebhookDelivery
	if err := q.Order("created_at DESC, id DESC").Limit(clampLimit(f.Limit)).Find(&out).Error; err != nil {
		return nil, wrap("list webhook deliveries", err)
	}
	return out, nil
}

// GetWebhookDelivery returns one delivery of a subscription of the
// workspace, or ErrNotFound.
func (s *Store) GetWebhookDelivery(ctx context.Context, ws, subscriptionID, id string) (*WebhookDelivery, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("webhook delivery id", id); err != nil {
		return nil, err
	}
	var d WebhookDelivery
	err := s.conn(ctx).Where("workspace_id = ? AND subscription_id = ? AND id = ?", ws, subscriptionID, id).Take(&d).Error
	if err != nil {
		return nil, wrap("get webhook delivery", err)
	}
	return &d, nil
}

// RedeliverWebhookDelivery puts a dead delivery back in the queue, due now,
// with a fresh count of attempts. It keeps its event id, so a receiver that
// did get it before can tell. A delivery that is not dead gives
// ErrConflict.
func (s *Store) RedeliverWebhookDelivery(ctx context.Context, ws, subscriptionID, id string) (*WebhookDelivery, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("webhook delivery id", id); err != nil {
		return nil, err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_deliveries
		SET status = 'pending', attempts = 0, next_attempt_at = ?, delivered_at = NULL
		WHERE workspace_id = ? AND subscription_id = ? AND id = ? AND status = 'dead'`,
		s.now(), ws, subscriptionID, id)
	if res.Error != nil {
		return nil, wrap("redeliver webhook delivery", res.Error)
	}
	d, err := s.GetWebhookDelivery(ctx, ws, subscriptionID, id)
	if err != nil {
		return nil, err
	}
	if res.RowsAffected == 0 {
		return nil, &ConflictError{Resource: "webhook delivery", Reason: "delivery is " + string(d.Status) + ", not dead"}
	}
	return d, nil
}
