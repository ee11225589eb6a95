package storage

import (
	"context"
	"time"
)

// OutboxStatus is where a webhook event is in its delivery.
type OutboxStatus string

// The outbox statuses.
const (
	// OutboxPending: waiting for (another) delivery attempt.
	OutboxPending OutboxStatus = "pending"
	// OutboxDelivered: a receiver acknowledged it.
	OutboxDelivered OutboxStatus = "delivered"
	// OutboxDead: given up on; kept for inspection (the dead letter).
	OutboxDead OutboxStatus = "dead"
)

// OutboxEntry is a webhook event waiting for, or done with, delivery. It is
// inserted in the same transaction as the change it reports, so an event is
// never lost or sent for a change that rolled back.
type OutboxEntry struct {
	ID          string
	WorkspaceID string
	// EventID is the stable id receivers deduplicate on; every delivery
	// attempt sends the same one.
	EventID   string
	EventType string
	Payload   JSON
	Status    OutboxStatus
	// Attempts counts claims.
	Attempts int
	// NextAttemptAt is when a pending entry may be claimed next.
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	DeliveredAt   *time.Time
}

// TableName is the webhook_outbox table.
func (OutboxEntry) TableName() string { return "webhook_outbox" }

// NewOutboxEntry is the input of InsertOutbox.
type NewOutboxEntry struct {
	// EventID defaults to "evt_" and a fresh uuid. A taken id gives
	// ErrDuplicate, so re-inserting the same event is detectable.
	EventID   string
	EventType string
	Payload   JSON
	// NotBefore delays the first attempt; zero means now.
	NotBefore time.Time
}

// InsertOutbox queues a webhook event. Call it inside the InTx that makes
// the change the event reports.
func (s *Store) InsertOutbox(ctx context.Context, ws string, in NewOutboxEntry) (*OutboxEntry, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if in.EventType == "" {
		return nil, invalidf("event type is empty")
	}
	if in.EventID == "" {
		in.EventID = "evt_" + newID()
	}
	for _, f := range []struct{ name, v string }{{"event id", in.EventID}, {"event type", in.EventType}} {
		if err := checkText(f.name, f.v, MaxNameBytes); err != nil {
			return nil, err
		}
	}
	payload, err := checkJSON("payload", in.Payload, "", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	if payload == nil {
		return nil, invalidf("payload is empty")
	}
	now := s.now()
	next := now
	if !in.NotBefore.IsZero() {
		next = utc(in.NotBefore)
	}
	e := &OutboxEntry{
		ID: newID(), WorkspaceID: ws, EventID: in.EventID, EventType: in.EventType, Payload: payload,
		Status: OutboxPending, NextAttemptAt: next, CreatedAt: now,
	}
	if err := s.conn(ctx).Create(e).Error; err != nil {
		return nil, wrap("insert outbox", err)
	}
	return e, nil
}

// ClaimOutbox claims up to limit pending entries due at now, oldest first,
// and returns them. A claim counts an attempt and moves NextAttemptAt to
// now+lease, so if the worker dies mid-delivery the entry is claimed again
// after the lease and re-sent with the same EventID (at-least-once). Like
// ClaimDueTimers it spans all workspaces, and concurrent claimers never get
// the same entry within a lease (SKIP LOCKED on Postgres, the single write
// lock on SQLite).
func (s *Store) ClaimOutbox(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]OutboxEntry, error) {
	if lease <= 0 {
		return nil, invalidf("lease %v: want a positive duration", lease)
	}
	now = utc(now)
	var rows []OutboxEntry
	err := s.queued(ctx, func(s *Store) error {
		return s.conn(ctx).Raw(`UPDATE webhook_outbox
		SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id IN (
			SELECT id FROM webhook_outbox
			WHERE status = 'pending' AND next_attempt_at <= ?
			ORDER BY next_attempt_at, id
			LIMIT ?`+s.skipLocked()+`
		)
		RETURNING *`, now.Add(lease), now, clampLimit(limit)).Scan(&rows).Error
	})
	if err != nil {
		return nil, wrap("claim outbox", err)
	}
	return rows, nil
}

// MarkOutboxDelivered records a successful delivery. Marking a delivered
// entry again is a no-op (two workers may both deliver after a lease
// expired); marking a dead one is ErrConflict.
func (s *Store) MarkOutboxDelivered(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_outbox SET status = 'delivered', delivered_at = ?, last_error = ''
		WHERE workspace_id = ? AND id = ? AND status = 'pending'`, s.now(), ws, id)
	if res.Error != nil {
		return wrap("mark outbox delivered", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.explainOutboxMiss(ctx, "mark outbox delivered", ws, id, OutboxDelivered)
}

// RescheduleOutbox records a failed attempt and when to try again; the
// backoff policy is the caller's.
func (s *Store) RescheduleOutbox(ctx context.Context, ws, id string, nextAttemptAt time.Time, lastError string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_outbox SET next_attempt_at = ?, last_error = ?
		WHERE workspace_id = ? AND id = ? AND status = 'pending'`, utc(nextAttemptAt), truncateError(lastError), ws, id)
	if res.Error != nil {
		return wrap("reschedule outbox", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.explainOutboxMiss(ctx, "reschedule outbox", ws, id, "")
}

// DeadLetterOutbox gives up on an entry: it stays, marked dead, with its
// last error.
func (s *Store) DeadLetterOutbox(ctx context.Context, ws, id, lastError string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE webhook_outbox SET status = 'dead', last_error = ?
		WHERE workspace_id = ? AND id = ? AND status = 'pending'`, truncateError(lastError), ws, id)
	if res.Error != nil {
		return wrap("dead-letter outbox", res.Error)
	}
	if res.RowsAffected == 1 {
		return nil
	}
	return s.explainOutboxMiss(ctx, "dead-letter outbox", ws, id, OutboxDead)
}

// explainOutboxMiss tells apart a missing entry (ErrNotFound), one already
// in the wanted status (no-op), and one in another final status
// (ErrConflict).
func (s *Store) explainOutboxMiss(ctx context.Context, op, ws, id string, want OutboxStatus) error {
	var e OutboxEntry
	if err := s.conn(ctx).Select("status").Where("workspace_id = ? AND id = ?", ws, id).Take(&e).Error; err != nil {
		return wrap(op, err)
	}
	if want != "" && e.Status == want {
		return nil
	}
	return &ConflictError{Resource: "outbox entry", Reason: "entry is " + string(e.Status)}
}

// truncateError keeps error texts within MaxTextBytes and valid UTF-8; a
// receiver's error body is untrusted.
func truncateError(s string) string {
	if len(s) > MaxTextBytes {
		s = s[:MaxTextBytes]
	}
	return toValidText(s)
}

// OutboxFilter selects entries for ListOutbox.
type OutboxFilter struct {
	// Status keeps one status, e.g. OutboxDead for the dead letters.
	Status OutboxStatus
	// Limit: see DefaultListLimit and MaxListLimit.
	Limit int
}

// ListOutbox returns the workspace's outbox entries, newest first.
func (s *Store) ListOutbox(ctx context.Context, ws string, f OutboxFilter) ([]OutboxEntry, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	q := s.conn(ctx).Where("workspace_id = ?", ws)
	if f.Status != "" {
		switch f.Status {
		case OutboxPending, OutboxDelivered, OutboxDead:
		default:
			return nil, invalidf("status %q: want pending, delivered or dead", f.Status)
		}
		q = q.Where("status = ?", f.Status)
	}
	var out []OutboxEntry
	if err := q.Order("created_at DESC, id DESC").Limit(clampLimit(f.Limit)).Find(&out).Error; err != nil {
		return nil, wrap("list outbox", err)
	}
	return out, nil
}
