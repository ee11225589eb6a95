package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/frontdesk/frontdesk/config"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// Minimal files of each allowed type: the signatures are what counts.
var (
	attPNG  = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{0}, 64)...)
	attJPEG = append([]byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00"), bytes.Repeat([]byte{1}, 64)...)
	attGIF  = append([]byte("GIF89a\x01\x00\x01\x00"), bytes.Repeat([]byte{2}, 64)...)
	attWebP = append([]byte("RIFF\x24\x00\x00\x00WEBPVP8 "), bytes.Repeat([]byte{3}, 64)...)
	attPDF  = []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n")
)

func attachmentsPath(id string) string { return "/api/v1/conversations/" + id + "/attachments" }

// raw uploads data as the raw body with ?name= and a client Content-Type.
func (e *panelEnv) raw(token, conversationID, name, contentType string, data []byte) *routesResponse {
	e.t.Helper()
	return e.do(token, http.MethodPost, attachmentsPath(conversationID)+"?name="+urlQuery(name), data,
		map[string]string{"Content-Type": contentType})
}

// multipartBody builds a multipart/form-data body with one file part.
func multipartBody(t *testing.T, field, filename, partType string, data []byte) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	require.NoError(t, w.WriteField("note", "ignored"))
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+field+`"; filename="`+filename+`"`)
	h.Set("Content-Type", partType)
	part, err := w.CreatePart(h)
	require.NoError(t, err)
	_, err = part.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes(), w.FormDataContentType()
}

func urlQuery(s string) string {
	r := strings.NewReplacer("%", "%25", " ", "%20", "&", "%26", "#", "%23", "?", "%3F", "+", "%2B", "/", "%2F")
	return r.Replace(s)
}

type attUploaded struct {
	Attachment struct {
		ID             string `json:"id"`
		ConversationID string `json:"conversation_id"`
		Name           string `json:"name"`
		ContentType    string `json:"content_type"`
		Size           int64  `json:"size"`
		SHA256         string `json:"sha256"`
		UploaderKind   string `json:"uploader_kind"`
	} `json:"attachment"`
	Message panelMessage `json:"message"`
	Seq     int64        `json:"seq"`
}

// requireDownloadHeaders checks the headers every served file carries.
func requireDownloadHeaders(t *testing.T, r *routesResponse, contentType, disposition string) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	require.Equal(t, contentType, r.header.Get("Content-Type"))
	require.Equal(t, disposition, r.header.Get("Content-Disposition"))
	require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	require.Equal(t, "default-src 'none'; sandbox", r.header.Get("Content-Security-Policy"))
	require.Equal(t, "private", r.header.Get("Cache-Control"))
}

func TestAttachmentTypeIsSniffedFromTheBytes(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		c := e.assign(tn, e.conversation(tn, "vis-1"), tn.agent)

		// A PNG named evil.pdf, sent as application/pdf, is a PNG.
		var up attUploaded
		e.raw(tn.agent.token, c.ID, "evil.pdf", "application/pdf", attPNG).ok(http.StatusCreated, &up)
		require.Equal(t, "image/png", up.Attachment.ContentType)
		require.Equal(t, "evil.pdf", up.Attachment.Name)
		require.Equal(t, int64(len(attPNG)), up.Attachment.Size)
		require.Equal(t, "agent", up.Attachment.UploaderKind)
		require.Equal(t, "agent", up.Message.Author)
		require.Equal(t, tn.agent.id, up.Message.AuthorID)
		require.Equal(t, "evil.pdf", up.Message.Body)
		var payload attachmentMessagePayload
		require.NoError(t, json.Unmarshal(up.Message.Payload, &payload))
		require.Equal(t, up.Attachment.ID, payload.Attachment.ID)
		require.Equal(t, "image/png", payload.Attachment.ContentType)
		require.Equal(t, int64(len(attPNG)), payload.Attachment.Size)

		r := e.do(tn.agent.token, http.MethodGet, "/api/v1/attachments/"+up.Attachment.ID, nil, nil)
		requireDownloadHeaders(t, r, "image/png", "attachment; filename*=UTF-8''evil.pdf")
		require.True(t, bytes.Equal(attPNG, r.body), "served byte for byte")

		// Published after the commit.
		frames := e.pub.on(chat.ConversationTopic(tn.ws, c.ID))
		require.Len(t, frames, 1)
		require.Equal(t, float64(up.Message.Seq), frames[0]["seq"])

		// Every allowed type, whatever the client claims.
		for want, data := range map[string][]byte{
			"image/jpeg": attJPEG, "image/gif": attGIF, "image/webp": attWebP, "application/pdf": attPDF,
		} {
			e.raw(tn.agent.token, c.ID, "file", "text/html", data).ok(http.StatusCreated, &up)
			require.Equal(t, want, up.Attachment.ContentType)
		}

		// What can carry script is refused, whatever it is named.
		for name, data := range map[string][]byte{
			"cat.png":    []byte("<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
			"cat.jpg":    []byte("  <html><img src=x onerror=alert(1)>"),
			"logo.svg":   []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>`),
			"logo2.png":  []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
			"notes.pdf":  []byte("just some text, not a PDF"),
			"fake.webp":  []byte("RIFF\x24\x00\x00\x00WAVEfmt "),
			"script.gif": []byte("GIF8<script>"),
		} {
			p := e.raw(tn.agent.token, c.ID, name, "image/png", data).problem(http.StatusUnsupportedMediaType)
			require.Equal(t, "unsupported_type", p.Code, name)
			body, ct := multipartBody(t, "file", name, "image/png", data)
			e.do(tn.agent.token, http.MethodPost, attachmentsPath(c.ID), body, map[string]string{"Content-Type": ct}).
				problem(http.StatusUnsupportedMediaType)
		}
		e.raw(tn.agent.token, c.ID, "empty.png", "image/png", nil).problem(http.StatusBadRequest)

		n, _, err := e.store.AttachmentUsage(ctx, tn.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(5), n, "refused files were not stored")
		msgs, err := e.store.ListMessages(ctx, tn.ws, c.ID, 0)
		require.NoError(t, err)
		require.Len(t, msgs, 5, "one message per stored file, none for refused ones")
	})
}

func TestAttachmentMultipartAndFileNames(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		var up attUploaded
		body, ct := multipartBody(t, "file", "../../etc/résumé\u202e.pdf", "application/octet-stream", attPDF)
		e.do(tn.admin.token, http.MethodPost, attachmentsPath(c.ID), body, map[string]string{"Content-Type": ct}).ok(http.StatusCreated, &up)
		require.Equal(t, "application/pdf", up.Attachment.ContentType)
		require.Equal(t, "résumé.pdf", up.Attachment.Name, "no path, no control characters")
		r := e.do(tn.admin.token, http.MethodGet, "/api/v1/attachments/"+up.Attachment.ID, nil, nil)
		requireDownloadHeaders(t, r, "application/pdf", "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf")
		require.True(t, bytes.Equal(attPDF, r.body))

		// A header-breaking name is escaped, never echoed raw.
		e.raw(tn.admin.token, c.ID, `a"; filename=x.html; b=<c>.png`, "image/png", attPNG).ok(http.StatusCreated, &up)
		r = e.do(tn.admin.token, http.MethodGet, "/api/v1/attachments/"+up.Attachment.ID, nil, nil)
		require.Equal(t, "attachment; filename*=UTF-8''a%22%3B%20filename%3Dx.html%3B%20b%3D%3Cc%3E.png", r.header.Get("Content-Disposition"))

		// No file part.
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		require.NoError(t, w.WriteField("other", "x"))
		require.NoError(t, w.Close())
		p := e.do(tn.admin.token, http.MethodPost, attachmentsPath(c.ID), buf.Bytes(), map[string]string{"Content-Type": w.FormDataContentType()}).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.file"}, p.locations())
	})
}

func TestAttachmentSizeLimit(t *testing.T) {
	t.Parallel()
	const max = 64 << 10
	panelEach(t, max, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		big := append(bytes.Clone(attPNG), make([]byte, max-len(attPNG)+1)...)
		p := e.raw(tn.admin.token, c.ID, "big.png", "image/png", big).problem(http.StatusRequestEntityTooLarge)
		require.Equal(t, "too_large", p.Code)
		body, ct := multipartBody(t, "file", "big.png", "image/png", big)
		e.do(tn.admin.token, http.MethodPost, attachmentsPath(c.ID), body, map[string]string{"Content-Type": ct}).problem(http.StatusRequestEntityTooLarge)
		huge := append(bytes.Clone(attPNG), make([]byte, 4*max)...)
		e.raw(tn.admin.token, c.ID, "huge.png", "image/png", huge).problem(http.StatusRequestEntityTooLarge)
		n, _, err := e.store.AttachmentUsage(ctx, tn.ws, c.ID)
		require.NoError(t, err)
		require.Zero(t, n)

		e.raw(tn.admin.token, c.ID, "fits.png", "image/png", big[:max]).ok(http.StatusCreated, nil)
	})
}

func TestAttachmentOverTheServerBodyLimit(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		// Past the server's default body bound, it refuses the
		// request before any handler; it still answers with a problem. A
		// real listener, because app.Test reports the refused body as a
		// client error instead of returning the response.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		go func() { _ = e.srv.App().Listener(ln) }()
		t.Cleanup(func() { _ = e.srv.App().Shutdown() })
		size := config.DefaultMaxBodyBytes + 1024
		for _, req := range []struct {
			path   string
			header string
		}{
			{attachmentsPath(c.ID) + "?name=big.png", "Authorization: Bearer " + tn.admin.token},
			{"/api/v1/widget/attachments?key=" + tn.channel.PublicKey, "Origin: " + panelOrigin},
		} {
			// Only the head is sent: the declared length alone is refused,
			// before the body is read, so the test does not race a reset.
			conn, err := net.Dial("tcp", ln.Addr().String())
			require.NoError(t, err)
			_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: frontdesk.test\r\n%s\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n",
				req.path, req.header, size)
			require.NoError(t, err)
			require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			require.NoError(t, err)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			conn.Close()
			require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "body: %s", body)
			require.Contains(t, res.Header.Get("Content-Type"), "application/problem+json")
			require.Contains(t, string(body), `"too_large"`)
		}
	})
}

func TestAttachmentVisibilityAndState(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		other := e.tenant("globex")
		c := e.assign(tn, e.conversation(tn, "vis-1"), tn.agent2)
		var up attUploaded
		e.raw(tn.agent2.token, c.ID, "a.png", "image/png", attPNG).ok(http.StatusCreated, &up)
		file := "/api/v1/attachments/" + up.Attachment.ID

		// Another agent's chat, or another tenant's: not found.
		for _, token := range []string{tn.agent.token, other.admin.token, other.agent.token} {
			e.raw(token, c.ID, "b.png", "image/png", attPNG).problem(http.StatusNotFound)
			e.do(token, http.MethodGet, file, nil, nil).problem(http.StatusNotFound)
		}
		e.do("", http.MethodGet, file, nil, nil).problem(http.StatusUnauthorized)
		e.do(tn.admin.token, http.MethodGet, file, nil, nil).ok(http.StatusOK, nil)
		e.do(tn.agent.token, http.MethodGet, "/api/v1/attachments/no-such-id", nil, nil).problem(http.StatusNotFound)

		// Visible but not assigned to the caller: agents may not send;
		// admins may.
		q := e.conversation(tn, "vis-2")
		p := e.raw(tn.agent.token, q.ID, "b.png", "image/png", attPNG).problem(http.StatusConflict)
		require.Contains(t, p.Detail, "not assigned to you")
		e.raw(tn.admin.token, q.ID, "b.png", "image/png", attPNG).ok(http.StatusCreated, nil)

		// Closed: every agent may read it, nobody may send to it.
		e.close(tn, c.ID)
		e.do(tn.agent.token, http.MethodGet, file, nil, nil).ok(http.StatusOK, nil)
		e.do(other.admin.token, http.MethodGet, file, nil, nil).problem(http.StatusNotFound)
		p = e.raw(tn.agent2.token, c.ID, "c.png", "image/png", attPNG).problem(http.StatusConflict)
		require.Contains(t, p.Detail, "closed")
		e.raw(tn.admin.token, c.ID, "c.png", "image/png", attPNG).problem(http.StatusConflict)

		// Preview chats take no files.
		pv, err := e.store.CreateConversation(ctx, tn.ws, storage.NewConversation{VisitorID: "preview-admin", Preview: true})
		require.NoError(t, err)
		p = e.raw(tn.admin.token, pv.ID, "p.png", "image/png", attPNG).problem(http.StatusConflict)
		require.Contains(t, p.Detail, "preview")
		e.raw(tn.agent.token, pv.ID, "p.png", "image/png", attPNG).problem(http.StatusNotFound)

		n, _, err := e.store.AttachmentUsage(ctx, tn.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	})
}

func TestVisitorAttachments(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		other := e.tenant("globex")
		mine := e.conversation(tn, "vis-1")
		theirs := e.conversation(tn, "vis-2")
		sign := func(ch *storage.Channel, c *storage.Conversation) string {
			return e.tokens.Sign(chat.VisitorClaims{Workspace: ch.WorkspaceID, Channel: ch.ID, Visitor: c.VisitorID, Conversation: c.ID, IssuedAt: time.Now().Unix()})
		}
		key := tn.channel.PublicKey
		upload := "/api/v1/widget/attachments?key=" + key + "&name=photo.jpg"
		hdr := func(token string) map[string]string {
			return map[string]string{"Origin": panelOrigin, "Authorization": "Bearer " + token, "Content-Type": "image/jpeg"}
		}

		// The browser's preflight: only an allowed origin.
		r := e.do("", http.MethodOptions, "/api/v1/widget/attachments?key="+key, nil, map[string]string{"Origin": panelOrigin})
		require.Equal(t, http.StatusNoContent, r.status)
		require.Equal(t, panelOrigin, r.header.Get("Access-Control-Allow-Origin"))
		require.Contains(t, r.header.Get("Access-Control-Allow-Headers"), "Authorization")
		e.do("", http.MethodOptions, "/api/v1/widget/attachments?key="+key, nil, map[string]string{"Origin": "https://evil.example"}).
			problem(http.StatusForbidden)

		var up attUploaded
		r = e.do("", http.MethodPost, upload, attPNG, hdr(sign(tn.channel, mine))).ok(http.StatusCreated, &up)
		require.Equal(t, panelOrigin, r.header.Get("Access-Control-Allow-Origin"))
		require.Equal(t, "image/png", up.Attachment.ContentType, "sniffed, not the client's image/jpeg")
		require.Equal(t, "photo.jpg", up.Attachment.Name)
		require.Equal(t, "visitor", up.Attachment.UploaderKind)
		msgs, err := e.store.ListMessages(ctx, tn.ws, mine.ID, 0)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		require.Equal(t, storage.AuthorVisitor, msgs[0].Author)
		require.Equal(t, up.Seq, msgs[0].Seq)
		require.Len(t, e.pub.on(chat.ConversationTopic(tn.ws, mine.ID)), 1)

		// The visitor fetches their own conversation's file.
		own := "/api/v1/widget/attachments/" + up.Attachment.ID + "?key=" + key
		r = e.do("", http.MethodGet, own, nil, map[string]string{"Origin": panelOrigin, "Authorization": "Bearer " + sign(tn.channel, mine)})
		requireDownloadHeaders(t, r, "image/png", "attachment; filename*=UTF-8''photo.jpg")
		require.True(t, bytes.Equal(attPNG, r.body))
		// Agents see it too, through their route.
		e.do(tn.agent.token, http.MethodGet, "/api/v1/attachments/"+up.Attachment.ID, nil, nil).ok(http.StatusOK, nil)

		// Another visitor of the same channel cannot.
		e.do("", http.MethodGet, own, nil, map[string]string{"Origin": panelOrigin, "Authorization": "Bearer " + sign(tn.channel, theirs)}).
			problem(http.StatusNotFound)
		// Nor an agent's file of another conversation.
		var agentUp attUploaded
		e.raw(tn.admin.token, theirs.ID, "x.gif", "image/gif", attGIF).ok(http.StatusCreated, &agentUp)
		e.do("", http.MethodGet, "/api/v1/widget/attachments/"+agentUp.Attachment.ID+"?key="+key, nil,
			map[string]string{"Origin": panelOrigin, "Authorization": "Bearer " + sign(tn.channel, mine)}).problem(http.StatusNotFound)

		// Wrong origin, no token, a forged token, another tenant's key.
		e.do("", http.MethodGet, own, nil, map[string]string{"Origin": "https://evil.example", "Authorization": "Bearer " + sign(tn.channel, mine)}).
			problem(http.StatusForbidden)
		e.do("", http.MethodGet, own, nil, map[string]string{"Origin": panelOrigin}).problem(http.StatusUnauthorized)
		e.do("", http.MethodPost, upload, attPNG, hdr(sign(tn.channel, mine)+"x")).problem(http.StatusUnauthorized)
		e.do("", http.MethodGet, "/api/v1/widget/attachments/"+up.Attachment.ID+"?key="+other.channel.PublicKey, nil,
			map[string]string{"Origin": panelOrigin, "Authorization": "Bearer " + sign(tn.channel, mine)}).problem(http.StatusUnauthorized)
		e.do("", http.MethodGet, "/api/v1/widget/attachments/"+up.Attachment.ID+"?key=pk_nope", nil,
			map[string]string{"Origin": panelOrigin, "Authorization": "Bearer " + sign(tn.channel, mine)}).problem(http.StatusForbidden)
		// A token claiming someone else's conversation for its visitor.
		forged := e.tokens.Sign(chat.VisitorClaims{Workspace: tn.ws, Channel: tn.channel.ID, Visitor: "vis-1", Conversation: theirs.ID, IssuedAt: time.Now().Unix()})
		e.do("", http.MethodPost, upload, attPNG, hdr(forged)).problem(http.StatusNotFound)

		// Script-carrying files are refused for visitors too.
		svg := []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)
		e.do("", http.MethodPost, upload, svg, hdr(sign(tn.channel, mine))).problem(http.StatusUnsupportedMediaType)
		html := []byte("<html><script>alert(1)</script></html>")
		body, ct := multipartBody(t, "file", "cat.png", "image/png", html)
		h := hdr(sign(tn.channel, mine))
		h["Content-Type"] = ct
		e.do("", http.MethodPost, "/api/v1/widget/attachments?key="+key, body, h).problem(http.StatusUnsupportedMediaType)

		// A closed conversation takes no uploads.
		e.close(tn, mine.ID)
		e.do("", http.MethodPost, upload, attPNG, hdr(sign(tn.channel, mine))).problem(http.StatusConflict)
		n, _, err := e.store.AttachmentUsage(ctx, tn.ws, mine.ID)
		require.NoError(t, err)
		require.Equal(t, int64(1), n)
	})
}

func TestAttachmentsPerConversationAreBounded(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		for range MaxAttachmentsPerConversation {
			e.raw(tn.admin.token, c.ID, "a.png", "image/png", attPNG).ok(http.StatusCreated, nil)
		}
		e.raw(tn.admin.token, c.ID, "a.png", "image/png", attPNG).problem(http.StatusConflict)
	})
}

func TestAttachmentSniffAndDisposition(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data []byte
		want string
	}{
		{attPNG, "image/png"}, {attJPEG, "image/jpeg"}, {attGIF, "image/gif"}, {attWebP, "image/webp"}, {attPDF, "application/pdf"},
		{[]byte("<svg/>"), ""}, {[]byte("<html>"), ""}, {[]byte("\x89PN"), ""}, {[]byte("RIFF"), ""}, {nil, ""},
	} {
		got, ok := attachmentSniff(tc.data)
		require.Equal(t, tc.want != "", ok, "%q", tc.data)
		require.Equal(t, tc.want, got)
	}
	require.Equal(t, "attachment; filename*=UTF-8''%E6%97%A5%E6%9C%AC.png", attachmentDisposition("日本.png"))
	require.Equal(t, "attachment; filename*=UTF-8''a%0D%0Ab", attachmentDisposition("a\r\nb"))
}
