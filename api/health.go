package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
)

// Checker is a dependency /readyz checks (the database, Redis).
type Checker interface {
	Ping(ctx context.Context) error
}

// HealthRoutes serves /healthz (liveness: the process answers), /readyz
// (readiness: every dependency answers) and /metrics.
type HealthRoutes struct {
	// Checks are named dependencies; each must answer within a second.
	Checks  map[string]Checker
	Metrics http.Handler
}

// Mount adds the routes to the app. They sit outside /api/v1 and the
// OpenAPI document: they are for orchestrators and scrapers.
func (h HealthRoutes) Mount(app *fiber.App) {
	app.Get("/healthz", func(c *fiber.Ctx) error {
		return c.JSON(fiber.Map{"status": "ok"})
	})
	app.Get("/readyz", func(c *fiber.Ctx) error {
		out := fiber.Map{}
		ok := true
		for name, chk := range h.Checks {
			ctx, cancel := context.WithTimeout(c.UserContext(), time.Second)
			err := chk.Ping(ctx)
			cancel()
			if err != nil {
				ok = false
				out[name] = "unavailable: " + err.Error()
			} else {
				out[name] = "ok"
			}
		}
		if !ok {
			return c.Status(http.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": out})
		}
		return c.JSON(fiber.Map{"status": "ok", "checks": out})
	})
	if h.Metrics != nil {
		app.Get("/metrics", adaptor.HTTPHandler(h.Metrics))
	}
}
