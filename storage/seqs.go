package storage

import "context"

// txSeqs keeps, for one transaction, the message seq of each conversation
// whose row the transaction has locked. A step appends the visitor's
// message and then the bot's replies; without it each append would read the
// row again and write last_seq again. With it the seq is read once, with the
// lock, and written once: by UpdateConversation when the step ends with one
// (the usual case), or by flush before the transaction commits.
type txSeqs struct {
	byConversation map[string]*txSeq
}

type txSeq struct {
	workspace string
	last      int64
	// dirty: last is ahead of the row's last_seq.
	dirty bool
}

// seen records the seq read with a conversation's row lock. A later read in
// the same transaction must not replace a seq that appends moved ahead.
func (t *txSeqs) seen(ws, id string, last int64) {
	if t == nil {
		return
	}
	if t.byConversation == nil {
		t.byConversation = make(map[string]*txSeq, 1)
	}
	if _, ok := t.byConversation[id]; !ok {
		t.byConversation[id] = &txSeq{workspace: ws, last: last}
	}
}

// lookup returns the conversation's current seq if the transaction holds
// its row lock.
func (t *txSeqs) lookup(ws, id string) (int64, bool) {
	if t == nil {
		return 0, false
	}
	s, ok := t.byConversation[id]
	if !ok || s.workspace != ws {
		return 0, false
	}
	return s.last, true
}

// advance records that appends took the seqs up to last.
func (t *txSeqs) advance(id string, last int64) {
	if s, ok := t.byConversation[id]; ok {
		s.last, s.dirty = last, true
	}
}

// pending returns the seq to write with the conversation's row, if appends
// moved it, and marks it written.
func (t *txSeqs) pending(ws, id string) (int64, bool) {
	if t == nil {
		return 0, false
	}
	s, ok := t.byConversation[id]
	if !ok || !s.dirty || s.workspace != ws {
		return 0, false
	}
	s.dirty = false
	return s.last, true
}

// flush writes the seqs no UpdateConversation wrote, before the commit.
func (s *Store) flushSeqs(ctx context.Context) error {
	if s.seqs == nil {
		return nil
	}
	for id, q := range s.seqs.byConversation {
		if !q.dirty {
			continue
		}
		res := s.conn(ctx).Exec(`UPDATE conversations SET last_seq = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			q.last, s.now(), q.workspace, id)
		if res.Error != nil {
			return mapError(res.Error)
		}
		q.dirty = false
	}
	return nil
}
