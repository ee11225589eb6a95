package storage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ConversationStatus is where a conversation sits in the inbox.
type ConversationStatus string

// The statuses.
const (
	// StatusBot: the bot is talking; agents may watch or take over.
	StatusBot ConversationStatus = "bot"
	// StatusUnassigned: waiting in the queue for an agent to claim it.
	StatusUnassigned ConversationStatus = "unassigned"
	// StatusAssigned: an agent (AssigneeID) has it.
	StatusAssigned ConversationStatus = "assigned"
	// StatusClosed: finished. It cannot be reopened, but data can still be
	// added and leads created from it.
	StatusClosed ConversationStatus = "closed"
)

func (st ConversationStatus) valid() bool {
	switch st {
	case StatusBot, StatusUnassigned, StatusAssigned, StatusClosed:
		return true
	}
	return false
}

// Conversation is one chat between a visitor and the workspace.
type Conversation struct {
	ID          string
	WorkspaceID string
	// ChannelID is "" for preview chats, and after the channel is deleted.
	ChannelID string `gorm:"serializer:frontdesk_nullstring"`
	// AssistantID is the assistant running the chat, or "".
	AssistantID string `gorm:"serializer:frontdesk_nullstring"`
	// VersionID pins the published version the chat started on; "" for
	// preview chats (which run the draft) and default-response chats.
	VersionID string `gorm:"serializer:frontdesk_nullstring"`
	VisitorID string
	Status    ConversationStatus
	// AssigneeID is the agent handling the chat, or "".
	AssigneeID string `gorm:"serializer:frontdesk_nullstring"`
	// State is the engine's state document.
	State JSON
	// Version is the optimistic-concurrency counter: every UpdateConversation
	// and ClaimConversation bumps it. Appending messages does not.
	Version int64
	// LastSeq is the seq of the newest message; 0 when there is none.
	LastSeq int64
	// Preview marks the admin's test chats, which never count in analytics.
	Preview bool
	// DraftRevision is the draft revision a preview chat runs; 0 otherwise.
	DraftRevision int64
	// Route is how the chat started: "" on its version or the channel's
	// default response, RouteQueue straight to the agents.
	Route     string
	Language  string
	CreatedAt time.Time
	UpdatedAt time.Time
	ClosedAt  *time.Time
}

// TableName is the conversations table.
func (Conversation) TableName() string { return "conversations" }

// NewConversation is the input of CreateConversation.
type NewConversation struct {
	ChannelID   string
	AssistantID string
	// VersionID must be a version of AssistantID; when AssistantID is "" it
	// is taken from the version.
	VersionID string
	VisitorID string
	// Status defaults to StatusBot. It cannot be StatusAssigned: assign with
	// ClaimConversation or UpdateConversation.
	Status  ConversationStatus
	State   JSON
	Preview bool
	// DraftRevision pins a preview chat to the draft revision it runs.
	DraftRevision int64
	// Route is "" or RouteQueue.
	Route    string
	Language string
}

// RouteQueue marks a chat that went straight to the agents' queue.
const RouteQueue = "queue"

// CreateConversation starts a conversation at version 1 with no messages.
// Every reference must belong to the workspace.
func (s *Store) CreateConversation(ctx context.Context, ws string, in NewConversation) (*Conversation, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("visitor id", in.VisitorID); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = StatusBot
	}
	if !in.Status.valid() || in.Status == StatusAssigned {
		return nil, invalidf("status %q: want bot, unassigned or closed", in.Status)
	}
	state, err := checkJSON("state", in.State, "{}", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, v string }{{"visitor id", in.VisitorID}, {"language", in.Language}} {
		if err := checkText(f.name, f.v, MaxNameBytes); err != nil {
			return nil, err
		}
	}
	var c *Conversation
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "channels", "channel", ws, in.ChannelID); err != nil {
			return err
		}
		if err := tx.needRef(ctx, "assistants", "assistant", ws, in.AssistantID); err != nil {
			return err
		}
		if in.VersionID != "" {
			// The version's assistant only, not its graph.
			var v Version
			err := tx.conn(ctx).Select(versionListColumns).Where("workspace_id = ? AND id = ?", ws, in.VersionID).Take(&v).Error
			if err != nil {
				if err = mapError(err); errors.Is(err, ErrNotFound) {
					return notFound("version " + in.VersionID)
				}
				return err
			}
			if in.AssistantID == "" {
				in.AssistantID = v.AssistantID
			} else if v.AssistantID != in.AssistantID {
				return invalidf("version %s is not a version of assistant %s", in.VersionID, in.AssistantID)
			}
		}
		now := tx.now()
		c = &Conversation{
			ID: newID(), WorkspaceID: ws, ChannelID: in.ChannelID, AssistantID: in.AssistantID,
			VersionID: in.VersionID, VisitorID: in.VisitorID, Status: in.Status, State: state,
			Version: 1, Preview: in.Preview, DraftRevision: in.DraftRevision, Route: in.Route, Language: in.Language, CreatedAt: now, UpdatedAt: now,
		}
		if in.Status == StatusClosed {
			c.ClosedAt = &now
		}
		return mapError(tx.conn(ctx).Create(c).Error)
	})
	if err != nil {
		return nil, wrap("create conversation", err)
	}
	return c, nil
}

// GetConversation returns the conversation, or ErrNotFound.
func (s *Store) GetConversation(ctx context.Context, ws, id string) (*Conversation, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var c Conversation
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&c).Error; err != nil {
		return nil, wrap("get conversation", err)
	}
	s.fixSeq(&c)
	return &c, nil
}

// LatestOpenConversation returns the visitor's newest conversation on the
// channel that is not closed, or ErrNotFound. A verified visitor (see
// docs/websocket.md, "Signed identity") resumes it from any device.
func (s *Store) LatestOpenConversation(ctx context.Context, ws, channelID, visitorID string) (*Conversation, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("channel id", channelID); err != nil {
		return nil, err
	}
	if err := needID("visitor id", visitorID); err != nil {
		return nil, err
	}
	var c Conversation
	err := s.conn(ctx).Where("workspace_id = ? AND channel_id = ? AND visitor_id = ? AND status <> ?", ws, channelID, visitorID, StatusClosed).
		Order("created_at DESC, id DESC").Take(&c).Error
	if err != nil {
		return nil, wrap("latest open conversation", err)
	}
	s.fixSeq(&c)
	return &c, nil
}

// HasVisitorConversation reports whether the visitor has had any
// conversation on the channel, open or closed.
func (s *Store) HasVisitorConversation(ctx context.Context, ws, channelID, visitorID string) (bool, error) {
	if err := needWorkspace(ws); err != nil {
		return false, err
	}
	var n int64
	err := s.conn(ctx).Model(&Conversation{}).Where("workspace_id = ? AND channel_id = ? AND visitor_id = ?", ws, channelID, visitorID).
		Limit(1).Count(&n).Error
	if err != nil {
		return false, wrap("visitor conversations", err)
	}
	return n > 0, nil
}

// GetConversationForUpdate reads the conversation and locks it until the
// transaction ends, so the caller's read-step-write cannot interleave with
// another writer's. It must be called on an InTx Store. On Postgres it is
// SELECT … FOR NO KEY UPDATE; on SQLite the immediate transaction already
// holds the database's write lock.
func (s *Store) GetConversationForUpdate(ctx context.Context, ws, id string) (*Conversation, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if !s.inTx {
		return nil, invalidf("GetConversationForUpdate needs a transaction (call it inside InTx)")
	}
	var c Conversation
	err := s.conn(ctx).Clauses(forUpdate()).Where("workspace_id = ? AND id = ?", ws, id).Take(&c).Error
	if err != nil {
		return nil, wrap("get conversation for update", err)
	}
	s.seqs.seen(ws, id, c.LastSeq)
	s.fixSeq(&c)
	return &c, nil
}

// fixSeq gives a conversation read inside a transaction the seq that the
// transaction's appends took, which the row may not hold yet.
func (s *Store) fixSeq(c *Conversation) {
	if last, ok := s.seqs.lookup(c.WorkspaceID, c.ID); ok {
		c.LastSeq = last
	}
}

// ConversationUpdate lists what UpdateConversation changes. Zero fields are
// left as they are.
type ConversationUpdate struct {
	// State replaces the engine state when non-nil.
	State JSON
	// Status changes the status when non-empty. Moving to StatusClosed sets
	// ClosedAt; moving a closed conversation anywhere else is refused.
	Status ConversationStatus
	// SetAssignee makes AssigneeID the new assignee ("" unassigns). Without
	// it the assignee is left alone.
	SetAssignee bool
	AssigneeID  string
	// Language changes the language when non-empty.
	Language string
}

// UpdateConversation applies the update if the conversation's version is
// still expectedVersion, bumps the version, and returns the updated row.
// When another writer came first it returns a *ConflictError (errors.Is
// ErrConflict) carrying the current version, and writes nothing. This
// compare-and-set is what makes a twice-fired timer or a retried step
// harmless: the second attempt finds a newer version.
func (s *Store) UpdateConversation(ctx context.Context, ws, id string, expectedVersion int64, u ConversationUpdate) (*Conversation, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	upd, err := s.conversationUpdate(u)
	if err != nil {
		return nil, err
	}
	var out *Conversation
	err = s.InTx(ctx, func(tx *Store) error {
		if u.SetAssignee {
			if err := tx.needRef(ctx, "users", "user", ws, u.AssigneeID); err != nil {
				return err
			}
		}
		q, args, seq, seqPending := tx.updateStatement(upd, ws, id, expectedVersion)
		var rows []Conversation
		if err := tx.conn(ctx).Raw(q+" RETURNING *", args...).Scan(&rows).Error; err != nil {
			return mapError(err)
		}
		if len(rows) == 1 {
			out = &rows[0]
			return nil
		}
		if seqPending {
			tx.seqs.advance(id, seq) // not written: flush writes it
		}
		return tx.explainMiss(ctx, ws, id, expectedVersion, upd.reopening)
	})
	if err != nil {
		return nil, wrap("update conversation", err)
	}
	return out, nil
}

// UpdateLockedConversation is UpdateConversation for a conversation this
// transaction read with GetConversationForUpdate: the same compare-and-set
// on c.Version, but the updated row is worked out from c instead of read
// back, since nobody else can have changed it. It is the runtime's update at
// the end of every step.
func (s *Store) UpdateLockedConversation(ctx context.Context, c *Conversation, u ConversationUpdate) (*Conversation, error) {
	if !s.inTx {
		return nil, invalidf("UpdateLockedConversation needs a transaction (call it inside InTx)")
	}
	ws, id := c.WorkspaceID, c.ID
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	upd, err := s.conversationUpdate(u)
	if err != nil {
		return nil, err
	}
	if u.SetAssignee {
		if err := s.needRef(ctx, "users", "user", ws, u.AssigneeID); err != nil {
			return nil, wrap("update conversation", err)
		}
	}
	q, args, seq, seqPending := s.updateStatement(upd, ws, id, c.Version)
	res := s.conn(ctx).Exec(q, args...)
	if res.Error != nil {
		return nil, wrap("update conversation", res.Error)
	}
	if res.RowsAffected != 1 {
		if seqPending {
			s.seqs.advance(id, seq)
		}
		return nil, wrap("update conversation", s.explainMiss(ctx, ws, id, c.Version, upd.reopening))
	}
	out := *c
	out.Version++
	out.UpdatedAt = upd.now
	if upd.state != nil {
		out.State = upd.state
	}
	if u.Status != "" {
		out.Status = u.Status
		if u.Status == StatusClosed && out.ClosedAt == nil {
			at := upd.now
			out.ClosedAt = &at
		}
	}
	if u.SetAssignee {
		out.AssigneeID = u.AssigneeID
	}
	if u.Language != "" {
		out.Language = u.Language
	}
	if seqPending {
		out.LastSeq = seq
	}
	return &out, nil
}

// conversationChange is a checked ConversationUpdate and its SET clause.
type conversationChange struct {
	sets      []string
	args      []any
	where     string
	now       time.Time
	state     JSON
	reopening bool
}

func (s *Store) conversationUpdate(u ConversationUpdate) (*conversationChange, error) {
	c := &conversationChange{now: s.now()}
	c.sets = append(c.sets, "version = version + 1", "updated_at = ?")
	c.args = append(c.args, c.now)
	if u.State != nil {
		state, err := checkJSON("state", u.State, "", MaxJSONBytes)
		if err != nil {
			return nil, err
		}
		c.state = state
		c.sets = append(c.sets, "state = ?")
		c.args = append(c.args, state)
	}
	if u.Status != "" {
		if !u.Status.valid() {
			return nil, invalidf("status %q: want bot, unassigned, assigned or closed", u.Status)
		}
		c.sets = append(c.sets, "status = ?")
		c.args = append(c.args, u.Status)
		if u.Status == StatusClosed {
			// Keep the first close time if it is closed again.
			c.sets = append(c.sets, "closed_at = COALESCE(closed_at, ?)")
			c.args = append(c.args, c.now)
		}
	}
	if u.SetAssignee {
		c.sets = append(c.sets, "assignee_id = ?")
		c.args = append(c.args, nullable(u.AssigneeID))
	}
	if u.Language != "" {
		if err := checkText("language", u.Language, MaxNameBytes); err != nil {
			return nil, err
		}
		c.sets = append(c.sets, "language = ?")
		c.args = append(c.args, u.Language)
	}
	c.where = "workspace_id = ? AND id = ? AND version = ?"
	c.reopening = u.Status != "" && u.Status != StatusClosed
	if c.reopening {
		c.where += " AND status <> 'closed'"
	}
	if u.Status == StatusAssigned {
		// An assigned chat must say to whom. Without SetAssignee the current
		// assignee is only known to the database, so it checks.
		if u.SetAssignee && u.AssigneeID == "" {
			return nil, invalidf("status assigned needs an assignee")
		}
		if !u.SetAssignee {
			c.where += " AND assignee_id IS NOT NULL"
		}
	}
	return c, nil
}

// updateStatement is the UPDATE of one conversation. The seq this
// transaction's appends took is written with the rest of the row: one
// UPDATE per step instead of one per append.
func (s *Store) updateStatement(c *conversationChange, ws, id string, expected int64) (q string, args []any, seq int64, seqPending bool) {
	sets := slices.Clone(c.sets)
	args = slices.Clone(c.args)
	seq, seqPending = s.seqs.pending(ws, id)
	if seqPending {
		sets = append(sets, "last_seq = ?")
		args = append(args, seq)
	}
	args = append(args, ws, id, expected)
	return "UPDATE conversations SET " + strings.Join(sets, ", ") + " WHERE " + c.where, args, seq, seqPending
}

// explainMiss turns a compare-and-set that matched no row into ErrNotFound
// or a *ConflictError with the current version.
func (s *Store) explainMiss(ctx context.Context, ws, id string, expected int64, reopening bool) error {
	cur, err := s.GetConversation(ctx, ws, id)
	if err != nil {
		return err
	}
	ce := &ConflictError{Resource: "conversation", Expected: expected, Current: cur.Version}
	switch {
	case cur.Version != expected:
	case reopening && cur.Status == StatusClosed:
		ce.Reason = "conversation is closed"
	default:
		ce.Reason = "conversation has no assignee"
	}
	return ce
}

// SetConversationStatus is UpdateConversation for status and assignee only,
// e.g. take over (assigned to me), reassign, unassign, hand back (bot), or
// close.
func (s *Store) SetConversationStatus(ctx context.Context, ws, id string, expectedVersion int64, status ConversationStatus, assigneeID string) (*Conversation, error) {
	return s.UpdateConversation(ctx, ws, id, expectedVersion, ConversationUpdate{
		Status: status, SetAssignee: true, AssigneeID: assigneeID,
	})
}

// UpdateConversationState is UpdateConversation for the engine state only.
func (s *Store) UpdateConversationState(ctx context.Context, ws, id string, expectedVersion int64, state JSON) (*Conversation, error) {
	if state == nil {
		return nil, invalidf("state is empty")
	}
	return s.UpdateConversation(ctx, ws, id, expectedVersion, ConversationUpdate{State: state})
}

// ClaimConversation assigns an unassigned conversation to agentID ("Assign
// to me"). It needs no version: the condition is the status, checked and
// changed in one statement, so of any number of concurrent claims exactly
// one wins and the others get a *ConflictError (errors.Is ErrConflict). It
// bumps the version, so a runner holding the old one will see a conflict and
// reload.
func (s *Store) ClaimConversation(ctx context.Context, ws, id, agentID string) (*Conversation, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("agent id", agentID); err != nil {
		return nil, err
	}
	var out *Conversation
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "users", "agent", ws, agentID); err != nil {
			return err
		}
		var rows []Conversation
		err := tx.conn(ctx).Raw(`UPDATE conversations
			SET status = 'assigned', assignee_id = ?, version = version + 1, updated_at = ?
			WHERE workspace_id = ? AND id = ? AND status = 'unassigned'
			RETURNING *`, agentID, tx.now(), ws, id).Scan(&rows).Error
		if err != nil {
			return mapError(err)
		}
		if len(rows) == 1 {
			out = &rows[0]
			tx.fixSeq(out)
			return nil
		}
		cur, err := tx.GetConversation(ctx, ws, id)
		if err != nil {
			return err
		}
		reason := fmt.Sprintf("conversation is %s, not unassigned", cur.Status)
		if cur.Status == StatusAssigned {
			reason = "conversation is already assigned"
		}
		return &ConflictError{Resource: "conversation", Expected: cur.Version, Current: cur.Version, Reason: reason}
	})
	if err != nil {
		return nil, wrap("claim conversation", err)
	}
	return out, nil
}

// ConversationSort is an allow-listed order for ListConversations.
type ConversationSort string

// The orders ListConversations accepts.
const (
	// SortNewest: most recently created first (the default).
	SortNewest ConversationSort = "newest"
	// SortOldest: oldest first, the order of the Unassigned queue.
	SortOldest ConversationSort = "oldest"
	// SortRecentActivity: most recently updated first.
	SortRecentActivity ConversationSort = "recent_activity"
)

// conversationOrders maps each allowed sort to its ORDER BY; user input
// never reaches the SQL text.
var conversationOrders = map[ConversationSort]string{
	SortNewest:         "created_at DESC, id DESC",
	SortOldest:         "created_at ASC, id ASC",
	SortRecentActivity: "updated_at DESC, id DESC",
}

// ConversationFilter selects conversations for ListConversations. Every
// field is optional; set fields are ANDed.
type ConversationFilter struct {
	// Statuses keeps conversations in any of these statuses.
	Statuses []ConversationStatus
	// AssigneeID keeps conversations assigned to this user (the Mine folder).
	AssigneeID string
	// VisibleTo hides conversations assigned to anyone but this agent, the
	// agents' visibility rule. Admins leave it empty.
	VisibleTo   string
	ChannelID   string
	AssistantID string
	VisitorID   string
	// IncludePreview includes the admins' preview chats, hidden by default.
	IncludePreview bool
	// Sort defaults to SortNewest.
	Sort ConversationSort
	// Limit: see DefaultListLimit and MaxListLimit.
	Limit int
	// Offset skips rows, at most MaxListOffset.
	Offset int
}

// ListConversations returns the workspace's conversations matching f.
func (s *Store) ListConversations(ctx context.Context, ws string, f ConversationFilter) ([]Conversation, error) {
	if f.Sort == "" {
		f.Sort = SortNewest
	}
	order, ok := conversationOrders[f.Sort]
	if !ok {
		return nil, invalidf("sort %q: want newest, oldest or recent_activity", f.Sort)
	}
	if f.Offset < 0 || f.Offset > MaxListOffset {
		return nil, invalidf("offset %d: want 0 to %d", f.Offset, MaxListOffset)
	}
	q, err := s.conversationQuery(ctx, ws, f)
	if err != nil {
		return nil, err
	}
	var out []Conversation
	if err := q.Order(order).Limit(clampLimit(f.Limit)).Offset(f.Offset).Find(&out).Error; err != nil {
		return nil, wrap("list conversations", err)
	}
	return out, nil
}

// CountConversations counts the workspace's conversations matching f (its
// Sort, Limit and Offset are ignored), for the inbox folders' counts.
func (s *Store) CountConversations(ctx context.Context, ws string, f ConversationFilter) (int64, error) {
	q, err := s.conversationQuery(ctx, ws, f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := q.Count(&n).Error; err != nil {
		return 0, wrap("count conversations", err)
	}
	return n, nil
}

// conversationQuery builds the WHERE of a conversation filter; every value
// is a bound parameter.
func (s *Store) conversationQuery(ctx context.Context, ws string, f ConversationFilter) (*gorm.DB, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	q := s.conn(ctx).Model(&Conversation{}).Where("workspace_id = ?", ws)
	if len(f.Statuses) > 0 {
		for _, st := range f.Statuses {
			if !st.valid() {
				return nil, invalidf("status %q: want bot, unassigned, assigned or closed", st)
			}
		}
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.AssigneeID != "" {
		q = q.Where("assignee_id = ?", f.AssigneeID)
	}
	if f.VisibleTo != "" {
		q = q.Where("(status <> 'assigned' OR assignee_id = ?)", f.VisibleTo)
	}
	if f.ChannelID != "" {
		q = q.Where("channel_id = ?", f.ChannelID)
	}
	if f.AssistantID != "" {
		q = q.Where("assistant_id = ?", f.AssistantID)
	}
	if f.VisitorID != "" {
		q = q.Where("visitor_id = ?", f.VisitorID)
	}
	if !f.IncludePreview {
		q = q.Where("preview = ?", false)
	}
	return q, nil
}

// lockConversationSeq locks the conversation row for a seq allocation and
// returns its last seq; ErrNotFound if it is not in the workspace.
func (s *Store) lockConversationSeq(ctx context.Context, ws, id string) (int64, error) {
	if last, ok := s.seqs.lookup(ws, id); ok {
		return last, nil // locked already by this transaction
	}
	var c Conversation
	err := s.conn(ctx).Clauses(forUpdate()).Select("id, last_seq").
		Where("workspace_id = ? AND id = ?", ws, id).Take(&c).Error
	if err != nil {
		if errors.Is(mapError(err), ErrNotFound) {
			return 0, notFound("conversation " + id)
		}
		return 0, mapError(err)
	}
	s.seqs.seen(ws, id, c.LastSeq)
	return c.LastSeq, nil
}
