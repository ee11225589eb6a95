package storage

import (
	"context"
	"errors"
	"math"
	"time"
)

// Knowledge bounds. They are backstops: package knowledge bounds each field
// of the document much lower and names the faulty one.
const (
	// MaxKnowledgeBytes bounds a knowledge base document.
	MaxKnowledgeBytes = 4 << 20
	// MaxURLBytes bounds an answerer's base URL.
	MaxURLBytes = 2048
	// MaxSecretBytes bounds an answerer's API key.
	MaxSecretBytes = 4096
)

// Knowledge is an assistant's knowledge base: a JSON document whose shape
// package knowledge owns (storage only checks it is JSON), and a revision
// that goes up by one on every change. An assistant that never saved one
// has no row; its knowledge base is the pre-filled guidance, at revision 0.
type Knowledge struct {
	AssistantID string `gorm:"primaryKey"`
	WorkspaceID string
	Revision    int64
	Document    JSON
	UpdatedAt   time.Time
	UpdatedBy   string `gorm:"serializer:frontdesk_nullstring"`
}

// TableName is the knowledge_bases table.
func (Knowledge) TableName() string { return "knowledge_bases" }

// KnowledgeHead is what an answerer reads before every answer, in one
// query: the knowledge base's revision (0 when never saved), which keys its
// cached index, and the assistant's fields the answer and the pre-filled
// guidance depend on.
type KnowledgeHead struct {
	AssistantName   string
	DefaultLanguage string
	Languages       Strings
	Revision        int64
}

// GetKnowledgeHead returns the assistant's name, languages and knowledge
// revision, or ErrNotFound when the assistant is not in the workspace.
func (s *Store) GetKnowledgeHead(ctx context.Context, ws, assistantID string) (*KnowledgeHead, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var h KnowledgeHead
	err := s.conn(ctx).Raw(`SELECT a.name, a.default_language, a.languages, COALESCE(k.revision, 0)
		FROM assistants a LEFT JOIN knowledge_bases k ON k.assistant_id = a.id AND k.workspace_id = a.workspace_id
		WHERE a.workspace_id = ? AND a.id = ?`, ws, assistantID).
		Row().Scan(&h.AssistantName, &h.DefaultLanguage, &h.Languages, &h.Revision)
	if err != nil {
		return nil, wrap("get knowledge head", err)
	}
	return &h, nil
}

// GetKnowledge returns the assistant's saved knowledge base, or ErrNotFound
// when there is none (or the assistant is not in the workspace: check the
// assistant first to tell the two apart).
func (s *Store) GetKnowledge(ctx context.Context, ws, assistantID string) (*Knowledge, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var k Knowledge
	if err := s.conn(ctx).Where("workspace_id = ? AND assistant_id = ?", ws, assistantID).Take(&k).Error; err != nil {
		return nil, wrap("get knowledge", err)
	}
	return &k, nil
}

// SaveKnowledge replaces the knowledge base if its revision is still
// expectedRevision (0 for one never saved), and returns it at its new
// revision. When another change came first it returns a *ConflictError
// (errors.Is ErrConflict) whose Current is the revision now stored, and
// writes nothing. An assistant not in the workspace gives ErrNotFound.
func (s *Store) SaveKnowledge(ctx context.Context, ws, assistantID string, expectedRevision int64, doc JSON, updatedBy string) (*Knowledge, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	d, err := checkKnowledge(doc)
	if err != nil {
		return nil, err
	}
	var out *Knowledge
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "users", "user", ws, updatedBy); err != nil {
			return err
		}
		now := tx.now()
		var n int64
		if expectedRevision == 0 {
			// The first save creates the row; ON CONFLICT makes a second
			// first save lose like any stale one instead of failing the
			// transaction (Postgres aborts it on a unique violation).
			r := tx.conn(ctx).Exec(`INSERT INTO knowledge_bases (assistant_id, workspace_id, revision, document, updated_at, updated_by)
				SELECT id, workspace_id, 1, ?, ?, ? FROM assistants WHERE workspace_id = ? AND id = ?
				ON CONFLICT (assistant_id) DO NOTHING`, d, now, nullable(updatedBy), ws, assistantID)
			if r.Error != nil {
				return mapError(r.Error)
			}
			n = r.RowsAffected
		} else {
			// The revision in the WHERE clause is the compare-and-set.
			r := tx.conn(ctx).Exec(`UPDATE knowledge_bases SET revision = revision + 1, document = ?, updated_at = ?, updated_by = ?
				WHERE workspace_id = ? AND assistant_id = ? AND revision = ?`,
				d, now, nullable(updatedBy), ws, assistantID, expectedRevision)
			if r.Error != nil {
				return mapError(r.Error)
			}
			n = r.RowsAffected
		}
		if n == 0 {
			return tx.knowledgeConflict(ctx, ws, assistantID, expectedRevision)
		}
		out = &Knowledge{AssistantID: assistantID, WorkspaceID: ws, Revision: expectedRevision + 1,
			Document: d, UpdatedAt: now, UpdatedBy: updatedBy}
		return nil
	})
	if err != nil {
		return nil, wrap("save knowledge", err)
	}
	return out, nil
}

// knowledgeConflict explains a save that changed no row: the assistant is
// not there (ErrNotFound), or the stored revision is not the expected one.
func (s *Store) knowledgeConflict(ctx context.Context, ws, assistantID string, expected int64) error {
	cur, err := s.GetKnowledge(ctx, ws, assistantID)
	switch {
	case err == nil:
		return &ConflictError{Resource: "knowledge", Expected: expected, Current: cur.Revision}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	ok, err := s.exists(ctx, "assistants", ws, assistantID)
	if err != nil {
		return err
	}
	if !ok {
		return notFound("assistant " + assistantID)
	}
	return &ConflictError{Resource: "knowledge", Expected: expected, Current: 0}
}

// ReplaceKnowledge stores doc as the knowledge base whatever its revision
// (restoring the defaults is a deliberate overwrite), and returns it at its
// new revision. An assistant not in the workspace gives ErrNotFound.
func (s *Store) ReplaceKnowledge(ctx context.Context, ws, assistantID string, doc JSON, updatedBy string) (*Knowledge, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	d, err := checkKnowledge(doc)
	if err != nil {
		return nil, err
	}
	var out *Knowledge
	err = s.InTx(ctx, func(tx *Store) error {
		// Locking the assistant serializes replacements of one knowledge
		// base on Postgres, so update-else-insert cannot race into a
		// duplicate key; SQLite's immediate transaction already does.
		var a Assistant
		err := tx.conn(ctx).Clauses(forUpdate()).Select("id").
			Where("workspace_id = ? AND id = ?", ws, assistantID).Take(&a).Error
		if err != nil {
			if errors.Is(mapError(err), ErrNotFound) {
				return notFound("assistant " + assistantID)
			}
			return mapError(err)
		}
		if err := tx.needRef(ctx, "users", "user", ws, updatedBy); err != nil {
			return err
		}
		now := tx.now()
		r := tx.conn(ctx).Exec(`UPDATE knowledge_bases SET revision = revision + 1, document = ?, updated_at = ?, updated_by = ?
			WHERE workspace_id = ? AND assistant_id = ?`, d, now, nullable(updatedBy), ws, assistantID)
		if r.Error != nil {
			return mapError(r.Error)
		}
		if r.RowsAffected == 0 {
			k := &Knowledge{AssistantID: assistantID, WorkspaceID: ws, Revision: 1, Document: d, UpdatedAt: now, UpdatedBy: updatedBy}
			if err := tx.conn(ctx).Create(k).Error; err != nil {
				return mapError(err)
			}
			out = k
			return nil
		}
		out, err = tx.GetKnowledge(ctx, ws, assistantID)
		return err
	})
	if err != nil {
		return nil, wrap("replace knowledge", err)
	}
	return out, nil
}

func checkKnowledge(doc JSON) (JSON, error) {
	d, err := checkJSON("knowledge", doc, "", MaxKnowledgeBytes)
	if err != nil {
		return nil, err
	}
	if d == nil {
		return nil, invalidf("knowledge is empty")
	}
	return d, nil
}

// The answerer modes storage accepts.
const (
	AnswererBuiltin = "builtin"
	AnswererOpenAI  = "openai"
)

// AnswererSettings is which answerer a workspace's llm_answer nodes use,
// with the endpoint of an OpenAI-compatible one. Package knowledge owns the
// defaults and the rules; storage keeps the row within the schema.
type AnswererSettings struct {
	WorkspaceID  string    `gorm:"column:workspace_id;primaryKey"`
	Mode         string    `gorm:"column:mode"`
	BaseURL      string    `gorm:"column:base_url"`
	Model        string    `gorm:"column:model"`
	APIKey       string    `gorm:"column:api_key"`
	MaxTokens    int       `gorm:"column:max_tokens"`
	TimeoutMS    int       `gorm:"column:timeout_ms"`
	Threshold    float64   `gorm:"column:threshold"`
	Stream       bool      `gorm:"column:stream"`
	HandoverTool bool      `gorm:"column:handover_tool"`
	UpdatedAt    time.Time `gorm:"column:updated_at"`
	UpdatedBy    string    `gorm:"column:updated_by;serializer:frontdesk_nullstring"`
}

// TableName is the answerer_settings table.
func (AnswererSettings) TableName() string { return "answerer_settings" }

// GetAnswererSettings returns the workspace's answerer settings, or
// ErrNotFound when it never saved any (the caller applies its defaults).
func (s *Store) GetAnswererSettings(ctx context.Context, ws string) (*AnswererSettings, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var a AnswererSettings
	if err := s.conn(ctx).Where("workspace_id = ?", ws).Take(&a).Error; err != nil {
		return nil, wrap("get answerer settings", err)
	}
	return &a, nil
}

// SaveAnswererSettings replaces the workspace's answerer settings (last
// write wins) and returns them. WorkspaceID and UpdatedAt in the input are
// ignored.
func (s *Store) SaveAnswererSettings(ctx context.Context, ws string, in AnswererSettings) (*AnswererSettings, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	switch in.Mode {
	case AnswererBuiltin, AnswererOpenAI:
	default:
		return nil, invalidf("answerer mode %q: want %s or %s", in.Mode, AnswererBuiltin, AnswererOpenAI)
	}
	if err := checkText("base url", in.BaseURL, MaxURLBytes); err != nil {
		return nil, err
	}
	if err := checkText("model", in.Model, MaxNameBytes); err != nil {
		return nil, err
	}
	if err := checkText("api key", in.APIKey, MaxSecretBytes); err != nil {
		return nil, err
	}
	if in.MaxTokens <= 0 || in.TimeoutMS <= 0 {
		return nil, invalidf("answerer max tokens and timeout must be positive")
	}
	if math.IsNaN(in.Threshold) || in.Threshold < 0 || in.Threshold > 1 {
		return nil, invalidf("answerer threshold must be within [0, 1]")
	}
	if err := s.needRef(ctx, "users", "user", ws, in.UpdatedBy); err != nil {
		return nil, wrap("save answerer settings", err)
	}
	// One statement, so two concurrent first saves cannot both insert.
	const q = `INSERT INTO answerer_settings (workspace_id, mode, base_url, model, api_key, max_tokens, timeout_ms,
		threshold, stream, handover_tool, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (workspace_id) DO UPDATE SET
		mode = excluded.mode, base_url = excluded.base_url, model = excluded.model, api_key = excluded.api_key,
		max_tokens = excluded.max_tokens, timeout_ms = excluded.timeout_ms, threshold = excluded.threshold,
		stream = excluded.stream, handover_tool = excluded.handover_tool, updated_at = excluded.updated_at,
		updated_by = excluded.updated_by
		RETURNING *`
	var rows []AnswererSettings
	err := s.conn(ctx).Raw(q, ws, in.Mode, in.BaseURL, in.Model, in.APIKey, in.MaxTokens, in.TimeoutMS,
		in.Threshold, in.Stream, in.HandoverTool, s.now(), nullable(in.UpdatedBy)).Scan(&rows).Error
	if err != nil {
		return nil, wrap("save answerer settings", err)
	}
	if len(rows) != 1 {
		return nil, wrap("save answerer settings", errors.New("the upsert returned no row"))
	}
	return &rows[0], nil
}
