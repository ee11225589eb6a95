package storage

import (
	"context"
	"time"
)

// Draft is an assistant's working graph. Revision goes up by one on every
// save; a save names the revision it was based on, so two editors cannot
// silently overwrite each other.
type Draft struct {
	AssistantID string `gorm:"primaryKey"`
	WorkspaceID string
	Revision    int64
	Graph       JSON
	UpdatedAt   time.Time
	UpdatedBy   string `gorm:"serializer:frontdesk_nullstring"`
}

// TableName is the drafts table.
func (Draft) TableName() string { return "drafts" }

// GetDraft returns the assistant's draft, or ErrNotFound.
func (s *Store) GetDraft(ctx context.Context, ws, assistantID string) (*Draft, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var d Draft
	if err := s.conn(ctx).Where("workspace_id = ? AND assistant_id = ?", ws, assistantID).Take(&d).Error; err != nil {
		return nil, wrap("get draft", err)
	}
	return &d, nil
}

// SaveDraft replaces the draft's graph if its revision is still
// expectedRevision, and returns the draft at its new revision. When another
// save came first it returns a *ConflictError (errors.Is ErrConflict) whose
// Current is the revision now stored; nothing is written.
func (s *Store) SaveDraft(ctx context.Context, ws, assistantID string, expectedRevision int64, graph JSON, updatedBy string) (*Draft, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	g, err := checkJSON("graph", graph, "", MaxGraphBytes)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, invalidf("graph is empty")
	}
	var out *Draft
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "users", "user", ws, updatedBy); err != nil {
			return err
		}
		now := tx.now()
		// The revision in the WHERE clause is the compare-and-set: of two
		// saves from the same revision, the database lets exactly one match.
		res := tx.conn(ctx).Exec(`UPDATE drafts SET revision = revision + 1, graph = ?, updated_at = ?, updated_by = ?
			WHERE workspace_id = ? AND assistant_id = ? AND revision = ?`,
			g, now, nullable(updatedBy), ws, assistantID, expectedRevision)
		if res.Error != nil {
			return mapError(res.Error)
		}
		if res.RowsAffected == 0 {
			cur, err := tx.GetDraft(ctx, ws, assistantID)
			if err != nil {
				return err
			}
			return &ConflictError{Resource: "draft", Expected: expectedRevision, Current: cur.Revision}
		}
		out = &Draft{AssistantID: assistantID, WorkspaceID: ws, Revision: expectedRevision + 1,
			Graph: g, UpdatedAt: now, UpdatedBy: updatedBy}
		return nil
	})
	if err != nil {
		return nil, wrap("save draft", err)
	}
	return out, nil
}
