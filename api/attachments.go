package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// Attachment bounds.
const (
	// DefaultMaxAttachmentBytes bounds one file unless
	// AttachmentRoutes.MaxBytes says less.
	DefaultMaxAttachmentBytes = storage.MaxAttachmentBytes
	// MaxAttachmentsPerConversation and MaxAttachmentBytesPerConversation
	// bound what one conversation holds, so that a visitor cannot fill the
	// database through one widget.
	MaxAttachmentsPerConversation     = 50
	MaxAttachmentBytesPerConversation = 100 << 20
	// attachmentEnvelopeBytes is the room a multipart body needs beyond the
	// file: boundaries and part headers.
	attachmentEnvelopeBytes = 64 << 10
	// attachmentMaxParts bounds the parts read from a multipart body.
	attachmentMaxParts = 8
)

// attachmentCSP forbids everything to a served file: should a browser ever
// render one as a document, it runs no script and loads nothing.
const attachmentCSP = "default-src 'none'; sandbox"

// AttachmentRoutes serves files sent in conversations: images (PNG, JPEG,
// GIF, WebP) and PDF. A file's type is sniffed from its bytes; the file
// name and the client's Content-Type are ignored, and types that can carry
// script (SVG, HTML) are refused. Files live in the database, so every node
// serves them. Each upload adds a message to the conversation, published
// after the commit.
//
// Agents use the huma operations (Register): upload to a conversation they
// have (admins: any), download from a conversation they may see. Visitors
// use the plain fiber routes (Mount), authorized like the visitor socket:
// the channel key, the Origin on its allow-list, and the visitor token.
type AttachmentRoutes struct {
	// Store is the database.
	Store *storage.Store
	// Publisher fans the upload's message out after the commit; nil
	// publishes nothing (clients catch up from the database by seq).
	Publisher chat.Publisher
	// Tokens verifies visitor tokens; the visitor routes need it.
	Tokens *chat.TokenSigner
	// Now is the clock for visitor tokens. Defaults to time.Now.
	Now func() time.Time
	// Logger defaults to slog.Default.
	Logger *slog.Logger
	// PublicURL is this server's URL, for the chat frame's requests (see
	// Widget.pageOrigin).
	PublicURL string
	// MaxBytes bounds one file. Zero, or more than DefaultMaxAttachmentBytes
	// (the storage backstop), means DefaultMaxAttachmentBytes.
	MaxBytes int64
}

func (r *AttachmentRoutes) maxBytes() int64 {
	if r.MaxBytes <= 0 || r.MaxBytes > DefaultMaxAttachmentBytes {
		return DefaultMaxAttachmentBytes
	}
	return r.MaxBytes
}

func (r *AttachmentRoutes) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *AttachmentRoutes) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// Register adds the agents' operations to api.
func (r *AttachmentRoutes) Register(api huma.API) {
	op := routeOp("uploadAttachment", http.MethodPost, "/api/v1/conversations/{id}/attachments", "Send a file in a conversation",
		AccessAgent, http.StatusCreated, r.maxBytes()+attachmentEnvelopeBytes)
	op.Description = fmt.Sprintf("Sends an image (PNG, JPEG, GIF, WebP) or a PDF of at most %d bytes, as multipart/form-data (a part named file) "+
		"or as the raw body with ?name=. The type is sniffed from the bytes: the name and the Content-Type are ignored, and anything else, "+
		"SVG and HTML included, is refused with 415. The conversation must be assigned to you (admins: any), not closed (409) and not a "+
		"preview. The file shows in the conversation as a message.", r.maxBytes())
	op.Errors = append(op.Errors, http.StatusConflict, http.StatusUnsupportedMediaType)
	op.RequestBody = &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"multipart/form-data": {Schema: &huma.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*huma.Schema{
			"file": {Type: "string", Format: "binary", Description: "The file; its part's file name is kept, cleaned."},
		}}},
	}}
	// The body is a file, never decoded by huma: with the multipart schema
	// above, huma would otherwise try to unmarshal it by its Content-Type.
	op.SkipValidateBody = true
	huma.Register(api, op, r.agentUpload)

	op = routeOp("getAttachment", http.MethodGet, "/api/v1/attachments/{id}", "Download a file sent in a conversation", AccessAgent, 0, 0)
	op.Tags = []string{"Conversations"}
	op.Description = "Returns the file with its sniffed Content-Type, as a download (Content-Disposition: attachment), with nosniff and a " +
		"sandboxing Content-Security-Policy. A file of a conversation you may not see is not found."
	op.Responses = map[string]*huma.Response{"200": {
		Description: "The file.",
		Content: map[string]*huma.MediaType{
			storage.ContentTypePNG:  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			storage.ContentTypeJPEG: {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			storage.ContentTypeGIF:  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			storage.ContentTypeWebP: {Schema: &huma.Schema{Type: "string", Format: "binary"}},
			storage.ContentTypePDF:  {Schema: &huma.Schema{Type: "string", Format: "binary"}},
		},
	}}
	huma.Register(api, op, r.agentDownload)
}

// Mount adds the visitors' routes to the app. They are plain fiber
// handlers, like the widget's, outside the OpenAPI document.
func (r *AttachmentRoutes) Mount(app *fiber.App) {
	app.Options("/api/v1/widget/attachments", r.preflight)
	app.Post("/api/v1/widget/attachments", r.visitorUpload)
	app.Options("/api/v1/widget/attachments/:id", r.preflight)
	app.Get("/api/v1/widget/attachments/:id", r.visitorDownload)
}

// attachmentView describes a stored file.
type attachmentView struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id"`
	Name           string    `json:"name" doc:"The cleaned file name. It is data: render it escaped."`
	ContentType    string    `json:"content_type" doc:"The type sniffed from the bytes."`
	Size           int64     `json:"size"`
	SHA256         string    `json:"sha256"`
	UploaderKind   string    `json:"uploader_kind" enum:"visitor,agent"`
	CreatedAt      time.Time `json:"created_at"`
}

func newAttachmentView(a *storage.Attachment) attachmentView {
	return attachmentView{
		ID: a.ID, ConversationID: a.ConversationID, Name: a.FileName, ContentType: a.ContentType,
		Size: a.Size, SHA256: a.SHA256, UploaderKind: string(a.UploaderKind), CreatedAt: a.CreatedAt,
	}
}

// attachmentMessagePayload is what the message showing a file carries; the
// message body is the file name.
type attachmentMessagePayload struct {
	Attachment struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		ContentType string `json:"content_type"`
		Size        int64  `json:"size"`
	} `json:"attachment"`
	AuthorName string `json:"author_name,omitempty"`
}

// --- Reading and sniffing an upload ---

// attachmentSignatures are the magic bytes each allowed type must start
// with, checked on top of http.DetectContentType so that both agree.
var attachmentSignatures = map[string][][]byte{
	storage.ContentTypePNG:  {[]byte("\x89PNG\r\n\x1a\n")},
	storage.ContentTypeJPEG: {[]byte("\xff\xd8\xff")},
	storage.ContentTypeGIF:  {[]byte("GIF87a"), []byte("GIF89a")},
	storage.ContentTypePDF:  {[]byte("%PDF-")},
}

// attachmentSniff returns the type of data if it is one of the allowed
// ones. Only the bytes count: a PNG named evil.pdf is a PNG, and an HTML
// page named cat.png is refused.
func attachmentSniff(data []byte) (string, bool) {
	ct, _, _ := strings.Cut(http.DetectContentType(data), ";")
	switch ct {
	case storage.ContentTypeWebP:
		// RIFF, a 4-byte length, then WEBP.
		return ct, len(data) >= 12 && bytes.HasPrefix(data, []byte("RIFF")) && string(data[8:12]) == "WEBP"
	case storage.ContentTypePNG, storage.ContentTypeJPEG, storage.ContentTypeGIF, storage.ContentTypePDF:
		for _, sig := range attachmentSignatures[ct] {
			if bytes.HasPrefix(data, sig) {
				return ct, true
			}
		}
	}
	return "", false
}

func attachmentUnsupported() *Problem {
	return problem(http.StatusUnsupportedMediaType, "unsupported_type",
		"only PNG, JPEG, GIF and WebP images and PDF documents can be sent; the type is read from the file's content")
}

func attachmentTooLarge(max int64) *Problem {
	return problem(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("a file may have at most %d bytes", max))
}

// attachmentRead takes the file out of a request body: the part named
// "file" (or the first part with a file name) of a multipart/form-data
// body, or else the raw body, named by the name query parameter. The
// returned name is cleaned; the data is bounded by max.
func attachmentRead(contentType string, body []byte, name string, max int64) (string, []byte, *Problem) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	data := body
	if mediaType == "multipart/form-data" {
		boundary := params["boundary"]
		if boundary == "" {
			return "", nil, invalid("the multipart body has no boundary", fieldError("body", "multipart/form-data needs a boundary", nil))
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		found := false
		for i := 0; i < attachmentMaxParts && !found; i++ {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return "", nil, invalid("the multipart body is malformed", fieldError("body", err.Error(), nil))
			}
			if part.FormName() != "file" && part.FileName() == "" {
				continue
			}
			data, err = io.ReadAll(io.LimitReader(part, max+1))
			if err != nil {
				return "", nil, invalid("the multipart body is malformed", fieldError("body.file", err.Error(), nil))
			}
			if part.FileName() != "" {
				name = part.FileName()
			}
			found = true
		}
		if !found {
			return "", nil, invalid("no file in the body", fieldError("body.file", "send the file in a part named file", nil))
		}
	}
	if int64(len(data)) > max {
		return "", nil, attachmentTooLarge(max)
	}
	if len(data) == 0 {
		return "", nil, invalid("the file is empty", fieldError("body.file", "the file is empty", nil))
	}
	return storage.CleanFileName(name), data, nil
}

// attachmentDisposition makes the download header: always an attachment
// (a PDF is never shown inline), with the name in RFC 5987 form so that
// no character of it can break out of the header.
func attachmentDisposition(name string) string {
	var b strings.Builder
	b.WriteString("attachment; filename*=UTF-8''")
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// --- Storing an upload ---

// attachmentUpload is one file to store in a conversation.
type attachmentUpload struct {
	ws, conversationID string
	// check refuses a conversation the uploader may not send to; it runs
	// on the locked row.
	check       func(*storage.Conversation) error
	kind        storage.UploaderKind
	uploaderID  string
	author      storage.Author
	authorID    string
	authorName  string
	name        string
	contentType string
	data        []byte
	// conversation is the locked row, set by store for publishing.
	conversation *storage.Conversation
}

// store saves the file and the message that shows it in one transaction,
// on the locked conversation, then publishes the message.
func (r *AttachmentRoutes) store(ctx context.Context, u *attachmentUpload) (*storage.Attachment, *storage.Message, error) {
	var (
		att *storage.Attachment
		msg *storage.Message
	)
	err := r.Store.InTx(ctx, func(tx *storage.Store) error {
		c, err := tx.GetConversationForUpdate(ctx, u.ws, u.conversationID)
		if err != nil {
			return err
		}
		if err := u.check(c); err != nil {
			return err
		}
		if c.Preview {
			return problem(http.StatusConflict, "conflict", "preview chats take no files")
		}
		if c.Status == storage.StatusClosed {
			return problem(http.StatusConflict, "conflict", "the conversation is closed")
		}
		n, total, err := tx.AttachmentUsage(ctx, u.ws, c.ID)
		if err != nil {
			return err
		}
		if n >= MaxAttachmentsPerConversation || total+int64(len(u.data)) > MaxAttachmentBytesPerConversation {
			return problem(http.StatusConflict, "conflict", "the conversation holds as many files as it may")
		}
		att, err = tx.CreateAttachment(ctx, u.ws, storage.NewAttachment{
			ConversationID: c.ID, UploaderKind: u.kind, UploaderID: u.uploaderID,
			ContentType: u.contentType, FileName: u.name, Data: u.data,
		})
		if err != nil {
			return err
		}
		var p attachmentMessagePayload
		p.Attachment.ID, p.Attachment.Name, p.Attachment.ContentType, p.Attachment.Size = att.ID, att.FileName, att.ContentType, att.Size
		p.AuthorName = u.authorName
		payload, err := json.Marshal(p)
		if err != nil {
			return err
		}
		msg, _, err = tx.AppendMessage(ctx, u.ws, storage.NewMessage{
			ConversationID: c.ID, Author: u.author, AuthorID: u.authorID, Body: att.FileName, Payload: payload,
		})
		if err != nil {
			return err
		}
		data, err := json.Marshal(map[string]any{"attachment_id": att.ID, "uploader": u.kind, "content_type": att.ContentType, "size": att.Size})
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, u.ws, storage.NewEvent{
			ConversationID: c.ID, AssistantID: c.AssistantID, VersionID: c.VersionID,
			Type: "attachment_added", Data: data, Preview: c.Preview,
		}); err != nil {
			return err
		}
		u.conversation = c
		return nil
	})
	if err != nil {
		return nil, nil, leadsProblem(err, "conversation")
	}
	leadsPublish(ctx, r.Publisher, r.log(), u.conversation, msg)
	return att, msg, nil
}

// --- Agents ---

type uploadAttachmentInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The conversation's id."`
	Name string `query:"name" maxLength:"1024" doc:"The file name, for a raw body. A multipart part's own file name wins."`
	// RawBody is the whole body: multipart or the raw file.
	RawBody []byte `contentType:"application/octet-stream"`

	contentType string
}

// Resolve keeps the request's Content-Type, which says how the body is
// framed (multipart or raw); it is never taken as the file's type.
func (in *uploadAttachmentInput) Resolve(ctx huma.Context) []error {
	in.contentType = ctx.Header("Content-Type")
	return nil
}

type uploadAttachmentOutput struct {
	Body struct {
		Attachment attachmentView          `json:"attachment"`
		Message    conversationMessageView `json:"message" doc:"The message that shows the file in the conversation."`
	}
}

func (r *AttachmentRoutes) agentUpload(ctx context.Context, in *uploadAttachmentInput) (*uploadAttachmentOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	max := r.maxBytes()
	name, data, prob := attachmentRead(in.contentType, in.RawBody, in.Name, max)
	if prob != nil {
		return nil, prob
	}
	ct, ok := attachmentSniff(data)
	if !ok {
		return nil, attachmentUnsupported()
	}
	att, msg, err := r.store(ctx, &attachmentUpload{
		ws: p.WorkspaceID, conversationID: in.ID,
		check: func(c *storage.Conversation) error {
			if !CanSee(p, c) {
				return notFound("conversation")
			}
			if c.Status != storage.StatusClosed && !p.IsAdmin() && (c.Status != storage.StatusAssigned || c.AssigneeID != p.UserID) {
				return problem(http.StatusConflict, "conflict", "the conversation is not assigned to you")
			}
			return nil
		},
		kind: storage.UploaderAgent, uploaderID: p.UserID,
		author: storage.AuthorAgent, authorID: p.UserID, authorName: p.Name,
		name: name, contentType: ct, data: data,
	})
	if err != nil {
		return nil, err
	}
	out := &uploadAttachmentOutput{}
	out.Body.Attachment = newAttachmentView(att)
	out.Body.Message = newConversationMessageView(msg)
	return out, nil
}

type getAttachmentInput struct {
	ID string `path:"id" maxLength:"64" doc:"The attachment's id."`
}

type attachmentDownloadOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	NoSniff            string `header:"X-Content-Type-Options"`
	CSP                string `header:"Content-Security-Policy"`
	CacheControl       string `header:"Cache-Control"`
	ETag               string `header:"ETag"`
	Body               []byte
}

// attachmentHeaders are the download headers, the same for agents and
// visitors.
func attachmentHeaders(a *storage.Attachment) map[string]string {
	return map[string]string{
		"Content-Type":            a.ContentType,
		"Content-Disposition":     attachmentDisposition(a.FileName),
		"X-Content-Type-Options":  "nosniff",
		"Content-Security-Policy": attachmentCSP,
		// Files are private to the conversation: no shared cache keeps one.
		"Cache-Control": "private",
		"ETag":          strconv.Quote(a.SHA256),
	}
}

func (r *AttachmentRoutes) agentDownload(ctx context.Context, in *getAttachmentInput) (*attachmentDownloadOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.Store.GetAttachment(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "attachment")
	}
	c, err := r.Store.GetConversation(ctx, p.WorkspaceID, a.ConversationID)
	if err != nil {
		return nil, storeError(err, "attachment")
	}
	if !CanSee(p, c) {
		return nil, notFound("attachment")
	}
	h := attachmentHeaders(a)
	return &attachmentDownloadOutput{
		ContentType: h["Content-Type"], ContentDisposition: h["Content-Disposition"], NoSniff: h["X-Content-Type-Options"],
		CSP: h["Content-Security-Policy"], CacheControl: h["Cache-Control"], ETag: h["ETag"], Body: a.Data,
	}, nil
}

// --- Visitors ---

// widget is the visitor side these routes authorize like: the channel
// key, the page's origin and the visitor token (Widget.visitor).
func (r *AttachmentRoutes) widget() *Widget {
	return &Widget{Store: r.Store, Tokens: r.Tokens, Now: r.now, PublicURL: r.PublicURL}
}

// preflight answers the browser's CORS preflight for the visitor routes:
// only an allowed Origin of the channel may send the token.
func (r *AttachmentRoutes) preflight(c *fiber.Ctx) error {
	if _, err := r.widget().channelFor(c); err != nil {
		return sendProblem(c, err)
	}
	c.Set("Access-Control-Allow-Origin", c.Get(fiber.HeaderOrigin))
	c.Set("Access-Control-Allow-Methods", "GET, POST")
	c.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	c.Set("Access-Control-Max-Age", "600")
	c.Set("Vary", "Origin")
	return c.SendStatus(http.StatusNoContent)
}

func (r *AttachmentRoutes) visitorUpload(c *fiber.Ctx) error {
	conv, err := r.widget().visitor(c)
	if err != nil {
		return sendProblem(c, err)
	}
	max := r.maxBytes()
	body := c.Body()
	if int64(len(body)) > max+attachmentEnvelopeBytes {
		return sendProblem(c, attachmentTooLarge(max))
	}
	name, data, prob := attachmentRead(c.Get(fiber.HeaderContentType), body, c.Query("name"), max)
	if prob != nil {
		return sendProblem(c, prob)
	}
	ct, ok := attachmentSniff(data)
	if !ok {
		return sendProblem(c, attachmentUnsupported())
	}
	att, msg, err := r.store(c.UserContext(), &attachmentUpload{
		ws: conv.WorkspaceID, conversationID: conv.ID,
		check: func(locked *storage.Conversation) error {
			if locked.VisitorID != conv.VisitorID || locked.ChannelID != conv.ChannelID {
				return notFound("conversation")
			}
			return nil
		},
		kind: storage.UploaderVisitor, uploaderID: conv.VisitorID, author: storage.AuthorVisitor,
		name: name, contentType: ct, data: data,
	})
	if err != nil {
		return sendProblem(c, err)
	}
	return c.Status(http.StatusCreated).JSON(fiber.Map{"attachment": newAttachmentView(att), "seq": msg.Seq})
}

func (r *AttachmentRoutes) visitorDownload(c *fiber.Ctx) error {
	conv, err := r.widget().visitor(c)
	if err != nil {
		return sendProblem(c, err)
	}
	id := c.Params("id")
	if id == "" || len(id) > 64 {
		return sendProblem(c, notFound("attachment"))
	}
	a, err := r.Store.GetAttachment(c.UserContext(), conv.WorkspaceID, id)
	if err != nil {
		return sendProblem(c, storeError(err, "attachment"))
	}
	if a.ConversationID != conv.ID {
		// Only the visitor's own conversation's files.
		return sendProblem(c, notFound("attachment"))
	}
	for k, v := range attachmentHeaders(a) {
		c.Set(k, v)
	}
	return c.Status(http.StatusOK).Send(a.Data)
}
