package storage

import (
	"context"
	"time"
)

// MaxTranscriptTests bounds the transcript tests of one assistant.
const MaxTranscriptTests = 200

// TranscriptTest is a saved preview chat: visitor inputs with the bot
// messages and node path they produced, replayed against the draft before
// publishing. Body is a playbooks transcript document.
type TranscriptTest struct {
	ID          string
	WorkspaceID string
	AssistantID string
	Name        string
	Body        JSON
	CreatedAt   time.Time
	CreatedBy   string `gorm:"serializer:frontdesk_nullstring"`
}

// TableName is the transcript_tests table.
func (TranscriptTest) TableName() string { return "transcript_tests" }

// SaveTranscriptTest stores a transcript test under a name unique per
// assistant (ErrDuplicate when taken). An assistant holds at most
// MaxTranscriptTests.
func (s *Store) SaveTranscriptTest(ctx context.Context, ws, assistantID, name string, body JSON, by string) (*TranscriptTest, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := checkText("name", name, MaxNameBytes); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, invalidf("name is empty")
	}
	b, err := checkJSON("body", body, "", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	var t *TranscriptTest
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "assistants", "assistant", ws, assistantID); err != nil {
			return err
		}
		var n int64
		if err := tx.conn(ctx).Model(&TranscriptTest{}).Where("workspace_id = ? AND assistant_id = ?", ws, assistantID).Count(&n).Error; err != nil {
			return mapError(err)
		}
		if n >= MaxTranscriptTests {
			return invalidf("the assistant has %d transcript tests; the limit is %d", n, MaxTranscriptTests)
		}
		t = &TranscriptTest{ID: newID(), WorkspaceID: ws, AssistantID: assistantID, Name: name, Body: b, CreatedAt: tx.now(), CreatedBy: by}
		return mapError(tx.conn(ctx).Create(t).Error)
	})
	if err != nil {
		return nil, wrap("save transcript test", err)
	}
	return t, nil
}

// ListTranscriptTests returns an assistant's transcript tests, by name.
func (s *Store) ListTranscriptTests(ctx context.Context, ws, assistantID string) ([]TranscriptTest, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needRef(ctx, "assistants", "assistant", ws, assistantID); err != nil {
		return nil, err
	}
	var out []TranscriptTest
	err := s.conn(ctx).Where("workspace_id = ? AND assistant_id = ?", ws, assistantID).
		Order("name").Limit(MaxTranscriptTests).Find(&out).Error
	if err != nil {
		return nil, wrap("list transcript tests", err)
	}
	return out, nil
}

// DeleteTranscriptTest deletes one; ErrNotFound when it is not the
// assistant's.
func (s *Store) DeleteTranscriptTest(ctx context.Context, ws, assistantID, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Where("workspace_id = ? AND assistant_id = ? AND id = ?", ws, assistantID, id).Delete(&TranscriptTest{})
	if res.Error != nil {
		return wrap("delete transcript test", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("transcript test " + id)
	}
	return nil
}
