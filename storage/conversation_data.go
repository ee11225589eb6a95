package storage

import (
	"context"
	"errors"
	"time"

	"github.com/shopspring/decimal"
)

// ConversationData is the agents' side panel of one conversation: who the
// visitor is, their organisation, the deal being discussed, and notes. There
// is at most one row per conversation; a conversation without one reads as
// empty data at revision 0. Creating a lead or a deal copies it into a Lead.
type ConversationData struct {
	ConversationID string `gorm:"primaryKey"`
	WorkspaceID    string
	PersonName     string
	Email          string
	Phone          string
	OrgName        string
	OrgAddress     string
	// Value is the deal value, exact: NUMERIC(20,4) on Postgres, decimal
	// text on SQLite, never a float.
	Value         decimal.NullDecimal
	Currency      string
	ExpectedClose *Date
	Notes         string
	// Revision goes up by one on every save; 0 means nothing was saved yet.
	Revision  int64
	UpdatedAt time.Time
	// UpdatedBy is the user who saved last, or "".
	UpdatedBy string `gorm:"serializer:frontdesk_nullstring"`
}

// TableName is the conversation_data table.
func (ConversationData) TableName() string { return "conversation_data" }

// ConversationDataFields are the side-panel fields a save replaces. Field
// rules (email shape, phone digits, currency code) are the API's; storage
// enforces what the schema needs, as CreateLead does.
type ConversationDataFields struct {
	PersonName    string
	Email         string
	Phone         string
	OrgName       string
	OrgAddress    string
	Value         decimal.NullDecimal
	Currency      string
	ExpectedClose *Date
	Notes         string
}

// AnyRevision, given to SaveConversationData as the expected revision,
// saves over whatever is stored: last write wins.
const AnyRevision int64 = -1

// GetConversationData returns the conversation's side-panel data. A
// conversation with none yet gives empty data at revision 0; a conversation
// not in the workspace gives ErrNotFound.
func (s *Store) GetConversationData(ctx context.Context, ws, conversationID string) (*ConversationData, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needConversation(ctx, ws, conversationID); err != nil {
		return nil, wrap("get conversation data", err)
	}
	var d ConversationData
	err := s.conn(ctx).Where("workspace_id = ? AND conversation_id = ?", ws, conversationID).Take(&d).Error
	if err != nil {
		if err := mapError(err); errors.Is(err, ErrNotFound) {
			return &ConversationData{ConversationID: conversationID, WorkspaceID: ws}, nil
		}
		return nil, wrap("get conversation data", err)
	}
	return &d, nil
}

// SaveConversationData replaces the conversation's side-panel data and
// returns it at its new revision. expectedRevision is the revision the
// caller edited (0 when it saw no data yet); when the stored one differs it
// returns a *ConflictError (errors.Is ErrConflict) whose Current is the
// stored revision, and writes nothing. AnyRevision skips the check. Saving
// works on closed conversations too: data can be added after the chat.
func (s *Store) SaveConversationData(ctx context.Context, ws, conversationID string, expectedRevision int64, in ConversationDataFields, updatedBy string) (*ConversationData, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("conversation id", conversationID); err != nil {
		return nil, err
	}
	if expectedRevision < AnyRevision {
		return nil, invalidf("expected revision %d: want AnyRevision or 0 and up", expectedRevision)
	}
	if err := checkLeadFields(in.Value, in.ExpectedClose, []textField{
		{"person name", in.PersonName, MaxNameBytes}, {"email", in.Email, MaxNameBytes},
		{"phone", in.Phone, MaxNameBytes}, {"organisation name", in.OrgName, MaxNameBytes},
		{"organisation address", in.OrgAddress, MaxTextBytes}, {"currency", in.Currency, MaxNameBytes},
		{"notes", in.Notes, MaxTextBytes}, {"updated by", updatedBy, MaxNameBytes},
	}); err != nil {
		return nil, err
	}
	var out *ConversationData
	err := s.InTx(ctx, func(tx *Store) error {
		if err := tx.needConversation(ctx, ws, conversationID); err != nil {
			return err
		}
		now := tx.now()
		fields := []any{in.PersonName, in.Email, in.Phone, in.OrgName, in.OrgAddress,
			in.Value, in.Currency, in.ExpectedClose, in.Notes, now, nullable(updatedBy)}
		var (
			rows []ConversationData
			q    string
			args []any
		)
		const insert = `INSERT INTO conversation_data (conversation_id, workspace_id, person_name, email, phone,
			org_name, org_address, value, currency, expected_close, notes, updated_at, updated_by, revision)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)`
		switch {
		case expectedRevision == AnyRevision:
			// One statement, so two concurrent first saves cannot both
			// insert: the second becomes an update.
			q = insert + ` ON CONFLICT (conversation_id) DO UPDATE SET
				person_name = excluded.person_name, email = excluded.email, phone = excluded.phone,
				org_name = excluded.org_name, org_address = excluded.org_address, value = excluded.value,
				currency = excluded.currency, expected_close = excluded.expected_close, notes = excluded.notes,
				updated_at = excluded.updated_at, updated_by = excluded.updated_by,
				revision = conversation_data.revision + 1
				WHERE conversation_data.workspace_id = excluded.workspace_id
				RETURNING *`
			args = append([]any{conversationID, ws}, fields...)
		case expectedRevision == 0:
			// The caller saw no data: only a first save may succeed.
			q = insert + ` ON CONFLICT (conversation_id) DO NOTHING RETURNING *`
			args = append([]any{conversationID, ws}, fields...)
		default:
			// The revision in the WHERE clause is the compare-and-set: of
			// two saves from the same revision, exactly one matches.
			q = `UPDATE conversation_data SET person_name = ?, email = ?, phone = ?, org_name = ?,
				org_address = ?, value = ?, currency = ?, expected_close = ?, notes = ?, updated_at = ?,
				updated_by = ?, revision = revision + 1
				WHERE workspace_id = ? AND conversation_id = ? AND revision = ?
				RETURNING *`
			args = append(fields, ws, conversationID, expectedRevision)
		}
		if err := tx.conn(ctx).Raw(q, args...).Scan(&rows).Error; err != nil {
			return mapError(err)
		}
		if len(rows) == 1 {
			out = &rows[0]
			return nil
		}
		cur, err := tx.GetConversationData(ctx, ws, conversationID)
		if err != nil {
			return err
		}
		return &ConflictError{Resource: "conversation data", Expected: expectedRevision, Current: cur.Revision}
	})
	if err != nil {
		return nil, wrap("save conversation data", err)
	}
	return out, nil
}

// textField is one free-text field to check, with its byte bound.
type textField struct {
	name, v string
	max     int
}

// checkLeadFields applies CreateLead's schema rules: an exact value both
// dialects keep, a real calendar date, and bounded valid text.
func checkLeadFields(value decimal.NullDecimal, expectedClose *Date, texts []textField) error {
	if err := checkValue(value); err != nil {
		return err
	}
	if expectedClose != nil && !expectedClose.valid() {
		return invalidf("expected close %s: not a calendar date", expectedClose)
	}
	for _, f := range texts {
		if err := checkText(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	return nil
}
