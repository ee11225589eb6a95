package bench

import (
	"context"
	"net"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/frontdesk/frontdesk/wire"
)

// EchoPath is the echo server's websocket route.
const EchoPath = "/ws"

// ServeEcho runs the floor: the smallest websocket server on the product's
// stack (fiber v2 with gofiber/contrib/websocket on fasthttp), which writes
// every text frame back as it came. It serves on ln until ctx ends or
// lifetime passes, so a forgotten one stops by itself.
func ServeEcho(ctx context.Context, ln net.Listener, lifetime time.Duration) error {
	app := fiber.New(fiber.Config{
		// The product's server settings that matter on this path.
		DisableStartupMessage: true,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          15 * time.Second,
		IdleTimeout:           90 * time.Second,
		ReadBufferSize:        16 << 10,
	})
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
	}, websocket.Config{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096}))

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
