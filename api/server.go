package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"

	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
)

// Version is the API version reported in the OpenAPI document.
const Version = "1.0.0"

// Access levels of an operation, stored in its Metadata["access"]. The
// authentication middleware enforces them before the handler runs.
const (
	// AccessPublic needs no authentication (login, health).
	AccessPublic = "public"
	// AccessAgent needs any signed-in member of the workspace.
	AccessAgent = "agent"
	// AccessBuilder needs an admin or owner, or an agent with the
	// "manage assistants" permission.
	AccessBuilder = "builder"
	// AccessAdmin needs an admin or owner.
	AccessAdmin = "admin"
	// AccessOwner needs the owner.
	AccessOwner = "owner"
)

// Deps are the services the API is built on. Fields left nil disable the
// routes that need them.
type Deps struct {
	Config config.Config
	Store  *storage.Store
	Logger *slog.Logger
	// Now is the clock; tests inject one. Defaults to time.Now.
	Now func() time.Time
	// Auth authenticates callers of non-public routes.
	Auth Authenticator
	// Services holds the route groups; each registers its operations.
	Services []Routes
	// Middleware runs before every route (metrics), when set.
	Middleware fiber.Handler
}

// Routes is a group of operations registered on the API.
type Routes interface {
	Register(api huma.API)
}

// Server is the HTTP server: a fiber app carrying the huma API.
type Server struct {
	deps Deps
	app  *fiber.App
	api  huma.API
}

// New builds the server and registers every route.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	s := &Server{deps: d}
	fc := ConnectionConfig()
	fc.AppName = "frontdesk"
	fc.DisableStartupMessage = true
	fc.BodyLimit = d.Config.MaxBodyBytes
	fc.ErrorHandler = s.fiberError
	s.app = fiber.New(fc)
	// A panic in a handler answers 500 and the process stays up.
	s.app.Use(recover.New())
	if d.Middleware != nil {
		s.app.Use(d.Middleware)
	}
	cfg := huma.DefaultConfig("Frontdesk API", Version)
	cfg.OpenAPIPath = "/api/v1/openapi"
	cfg.DocsPath = "/api/v1/docs"
	cfg.SchemasPath = "/api/v1/schemas"
	cfg.Info.Description = "Frontdesk: website chat playbooks, live chat and leads. Errors are RFC 9457 problem details."
	if d.Config.PublicURL != "" {
		cfg.Servers = []*huma.Server{{URL: d.Config.PublicURL, Description: "This Frontdesk server."}}
	}
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"session": {Type: "apiKey", In: "cookie", Name: SessionCookie, Description: "Session cookie from POST /api/v1/auth/login; unsafe methods also need the X-CSRF-Token header."},
		"token":   {Type: "http", Scheme: "bearer", Description: "API token for automation."},
	}
	s.api = humafiber.New(s.app, cfg)
	s.api.UseMiddleware(s.authorize)
	for _, r := range d.Services {
		r.Register(s.api)
	}
	return s
}

// MaxRequestHeaderBytes bounds a request's line and headers together
// (fiber's ReadBufferSize): slowloris and header floods get no more, and a
// request over it is answered 431. 8 KiB is the per-line default of nginx
// and Apache; Frontdesk's own requests need well under 2 KiB (the widget's
// upgrade, or an admin's session cookie and CSRF header), and the rest
// leaves room for the cookies a parent domain sets (analytics, consent).
// With ReduceMemoryUsage the buffer is only held while a request is read:
// a websocket keeps none of it after the upgrade.
const MaxRequestHeaderBytes = 8 << 10

// ConnectionConfig returns the fiber settings of the connection path:
// timeouts, the request header bound and buffer handling. The server
// starts from it, and so does the bench's echo floor, so that the floor
// runs the product's stack with the product's buffers.
func ConnectionConfig() fiber.Config {
	return fiber.Config{
		ReadTimeout:    15 * time.Second,
		WriteTimeout:   15 * time.Second,
		IdleTimeout:    90 * time.Second,
		ReadBufferSize: MaxRequestHeaderBytes,
		// Return fasthttp's read and write buffers to its pools as soon as
		// a request has been read and its response written, rather than
		// keeping them with the connection. For a websocket this matters:
		// on a hijack fasthttp hands its read buffer (ReadBufferSize
		// bytes) to the hijacked connection unless it has been released,
		// so every idle socket would hold one for its whole life. For
		// keep-alive HTTP connections it costs a pool get and put per
		// request.
		ReduceMemoryUsage: true,
	}
}

// App returns the fiber app, for mounting more handlers and for serving.
func (s *Server) App() *fiber.App { return s.app }

// API returns the huma API, for the OpenAPI document and route listing.
func (s *Server) API() huma.API { return s.api }

// Operation describes an operation with its access level; handlers use it
// with huma.Register so every route states who may call it.
func Operation(id, method, path, summary, access string, tags ...string) huma.Operation {
	op := huma.Operation{
		OperationID: id,
		Method:      method,
		Path:        path,
		Summary:     summary,
		Tags:        tags,
		Metadata:    map[string]any{"access": access},
	}
	if access != AccessPublic {
		op.Security = []map[string][]string{{"session": {}}, {"token": {}}}
		op.Errors = []int{http.StatusUnauthorized, http.StatusForbidden}
	} else {
		// An empty requirement states that no credentials are needed.
		op.Security = []map[string][]string{{}}
	}
	return op
}

// AccessOf returns an operation's access level (AccessPublic when unset).
func AccessOf(op *huma.Operation) string {
	if op == nil || op.Metadata == nil {
		return AccessPublic
	}
	if a, ok := op.Metadata["access"].(string); ok {
		return a
	}
	return AccessPublic
}

type principalKey struct{}

// PrincipalFrom returns the authenticated caller, or nil on public routes.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// WithPrincipal returns ctx carrying p; tests and internal callers use it.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Principal is who calls: a member of one workspace, through a session or
// an API token. Every query of a handler is scoped by WorkspaceID.
type Principal struct {
	WorkspaceID      string
	UserID           string
	Name             string
	Email            string
	Role             string
	ManageAssistants bool
	// SessionID is set for session callers; TokenID for API tokens.
	SessionID string
	TokenID   string
}

// IsAdmin reports whether the caller is an admin or the owner.
func (p *Principal) IsAdmin() bool { return p.Role == "admin" || p.Role == "owner" }

// CanBuild reports whether the caller may build and publish assistants.
func (p *Principal) CanBuild() bool { return p.IsAdmin() || p.ManageAssistants }

// allows reports whether p meets an access level.
func (p *Principal) allows(access string) bool {
	switch access {
	case AccessPublic, AccessAgent:
		return true
	case AccessBuilder:
		return p.CanBuild()
	case AccessAdmin:
		return p.IsAdmin()
	case AccessOwner:
		return p.Role == "owner"
	}
	return false
}

// authorize authenticates the caller of every non-public operation and
// checks its access level before the handler runs.
func (s *Server) authorize(ctx huma.Context, next func(huma.Context)) {
	access := AccessOf(ctx.Operation())
	if access == AccessPublic {
		next(ctx)
		return
	}
	p, err := s.authenticate(ctx)
	if err != nil {
		writeProblem(s.api, ctx, err)
		return
	}
	if !p.allows(access) {
		writeProblem(s.api, ctx, problem(http.StatusForbidden, "forbidden", "your role may not do this"))
		return
	}
	next(huma.WithValue(ctx, principalKey{}, p))
}

// writeProblem writes err as a problem from a middleware, where no
// handler return value carries it.
func writeProblem(_ huma.API, ctx huma.Context, err error) {
	p, ok := err.(*Problem)
	if !ok {
		p = problem(http.StatusInternalServerError, "internal", "internal error")
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// fiberError renders errors raised by fiber itself (body over the limit,
// unknown route) as problems.
func (s *Server) fiberError(c *fiber.Ctx, err error) error {
	status := http.StatusInternalServerError
	detail := "internal error"
	if fe, ok := err.(*fiber.Error); ok {
		status, detail = fe.Code, fe.Message
	}
	code := codeForStatus(status)
	switch status {
	case http.StatusRequestEntityTooLarge:
		detail = "the request body is over the limit"
	case http.StatusRequestHeaderFieldsTooLarge:
		code = "too_large"
		detail = fmt.Sprintf("the request line and headers are over the limit of %d bytes", MaxRequestHeaderBytes)
	}
	return writeFiberProblem(c, problem(status, code, detail))
}
