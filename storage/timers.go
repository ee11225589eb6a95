package storage

import (
	"context"
	"time"
)

// TimerState is where a durable timer is in its life.
type TimerState string

// The timer states. A fired timer is deleted by FinishTimer.
const (
	// TimerPending waits for FireAt.
	TimerPending TimerState = "pending"
	// TimerClaimed is held by a worker until ClaimedUntil; after that
	// another worker may claim it again.
	TimerClaimed TimerState = "claimed"
)

// Timer is a durable timer of a conversation: the handover wait, a
// follow-up, an inactivity timeout. Timers live in the database, so they
// survive restarts and work across several server processes.
type Timer struct {
	// ID changes whenever SetTimer re-arms the timer, so a worker holding
	// an old claim cannot finish the new one.
	ID             string
	WorkspaceID    string
	ConversationID string
	// Name is unique per conversation; setting it again re-arms it.
	Name         string
	FireAt       time.Time
	Payload      JSON
	State        TimerState
	ClaimedUntil *time.Time
	// Attempts counts claims since the timer was last set.
	Attempts  int
	CreatedAt time.Time
}

// TableName is the timers table.
func (Timer) TableName() string { return "timers" }

// NewTimer is the input of SetTimer.
type NewTimer struct {
	ConversationID string
	Name           string
	FireAt         time.Time
	Payload        JSON
}

// SetTimer arms the conversation's timer called in.Name to fire at
// in.FireAt, replacing any timer of that name (whatever its state) with a
// fresh id and zero attempts.
func (s *Store) SetTimer(ctx context.Context, ws string, in NewTimer) (*Timer, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("conversation id", in.ConversationID); err != nil {
		return nil, err
	}
	if in.Name == "" {
		return nil, invalidf("timer name is empty")
	}
	if err := checkText("timer name", in.Name, MaxNameBytes); err != nil {
		return nil, err
	}
	if in.FireAt.IsZero() {
		return nil, invalidf("timer fire time is zero")
	}
	payload, err := checkJSON("payload", in.Payload, "{}", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	var rows []Timer
	// One upsert statement on both dialects. The composite foreign key
	// (workspace_id, conversation_id) refuses another tenant's conversation,
	// and the DO UPDATE can only match this conversation's rows.
	err = s.conn(ctx).Raw(`INSERT INTO timers
			(id, workspace_id, conversation_id, name, fire_at, payload, state, claimed_until, attempts, created_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', NULL, 0, ?)
		ON CONFLICT (conversation_id, name) DO UPDATE SET
			id = excluded.id, fire_at = excluded.fire_at, payload = excluded.payload,
			state = 'pending', claimed_until = NULL, attempts = 0, created_at = excluded.created_at
		WHERE timers.workspace_id = excluded.workspace_id
		RETURNING *`,
		newID(), ws, in.ConversationID, in.Name, utc(in.FireAt), payload, s.now()).Scan(&rows).Error
	if err != nil {
		return nil, wrap("set timer", err)
	}
	if len(rows) != 1 {
		return nil, notFound("conversation " + in.ConversationID)
	}
	return &rows[0], nil
}

// CancelTimer deletes the conversation's timer of that name. It reports
// whether there was one; cancelling a timer that already fired or never
// existed is not an error.
func (s *Store) CancelTimer(ctx context.Context, ws, conversationID, name string) (bool, error) {
	if err := needWorkspace(ws); err != nil {
		return false, err
	}
	res := s.conn(ctx).Exec(`DELETE FROM timers WHERE workspace_id = ? AND conversation_id = ? AND name = ?`,
		ws, conversationID, name)
	if res.Error != nil {
		return false, wrap("cancel timer", res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ListTimers returns the conversation's timers by fire time.
func (s *Store) ListTimers(ctx context.Context, ws, conversationID string) ([]Timer, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needConversation(ctx, ws, conversationID); err != nil {
		return nil, err
	}
	var out []Timer
	err := s.conn(ctx).Where("workspace_id = ? AND conversation_id = ?", ws, conversationID).
		Order("fire_at, name").Limit(MaxListLimit).Find(&out).Error
	if err != nil {
		return nil, wrap("list timers", err)
	}
	return out, nil
}

// ClaimDueTimers claims up to limit timers that are due at now (pending
// with FireAt <= now, or claimed with an expired lease) for lease, and
// returns them. It spans all workspaces: it is the timer worker's query,
// and each Timer carries its WorkspaceID for the follow-up calls.
//
// Claiming is atomic: concurrent claimers, in one process or several, never
// get the same timer while its lease runs. On Postgres the rows are picked
// with FOR UPDATE SKIP LOCKED, so claimers do not queue behind each other;
// on SQLite the single UPDATE runs under the database's one write lock.
//
// Delivery is at least once: a worker that dies keeps its timers until the
// lease ends, then another worker claims them again. The worker fires a
// timer and calls FinishTimer in one transaction, with a compare-and-set on
// the conversation, so a second firing changes nothing.
func (s *Store) ClaimDueTimers(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]Timer, error) {
	if lease <= 0 {
		return nil, invalidf("lease %v: want a positive duration", lease)
	}
	now = utc(now)
	var rows []Timer
	err := s.queued(ctx, func(s *Store) error {
		return s.conn(ctx).Raw(`UPDATE timers
		SET state = 'claimed', claimed_until = ?, attempts = attempts + 1
		WHERE id IN (
			SELECT id FROM timers
			WHERE (state = 'pending' AND fire_at <= ?) OR (state = 'claimed' AND claimed_until <= ?)
			ORDER BY fire_at
			LIMIT ?`+s.skipLocked()+`
		)
		RETURNING *`, now.Add(lease), now, now, clampLimit(limit)).Scan(&rows).Error
	})
	if err != nil {
		return nil, wrap("claim due timers", err)
	}
	return rows, nil
}

// FinishTimer deletes a fired timer by the id its claim returned. It
// returns ErrNotFound when the timer is gone or was re-armed (new id) or
// cancelled since the claim: the worker should then roll back its firing.
func (s *Store) FinishTimer(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`DELETE FROM timers WHERE workspace_id = ? AND id = ?`, ws, id)
	if res.Error != nil {
		return wrap("finish timer", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("timer " + id)
	}
	return nil
}

// skipLocked is the row-lock clause for claim subqueries: Postgres skips
// rows another claimer is taking; SQLite has one writer and no such clause.
func (s *Store) skipLocked() string {
	if s.dialect == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}
