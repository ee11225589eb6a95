package storage_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// pngBytes is a PNG signature followed by bytes no text column would keep:
// NUL, invalid UTF-8, every byte value.
func pngBytes() []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	for i := range 512 {
		b = append(b, byte(i))
	}
	return b
}

func TestAttachmentsRoundTripByteForByte(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		data := pngBytes()
		a, err := s.CreateAttachment(ctx, b.ws, storage.NewAttachment{
			ConversationID: c.ID, UploaderKind: storage.UploaderVisitor, UploaderID: c.VisitorID,
			ContentType: storage.ContentTypePNG, FileName: "cat photo.png", Data: data,
		})
		require.NoError(t, err)
		sum := sha256.Sum256(data)
		require.Equal(t, hex.EncodeToString(sum[:]), a.SHA256)
		require.Equal(t, int64(len(data)), a.Size)

		got, err := s.GetAttachment(ctx, b.ws, a.ID)
		require.NoError(t, err)
		require.True(t, bytes.Equal(data, got.Data), "the bytes come back unchanged")
		require.Equal(t, a.SHA256, got.SHA256)
		require.Equal(t, storage.ContentTypePNG, got.ContentType)
		require.Equal(t, "cat photo.png", got.FileName)
		require.Equal(t, storage.UploaderVisitor, got.UploaderKind)
		require.Equal(t, c.ID, got.ConversationID)
		require.Equal(t, a.CreatedAt, got.CreatedAt)

		_, err = s.CreateAttachment(ctx, b.ws, storage.NewAttachment{
			ConversationID: c.ID, UploaderKind: storage.UploaderAgent, UploaderID: b.agent.ID,
			ContentType: storage.ContentTypePDF, FileName: "quote.pdf", Data: []byte("%PDF-1.7\n%%EOF\n"),
		})
		require.NoError(t, err)
		list, err := s.ListAttachments(ctx, b.ws, c.ID, 0)
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Equal(t, a.ID, list[0].ID, "oldest first")
		require.Nil(t, list[0].Data, "lists leave the data out")
		require.Equal(t, a.Size, list[0].Size)

		n, total, err := s.AttachmentUsage(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(2), n)
		require.Equal(t, a.Size+int64(len("%PDF-1.7\n%%EOF\n")), total)
	})
}

func TestAttachmentsRefuseBadInput(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		ok := storage.NewAttachment{
			ConversationID: c.ID, UploaderKind: storage.UploaderAgent, UploaderID: b.agent.ID,
			ContentType: storage.ContentTypePNG, FileName: "a.png", Data: pngBytes(),
		}
		for name, mutate := range map[string]func(*storage.NewAttachment){
			"svg":            func(a *storage.NewAttachment) { a.ContentType = "image/svg+xml" },
			"html":           func(a *storage.NewAttachment) { a.ContentType = "text/html" },
			"empty type":     func(a *storage.NewAttachment) { a.ContentType = "" },
			"empty data":     func(a *storage.NewAttachment) { a.Data = nil },
			"too large":      func(a *storage.NewAttachment) { a.Data = make([]byte, storage.MaxAttachmentBytes+1) },
			"path":           func(a *storage.NewAttachment) { a.FileName = "../../etc/passwd" },
			"backslash":      func(a *storage.NewAttachment) { a.FileName = `..\boot.ini` },
			"control":        func(a *storage.NewAttachment) { a.FileName = "a\r\nb.png" },
			"empty name":     func(a *storage.NewAttachment) { a.FileName = "" },
			"long name":      func(a *storage.NewAttachment) { a.FileName = strings.Repeat("é", 201) },
			"uploader kind":  func(a *storage.NewAttachment) { a.UploaderKind = "bot" },
			"no uploader id": func(a *storage.NewAttachment) { a.UploaderID = "" },
		} {
			in := ok
			mutate(&in)
			_, err := s.CreateAttachment(ctx, b.ws, in)
			require.ErrorIs(t, err, storage.ErrInvalid, name)
		}
		other, err := s.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, err = s.CreateAttachment(ctx, other.ID, ok)
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's conversation")
		_, err = s.CreateAttachment(ctx, "", ok)
		require.ErrorIs(t, err, storage.ErrInvalid)

		a, err := s.CreateAttachment(ctx, b.ws, ok)
		require.NoError(t, err)
		_, err = s.GetAttachment(ctx, other.ID, a.ID)
		require.ErrorIs(t, err, storage.ErrNotFound, "another tenant's attachment")
		_, err = s.ListAttachments(ctx, other.ID, c.ID, 0)
		require.ErrorIs(t, err, storage.ErrNotFound)
		n, _, err := s.AttachmentUsage(ctx, b.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), n, "no refused upload was stored")
	})
}

func TestAttachmentsAreImmutable(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		b := setup(t, s)
		c := b.conversation(t, storage.StatusBot)
		a, err := s.CreateAttachment(ctx, b.ws, storage.NewAttachment{
			ConversationID: c.ID, UploaderKind: storage.UploaderAgent, UploaderID: b.agent.ID,
			ContentType: storage.ContentTypePNG, FileName: "a.png", Data: pngBytes(),
		})
		require.NoError(t, err)
		// Straight through the pool: the schema itself refuses the change.
		_, err = s.DB().ExecContext(ctx, `UPDATE attachments SET content_type = 'application/pdf'`)
		require.Error(t, err)
		got, err := s.GetAttachment(ctx, b.ws, a.ID)
		require.NoError(t, err)
		require.Equal(t, storage.ContentTypePNG, got.ContentType)
	})
}

func TestCleanFileName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"report.pdf":                  "report.pdf",
		"../../etc/passwd":            "passwd",
		`C:\Users\eve\cat.png`:        "cat.png",
		"a\r\nb.png":                  "ab.png",
		"evil\u202egnp.exe":           "evilgnp.exe",
		"  ..hidden.png ":             "hidden.png",
		". .x":                        "x",
		"":                            "file",
		"..":                          "file",
		"/":                           "file",
		"nul\x00.png":                 "nul.png",
		"bad\xffutf8.png":             "badutf8.png",
		"<script>alert(1)</script>.p": "script>.p",
		"日本語.png":                     "日本語.png",
	} {
		got := storage.CleanFileName(in)
		require.Equal(t, want, got, "CleanFileName(%q)", in)
		require.Equal(t, got, storage.CleanFileName(got), "idempotent on %q", in)
	}
	long := storage.CleanFileName(strings.Repeat("é", 300) + ".png")
	require.Equal(t, storage.MaxAttachmentNameRunes, len([]rune(long)))
}
