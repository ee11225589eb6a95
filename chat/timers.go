package chat

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// TimerLease is how long a claimed timer is reserved for its worker. A
// worker that dies holds its timers this long, then another node fires
// them.
const TimerLease = 30 * time.Second

// TimerBatch bounds the timers one poll claims.
const TimerBatch = 100

// MaxTimerAttempts is how often a timer that keeps failing is retried
// before it is dropped with an error in the log.
const MaxTimerAttempts = 5

// RunTimers fires due timers until ctx ends. Timers live in the database,
// so they survive restarts; several nodes may run this loop at once: each
// timer is claimed by one, and firing it and deleting it commit together
// with the conversation's change, so a timer changes a chat once.
func (s *Service) RunTimers(ctx context.Context) {
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		n := s.FireDueTimers(ctx)
		if n == TimerBatch {
			continue // more are due: do not wait
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// FireDueTimers claims and fires the timers due now and reports how many
// it claimed. Tests call it directly instead of waiting for the loop.
func (s *Service) FireDueTimers(ctx context.Context) int {
	now := s.now()
	timers, err := s.store.ClaimDueTimers(ctx, now, TimerBatch, TimerLease)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("claim due timers", "err", err)
		}
		return 0
	}
	for i := range timers {
		s.fire(ctx, &timers[i], now)
	}
	return len(timers)
}

func (s *Service) fire(ctx context.Context, t *storage.Timer, now time.Time) {
	if s.metrics != nil {
		s.metrics.TimerFired(now.Sub(t.FireAt))
	}
	ev := timerEvent(t.Name)
	_, err := s.onConversation(ctx, t.WorkspaceID, t.ConversationID, false, func(tx *storage.Store, conv *storage.Conversation, res *Result) error {
		if err := tx.FinishTimer(ctx, t.WorkspaceID, t.ID); err != nil {
			return err
		}
		if t.Name == followUpTimer {
			return s.sendFollowUp(ctx, tx, conv, res)
		}
		return s.step(ctx, tx, conv, ev, res)
	})
	switch {
	case err == nil:
	case errors.Is(err, storage.ErrNotFound):
		// Re-armed or cancelled since the claim, or the chat is gone.
	case errors.Is(err, engine.ErrEnded) || errors.Is(err, engine.ErrNotStarted):
		s.finish(ctx, t)
	default:
		s.log.Warn("fire timer", "timer", t.Name, "conversation", t.ConversationID, "attempt", t.Attempts, "err", err)
		if t.Attempts >= MaxTimerAttempts {
			s.log.Error("dropping timer after repeated failures", "timer", t.Name, "conversation", t.ConversationID)
			s.finish(ctx, t)
		}
	}
}

func (s *Service) finish(ctx context.Context, t *storage.Timer) {
	if err := s.store.FinishTimer(ctx, t.WorkspaceID, t.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.Warn("finish timer", "timer", t.Name, "err", err)
	}
}

// timerEvent maps a timer's name to the event it delivers. Watchdogs of
// slow work deliver a failure; the engine ignores it if the real result
// came first.
func timerEvent(name string) engine.Event {
	if id, ok := strings.CutPrefix(name, "slow:"); ok {
		if strings.HasPrefix(id, "http:") {
			return engine.Event{Type: engine.EventHTTPResult, ID: id, HTTP: engine.HTTPResult{Err: "timeout: no result in time"}}
		}
		return engine.Event{Type: engine.EventAnswerReady, ID: id, Answer: engine.Answer{Handover: true}}
	}
	return engine.Event{Type: engine.EventTimerFired, ID: name}
}
