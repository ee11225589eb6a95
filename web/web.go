// Package web serves Frontdesk's pages: the widget loader (/widget.js), the
// chat frame it injects (/widget/frame.html and /widget/assets/), the admin
// app (/app/) and, in demo mode, the demo page at /. The files are the
// builder-ui bundle embedded in the binary (package builderui).
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io/fs"
	"mime"
	"path"
	"regexp"
	"strconv"
	"strings"

	_ "embed"

	"github.com/gofiber/fiber/v2"

	builderui "github.com/frontdesk/frontdesk/builder-ui"
)

//go:embed static/demo.html
var demoHTML string

// Demo describes the demo page.
type Demo struct {
	PublicURL  string
	ChannelKey string
	Assistant  string
	Email      string
}

// Snippet is the embed code of a channel.
func Snippet(publicURL, key string) string {
	return `<script src="` + strings.TrimRight(publicURL, "/") + `/widget.js" data-channel="` + key + `" async></script>`
}

// Cache lifetimes. The loader and the frame keep stable URLs, so they are
// cached briefly; hashed assets never change.
const (
	cacheLoader    = "public, max-age=300"
	cacheFrame     = "public, max-age=300"
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNone      = "no-cache"
)

// Mount serves /widget.js, the chat frame, the admin app under /app/ and,
// when demo is not nil, the demo page at /.
func Mount(app *fiber.App, demo *Demo) {
	files := mustLoad(builderui.Dist())
	mountWith(app, demo, files)
}

func mountWith(app *fiber.App, demo *Demo, files *bundle) {
	app.Get("/widget.js", func(c *fiber.Ctx) error {
		return files.send(c, "widget.js", cacheLoader)
	})
	app.Get("/widget/frame.html", func(c *fiber.Ctx) error {
		return serveFrame(c, files)
	})
	app.Get("/widget/assets/*", func(c *fiber.Ctx) error {
		return files.send(c, "widget/assets/"+c.Params("*"), cacheImmutable)
	})
	app.Get("/app", func(c *fiber.Ctx) error {
		// Routing is not strict: "/app/" comes here too.
		if string(c.Request().URI().Path()) == "/app" {
			return c.Redirect("/app/", fiber.StatusMovedPermanently)
		}
		return c.Next()
	})
	app.Get("/app/*", func(c *fiber.Ctx) error {
		return serveApp(c, files)
	})
	if demo == nil {
		return
	}
	snippet := Snippet(demo.PublicURL, demo.ChannelKey)
	page := strings.NewReplacer(
		"{{ASSISTANT}}", html.EscapeString(demo.Assistant),
		"{{SNIPPET}}", html.EscapeString(snippet),
		"{{EMAIL}}", html.EscapeString(demo.Email),
		"{{SCRIPT}}", snippet,
	).Replace(demoHTML)
	app.Get("/", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/html; charset=utf-8")
		c.Set("X-Content-Type-Options", "nosniff")
		return c.SendString(page)
	})
}

// hostOrigin matches a page origin as the loader sends it: scheme, host and
// optional port, nothing else, so it can go into a CSP header verbatim.
var hostOrigin = regexp.MustCompile(`^https?://(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)(:[0-9]{1,5})?$`)

// channelKey matches a channel's public key.
var channelKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// FrameOrigin returns the host page origin a chat frame request names in
// ?origin=, normalized, or "" when it is not a plain http(s) origin.
func FrameOrigin(raw string) string {
	o := strings.ToLower(strings.TrimSpace(raw))
	m := hostOrigin.FindStringSubmatch(o)
	if m == nil {
		return ""
	}
	if port := strings.TrimPrefix(m[3], ":"); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return ""
		}
	}
	return o
}

// serveFrame serves the chat frame for one channel key and one host page
// origin. The frame may only be embedded by that origin (frame-ancestors),
// so a site cannot frame it while claiming another site's origin; the
// visitor socket then checks that origin against the channel's allow-list.
func serveFrame(c *fiber.Ctx, files *bundle) error {
	origin := FrameOrigin(c.Query("origin"))
	if origin == "" || !channelKey.MatchString(c.Query("key")) {
		c.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors *")
		c.Set("X-Content-Type-Options", "nosniff")
		c.Status(fiber.StatusBadRequest)
		c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
		return c.SendString("The chat frame needs ?key=CHANNEL_KEY&origin=PAGE_ORIGIN; embed it with the widget.js snippet.\n")
	}
	c.Set("Content-Security-Policy", FrameCSP(origin, selfSockets(c)))
	c.Set("Referrer-Policy", "no-referrer")
	c.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
	c.Set("Cross-Origin-Resource-Policy", "cross-origin")
	return files.send(c, "widget/frame.html", cacheFrame)
}

// FrameCSP is the chat frame's Content-Security-Policy: scripts, styles and
// connections to Frontdesk only, no inline script, images from https, and
// only the host page's origin may frame it.
func FrameCSP(hostOrigin, sockets string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; " +
		"connect-src 'self' " + sockets + "; font-src 'self'; object-src 'none'; base-uri 'none'; " +
		"form-action 'none'; frame-ancestors " + hostOrigin
}

// appCSP is the admin app's policy. Inline style attributes are allowed:
// the canvas and the charts position their elements with them.
func appCSP(sockets string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' https: data: blob:; " +
		"connect-src 'self' " + sockets + "; font-src 'self'; object-src 'none'; base-uri 'self'; " +
		"form-action 'self'; frame-src 'self'; frame-ancestors 'none'"
}

var hostHeader = regexp.MustCompile(`^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$`)

// selfSockets is the websocket origin of this server as the browser sees
// it, for connect-src ('self' covers ws: only in newer browsers).
func selfSockets(c *fiber.Ctx) string {
	host := string(c.Request().Host())
	if !hostHeader.MatchString(host) {
		return ""
	}
	if c.Protocol() == "https" {
		return "wss://" + host
	}
	return "ws://" + host
}

// serveApp serves the admin app: its files, and index.html for every other
// path under /app/ (the app routes in the browser).
func serveApp(c *fiber.Ctx, files *bundle) error {
	c.Set("Content-Security-Policy", appCSP(selfSockets(c)))
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	name := "app/" + c.Params("*")
	if strings.HasPrefix(name, "app/assets/") {
		return files.send(c, name, cacheImmutable)
	}
	if f := files.get(name); f != nil && !strings.HasSuffix(name, "/") && name != "app/index.html" {
		return files.send(c, name, cacheNone)
	}
	return files.send(c, "app/index.html", cacheNone)
}

// bundle is the embedded files, read once, each with its gzipped form when
// that is smaller, and an ETag.
type bundle struct {
	files map[string]*file
}

type file struct {
	body, gz []byte
	ctype    string
	etag     string
}

func mustLoad(fsys fs.FS) *bundle {
	b, err := load(fsys)
	if err != nil {
		panic("web: reading the embedded builder-ui bundle: " + err.Error())
	}
	return b
}

func load(fsys fs.FS) (*bundle, error) {
	b := &bundle{files: map[string]*file{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		f := &file{body: body, ctype: contentType(p)}
		sum := sha256.Sum256(body)
		f.etag = `"` + hex.EncodeToString(sum[:8]) + `"`
		if compressible(f.ctype) && len(body) > 512 {
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			_, _ = zw.Write(body)
			_ = zw.Close()
			if buf.Len() < len(body) {
				f.gz = buf.Bytes()
			}
		}
		b.files[p] = f
		return nil
	})
	return b, err
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json", ".map":
		return "application/json"
	case ".txt":
		return "text/plain; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func compressible(ctype string) bool {
	return strings.HasPrefix(ctype, "text/") || strings.HasPrefix(ctype, "application/json") || strings.HasPrefix(ctype, "image/svg")
}

func (b *bundle) get(name string) *file {
	if strings.Contains(name, "..") {
		return nil
	}
	return b.files[name]
}

func (b *bundle) send(c *fiber.Ctx, name, cache string) error {
	f := b.get(name)
	if f == nil {
		c.Status(fiber.StatusNotFound)
		c.Set(fiber.HeaderContentType, "text/plain; charset=utf-8")
		return c.SendString("not found\n")
	}
	c.Set(fiber.HeaderContentType, f.ctype)
	c.Set(fiber.HeaderCacheControl, cache)
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderVary, "Accept-Encoding")
	if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if f.gz != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(f.gz)
	}
	return c.Send(f.body)
}
