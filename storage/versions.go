package storage

import (
	"context"
	"time"
)

// Version is a published, immutable graph: version Number of an assistant.
// There is no method to change one, and the schema refuses UPDATEs on the
// table. Rolling back publishes an old graph again as a new number.
type Version struct {
	ID          string
	WorkspaceID string
	AssistantID string
	// Number counts from 1 per assistant.
	Number int
	// Graph is the frozen graph. List methods leave it nil to keep pages
	// small; Get methods load it.
	Graph       JSON
	PublishedAt time.Time
	PublishedBy string `gorm:"serializer:frontdesk_nullstring"`
}

// TableName is the versions table.
func (Version) TableName() string { return "versions" }

// versionListColumns is every column but the graph.
const versionListColumns = "id, workspace_id, assistant_id, number, published_at, published_by"

// PublishVersion freezes graph as the assistant's next version number. The
// caller checks the graph first; it passes the draft's graph to publish, or
// an old version's graph to roll back. Concurrent publishes of one assistant
// get consecutive numbers.
func (s *Store) PublishVersion(ctx context.Context, ws, assistantID string, graph JSON, publishedBy string) (*Version, error) {
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
	var v *Version
	err = s.InTx(ctx, func(tx *Store) error {
		// Lock the assistant so two publishers cannot read the same highest
		// number (Postgres); SQLite's immediate transaction already
		// serializes them.
		var a Assistant
		err := tx.conn(ctx).Clauses(forUpdate()).Select("id").
			Where("workspace_id = ? AND id = ?", ws, assistantID).Take(&a).Error
		if err != nil {
			return mapError(err)
		}
		if err := tx.needRef(ctx, "users", "user", ws, publishedBy); err != nil {
			return err
		}
		var next int
		err = tx.conn(ctx).Table("versions").Select("COALESCE(MAX(number), 0) + 1").
			Where("assistant_id = ?", assistantID).Scan(&next).Error
		if err != nil {
			return mapError(err)
		}
		v = &Version{ID: newID(), WorkspaceID: ws, AssistantID: assistantID, Number: next,
			Graph: g, PublishedAt: tx.now(), PublishedBy: publishedBy}
		return mapError(tx.conn(ctx).Create(v).Error)
	})
	if err != nil {
		return nil, wrap("publish version", err)
	}
	return v, nil
}

// ListVersions returns the assistant's versions, newest first, without
// their graphs. An unknown assistant gives ErrNotFound.
func (s *Store) ListVersions(ctx context.Context, ws, assistantID string, limit int) ([]Version, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needRef(ctx, "assistants", "assistant", ws, assistantID); err != nil {
		return nil, err
	}
	var out []Version
	err := s.conn(ctx).Select(versionListColumns).
		Where("workspace_id = ? AND assistant_id = ?", ws, assistantID).
		Order("number DESC").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list versions", err)
	}
	return out, nil
}

// GetVersion returns a version by id, with its graph.
func (s *Store) GetVersion(ctx context.Context, ws, id string) (*Version, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var v Version
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&v).Error; err != nil {
		return nil, wrap("get version", err)
	}
	return &v, nil
}

// GetVersionByNumber returns version number n of the assistant, with its
// graph.
func (s *Store) GetVersionByNumber(ctx context.Context, ws, assistantID string, n int) (*Version, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var v Version
	err := s.conn(ctx).Where("workspace_id = ? AND assistant_id = ? AND number = ?", ws, assistantID, n).Take(&v).Error
	if err != nil {
		return nil, wrap("get version by number", err)
	}
	return &v, nil
}

// LatestVersion returns the assistant's highest-numbered version, the live
// one, without its graph (GetVersion loads it): every conversation start
// asks, and the runtime compiles a version once; ErrNotFound if it has
// never been published.
func (s *Store) LatestVersion(ctx context.Context, ws, assistantID string) (*Version, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var v Version
	err := s.conn(ctx).Select(versionListColumns).Where("workspace_id = ? AND assistant_id = ?", ws, assistantID).
		Order("number DESC").Limit(1).Take(&v).Error
	if err != nil {
		return nil, wrap("latest version", err)
	}
	return &v, nil
}
