// Package web serves the static pages of Frontdesk: the widget script and
// the demo page. The built app of builder-ui joins them later.
package web

import (
	_ "embed"
	"html"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static/widget.js
var widgetJS []byte

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

// Mount serves /widget.js and, when demo is not nil, the demo page at /.
func Mount(app *fiber.App, demo *Demo) {
	app.Get("/widget.js", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set("X-Content-Type-Options", "nosniff")
		return c.Send(widgetJS)
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
