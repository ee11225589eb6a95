package bench

import (
	"context"
	"net"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/frontdesk/frontdesk/api"
	"github.com/frontdesk/frontdesk/wire"
)

// EchoPath is the echo server's websocket route.
const EchoPath = "/ws"

// ServeEcho runs the floor: the smallest websocket server on the product's
// stack (fiber v2 with gofiber/contrib/websocket on fasthttp), which writes
// every text frame back as it came. It serves on ln until ctx ends or
// lifetime passes, so a forgotten one stops by itself.
func ServeEcho(ctx context.Context, ln net.Listener, lifetime time.Duration) error {
	// The product's connection settings (timeouts, request header buffer
	// and its release after the upgrade) and websocket buffers (read
	// buffer size, pooled write buffers), from the same functions the
	// server uses, so the floor cannot drift from the product.
	cfg := api.ConnectionConfig()
	cfg.DisableStartupMessage = true
	app := fiber.New(cfg)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok") })
	app.Get(EchoPath, func(c *fiber.Ctx) error {
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		return c.Next()
	}, websocket.New(func(conn *websocket.Conn) {
		conn.SetReadLimit(wire.MaxFrameBytes)
		for {
			kind, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			_ = conn.SetWriteDeadline(time.Now().Add(wire.WriteTimeout))
			if err := conn.WriteMessage(kind, data); err != nil {
				return
			}
		}
	}, api.WebsocketConfig()))

	served := make(chan error, 1)
	go func() { served <- app.Listener(ln) }()
	life := time.NewTimer(lifetime)
	defer life.Stop()
	var err error
	select {
	case <-ctx.Done():
	case <-life.C:
	case err = <-served:
	}
	if shutErr := app.ShutdownWithTimeout(2 * time.Second); err == nil {
		err = shutErr
	}
	return err
}
