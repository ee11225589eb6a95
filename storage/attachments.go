package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode"
)

// UploaderKind says who sent an attachment.
type UploaderKind string

// The uploader kinds.
const (
	UploaderVisitor UploaderKind = "visitor"
	UploaderAgent   UploaderKind = "agent"
)

// The content types an attachment may have. They are the types browsers
// never run script from; SVG and HTML are left out on purpose. The schema
// holds the same list in a CHECK.
const (
	ContentTypePNG  = "image/png"
	ContentTypeJPEG = "image/jpeg"
	ContentTypeGIF  = "image/gif"
	ContentTypeWebP = "image/webp"
	ContentTypePDF  = "application/pdf"
)

// AttachmentContentTypes lists the allowed content types.
var AttachmentContentTypes = []string{ContentTypePNG, ContentTypeJPEG, ContentTypeGIF, ContentTypeWebP, ContentTypePDF}

// Attachment bounds. They are backstops: the API refuses oversized uploads
// earlier, with its own (possibly smaller) limit.
const (
	// MaxAttachmentBytes bounds one file.
	MaxAttachmentBytes = 5 << 20
	// MaxAttachmentNameRunes bounds a file name.
	MaxAttachmentNameRunes = 200
)

// Attachment is a file sent in a conversation. It lives in the database so
// that every node of a cluster can serve it. ContentType is what the bytes
// were sniffed as, never what the client said. Attachments are immutable.
type Attachment struct {
	ID             string
	WorkspaceID    string
	ConversationID string
	UploaderKind   UploaderKind
	// UploaderID is the visitor id or the agent's user id.
	UploaderID  string
	ContentType string
	Size        int64
	// SHA256 is the hex digest of Data.
	SHA256   string `gorm:"column:sha256"`
	FileName string
	// Data is the file; list methods leave it empty.
	Data      []byte
	CreatedAt time.Time
}

// TableName is the attachments table.
func (Attachment) TableName() string { return "attachments" }

// NewAttachment is the input of CreateAttachment. Size and digest are
// computed from Data, so they cannot disagree with it.
type NewAttachment struct {
	ConversationID string
	UploaderKind   UploaderKind
	UploaderID     string
	// ContentType must be one of AttachmentContentTypes; the caller sniffs
	// it from Data.
	ContentType string
	// FileName must already be clean: see CleanFileName.
	FileName string
	Data     []byte
}

// CreateAttachment stores a file of a conversation of the workspace. It
// does not look at the conversation's status: callers that must refuse
// closed or preview chats lock the conversation and check in the same
// transaction (InTx), then append the message that shows the file.
func (s *Store) CreateAttachment(ctx context.Context, ws string, in NewAttachment) (*Attachment, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("conversation id", in.ConversationID); err != nil {
		return nil, err
	}
	if in.UploaderKind != UploaderVisitor && in.UploaderKind != UploaderAgent {
		return nil, invalidf("uploader kind %q: want visitor or agent", in.UploaderKind)
	}
	if err := needID("uploader id", in.UploaderID); err != nil {
		return nil, err
	}
	if err := checkText("uploader id", in.UploaderID, MaxNameBytes); err != nil {
		return nil, err
	}
	if !allowedAttachmentType(in.ContentType) {
		return nil, invalidf("content type %q: want one of %s", in.ContentType, strings.Join(AttachmentContentTypes, ", "))
	}
	if len(in.Data) == 0 {
		return nil, invalidf("attachment is empty")
	}
	if len(in.Data) > MaxAttachmentBytes {
		return nil, invalidf("attachment: %d bytes is over the %d byte limit", len(in.Data), MaxAttachmentBytes)
	}
	if in.FileName == "" || CleanFileName(in.FileName) != in.FileName {
		return nil, invalidf("file name %q: not a clean file name", in.FileName)
	}
	sum := sha256.Sum256(in.Data)
	a := &Attachment{
		ID: newID(), WorkspaceID: ws, ConversationID: in.ConversationID, UploaderKind: in.UploaderKind,
		UploaderID: in.UploaderID, ContentType: in.ContentType, Size: int64(len(in.Data)),
		SHA256: hex.EncodeToString(sum[:]), FileName: in.FileName, Data: in.Data, CreatedAt: s.now(),
	}
	// The composite foreign key refuses another tenant's conversation in
	// the same statement (ErrNotFound).
	if err := s.conn(ctx).Create(a).Error; err != nil {
		return nil, wrap("create attachment", err)
	}
	return a, nil
}

// GetAttachment returns the attachment with its data, or ErrNotFound.
func (s *Store) GetAttachment(ctx context.Context, ws, id string) (*Attachment, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var a Attachment
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&a).Error; err != nil {
		return nil, wrap("get attachment", err)
	}
	return &a, nil
}

// ListAttachments returns the conversation's attachments without their
// data, oldest first. Another workspace's conversation gives ErrNotFound.
func (s *Store) ListAttachments(ctx context.Context, ws, conversationID string, limit int) ([]Attachment, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := s.needConversation(ctx, ws, conversationID); err != nil {
		return nil, wrap("list attachments", err)
	}
	var out []Attachment
	err := s.conn(ctx).Select("id, workspace_id, conversation_id, uploader_kind, uploader_id, content_type, size, sha256, file_name, created_at").
		Where("workspace_id = ? AND conversation_id = ?", ws, conversationID).
		Order("created_at, id").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list attachments", err)
	}
	return out, nil
}

// AttachmentUsage returns how many attachments a conversation has and their
// total size, so callers can hold a conversation to a quota.
func (s *Store) AttachmentUsage(ctx context.Context, ws, conversationID string) (count, bytes int64, err error) {
	if err := needWorkspace(ws); err != nil {
		return 0, 0, err
	}
	var row struct {
		N     int64
		Total int64
	}
	err = s.conn(ctx).Raw(`SELECT count(*) AS n, COALESCE(sum(size), 0) AS total FROM attachments
		WHERE workspace_id = ? AND conversation_id = ?`, ws, conversationID).Scan(&row).Error
	if err != nil {
		return 0, 0, wrap("attachment usage", err)
	}
	return row.N, row.Total, nil
}

func allowedAttachmentType(ct string) bool {
	for _, t := range AttachmentContentTypes {
		if ct == t {
			return true
		}
	}
	return false
}

// CleanFileName makes a client's file name safe to store and to put in a
// header: the last path element only (no / or \), no control, format or
// bidi characters, no leading dots or surrounding spaces, valid UTF-8, at
// most MaxAttachmentNameRunes runes. What is left empty becomes "file".
func CleanFileName(name string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	n := 0
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) || r == unicode.ReplacementChar {
			continue
		}
		if n == MaxAttachmentNameRunes {
			break
		}
		b.WriteRune(r)
		n++
	}
	// Leading dots would make a hidden file or "..", and surrounding
	// spaces are invisible in the transcript.
	out := strings.TrimLeftFunc(b.String(), func(r rune) bool { return r == '.' || unicode.IsSpace(r) })
	out = strings.TrimRightFunc(out, unicode.IsSpace)
	if out == "" {
		return "file"
	}
	return out
}
