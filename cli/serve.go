package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/frontdesk/frontdesk/api"
	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/knowledge"
	"github.com/frontdesk/frontdesk/metrics"
	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/web"
	"github.com/frontdesk/frontdesk/webhook"
)

// Serve runs the server until ctx ends, then shuts down gracefully:
// websockets are told to go away, in-flight requests and steps finish,
// slow work drains, within the shutdown timeout.
func Serve(ctx context.Context, args []string, env Env) int {
	cfg, rest, err := config.Load("serve", args, env.Getenv, env.Stderr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: %v\n", err)
		return ExitUsage
	}
	if len(rest) > 0 {
		fmt.Fprintf(env.Stderr, "frontdesk: unexpected arguments %v\n", rest)
		return ExitUsage
	}
	log := slog.New(slog.NewTextHandler(env.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: FRONTDESK_ADDR: %v\n", err)
		return ExitUsage
	}
	srv, err := Build(ctx, cfg, log, env)
	if err != nil {
		ln.Close()
		fmt.Fprintf(env.Stderr, "frontdesk: %v\n", err)
		return ExitError
	}
	log.Info("serving", "addr", ln.Addr().String(), "public_url", cfg.PublicURL, "database", srv.Store.Dialect(), "redis", cfg.RedisURL != "")
	if err := srv.Run(ctx, ln); err != nil {
		log.Error("server stopped", "err", err)
		return ExitError
	}
	return ExitOK
}

// Server is a wired Frontdesk process.
type Server struct {
	Config   config.Config
	Store    *storage.Store
	Broker   realtime.Broker
	Chat     *chat.Service
	Auth     *auth.Service
	Webhooks *webhook.Dispatcher
	Answerer *knowledge.Answerer
	Redis    *redis.Client
	Presence chat.PresenceTable
	// AgentPresence ties presence to agents' sockets (a grace period after
	// the last one closes; Redis heartbeats).
	AgentPresence *chat.GracefulPresence
	Agents        *api.AgentSockets
	API           *api.Server
	Widget        *api.Widget
	Metrics       *metrics.Registry
	Log           *slog.Logger
	closers       []func()
}

// Build wires a server from its configuration: database and migrations,
// broker, services, routes. It fails fast, naming the setting at fault.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, env Env) (*Server, error) {
	s := &Server{Config: cfg, Log: log, Metrics: metrics.New()}
	store, err := storage.Open(ctx, cfg.DatabaseURL, storage.Options{WriteObserver: s.Metrics})
	if err != nil {
		return nil, fmt.Errorf("FRONTDESK_DATABASE_URL: %w", err)
	}
	s.Store = store
	s.closers = append(s.closers, func() { store.Close() })
	pending, err := migrations.Pending(ctx, store.DB(), store.Dialect())
	if err != nil {
		s.close()
		return nil, fmt.Errorf("reading migration status: %w", err)
	}
	if pending > 0 {
		if !cfg.Migrate {
			s.close()
			return nil, fmt.Errorf("the database has %d pending migration(s): run `frontdesk migrate up` or start with --migrate (FRONTDESK_MIGRATE=true)", pending)
		}
		if err := store.Migrate(ctx); err != nil {
			s.close()
			return nil, fmt.Errorf("migrating: %w", err)
		}
		log.Info("migrated", "applied", pending)
	}
	checks := map[string]api.Checker{"database": store}
	if cfg.RedisURL != "" {
		opts, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("FRONTDESK_REDIS_URL: %w", err)
		}
		rc := redis.NewClient(opts)
		s.Redis = rc
		s.closers = append(s.closers, func() { rc.Close() })
		s.Broker = realtime.NewRedisBroker(rc, realtime.RedisConfig{Prefix: cfg.RedisPrefix + "rt:", Logger: log})
		checks["redis"] = redisPinger{rc}
	} else {
		s.Broker = realtime.NewMemoryBroker(realtime.MemoryConfig{Logger: log})
	}
	s.closers = append(s.closers, func() { s.Broker.Close() })

	secret, err := auth.SigningSecret(ctx, store, cfg.Secret)
	if err != nil {
		s.close()
		return nil, err
	}
	tokens, err := chat.NewTokenSigner(secret)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("FRONTDESK_SECRET: %w", err)
	}
	if s.Redis != nil {
		s.Presence = chat.NewRedisPresence(s.Redis, cfg.RedisPrefix, chat.DefaultPresenceTTL, log)
	} else {
		s.Presence = chat.NewMemoryPresence()
	}
	s.AgentPresence = chat.NewGracefulPresence(s.Presence, chat.GracePresenceConfig{})
	s.Answerer = knowledge.NewAnswerer(store, knowledge.Options{Logger: log})
	s.closers = append(s.closers, s.Answerer.Close)
	s.Chat = chat.New(chat.Config{Store: store, Publisher: s.Broker, Presence: s.AgentPresence, Logger: log, Metrics: s.Metrics,
		Answerer: s.Answerer, Summarizer: s.Answerer})
	if s.Webhooks, err = webhook.NewDispatcher(webhook.Config{Store: store, Logger: log}); err != nil {
		s.close()
		return nil, err
	}
	authOpts := auth.Options{Logger: log}
	if s.Redis != nil {
		// Every node counts login attempts in one place.
		authOpts.Limiter = auth.NewRedisLimiter(s.Redis, auth.RedisLimiterOptions{Prefix: cfg.RedisPrefix + "login:"})
	}
	s.Auth = auth.NewService(store, authOpts)
	authSvc := s.Auth

	attachments := &api.AttachmentRoutes{Store: store, Publisher: s.Broker, Tokens: tokens, Logger: log, PublicURL: cfg.PublicURL}
	s.Agents = &api.AgentSockets{Auth: api.NewAuthenticator(authSvc), Store: store, Chat: s.Chat, Broker: s.Broker,
		Presence: s.AgentPresence, PublicURL: cfg.PublicURL, Observer: s.Metrics, Logger: log}
	s.API = api.New(api.Deps{
		Config: cfg,
		Store:  store,
		Logger: log,
		Auth:   api.NewAuthenticator(authSvc),
		Services: []api.Routes{
			api.NewAuthRoutes(authSvc, store, cfg.PublicURL),
			peopleRoutes(authSvc, store, s.AgentPresence),
			&api.AssistantRoutes{Store: store},
			&api.VersionRoutes{Store: store},
			&api.ChannelRoutes{Store: store, PublicURL: cfg.PublicURL},
			&api.ConversationRoutes{Store: store},
			&api.InboxRoutes{Store: store, Chat: s.Chat, Presence: s.AgentPresence},
			&api.PreviewRoutes{Store: store, Chat: s.Chat},
			&api.LeadRoutes{Store: store, Publisher: s.Broker, Logger: log},
			attachments,
			&api.AnalyticsRoutes{Store: store},
			&api.WebhookRoutes{Store: store},
			&api.KnowledgeRoutes{Store: store, Answerer: s.Answerer},
			&api.NotificationRoutes{Store: store, OnChange: s.Agents.SettingsChanged},
		},
		Middleware: s.Metrics.Middleware(),
	})
	app := s.API.App()
	api.HealthRoutes{Checks: checks, Metrics: s.Metrics.Handler()}.Mount(app)
	// The visitor limits (conversation starts per address, messages per
	// conversation) are counted in one place for every node when Redis is
	// set, in a limiter of their own so a flood of visitor keys cannot
	// push the login limits' keys out of a memory limiter.
	var visitorLimiter auth.Limiter = auth.NewMemoryLimiter(auth.MemoryLimiterOptions{})
	if s.Redis != nil {
		visitorLimiter = auth.NewRedisLimiter(s.Redis, auth.RedisLimiterOptions{Prefix: cfg.RedisPrefix + "visitor:"})
	}
	s.Widget = &api.Widget{Store: store, Chat: s.Chat, Broker: s.Broker, Tokens: tokens, Observer: s.Metrics, Logger: log, PublicURL: cfg.PublicURL,
		Limiter:     visitorLimiter,
		StartRate:   auth.Rate{Limit: cfg.VisitorStartsPerMinute, Window: time.Minute},
		MessageRate: auth.Rate{Limit: cfg.VisitorMessagesPerMinute, Window: time.Minute}}
	s.Widget.Mount(app)
	attachments.Mount(app)
	s.Agents.Mount(app)

	var demo *web.Demo
	if cfg.Demo {
		d, err := SeedDemo(ctx, store, cfg, env)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("seeding the demo: %w", err)
		}
		demo = d
	}
	web.Mount(app, demo)
	return s, nil
}

type redisPinger struct{ c *redis.Client }

func (r redisPinger) Ping(ctx context.Context) error { return r.c.Ping(ctx).Err() }

// Run serves on ln until ctx ends, with the timer worker beside it, then
// shuts down within the configured timeout.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	workers, stopWorkers := context.WithCancel(context.Background())
	timersDone := make(chan struct{})
	go func() {
		defer close(timersDone)
		s.Chat.RunTimers(workers)
	}()
	go s.Auth.RunCleanup(workers, 0)
	go s.AgentPresence.Run(workers, chat.DefaultPresenceTTL/3)
	webhooksDone := make(chan struct{})
	go func() {
		defer close(webhooksDone)
		s.Webhooks.Run(workers)
	}()
	served := make(chan error, 1)
	go func() { served <- s.API.App().Listener(ln) }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.Log.Info("shutting down", "timeout", s.Config.ShutdownTimeout)
	deadline, cancel := context.WithTimeout(context.Background(), s.Config.ShutdownTimeout)
	defer cancel()
	// Visitors reconnect elsewhere; requests in flight finish; then the
	// timers stop and slow work drains before the database closes.
	s.Widget.Shutdown()
	s.Agents.Shutdown()
	if shutErr := s.API.App().ShutdownWithContext(deadline); shutErr != nil && err == nil {
		err = shutErr
	}
	stopWorkers()
	<-timersDone
	<-webhooksDone
	if waitErr := s.Chat.Wait(deadline); waitErr != nil && !errors.Is(waitErr, context.DeadlineExceeded) && err == nil {
		err = waitErr
	}
	s.AgentPresence.Close()
	s.close()
	return err
}

func (s *Server) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// peopleRoutes are the team routes; a member deactivated through them goes
// offline at once in the agents' presence.
func peopleRoutes(authSvc *auth.Service, store *storage.Store, presence *chat.GracefulPresence) *api.PeopleRoutes {
	r := api.NewPeopleRoutes(authSvc, store)
	r.Presence = presence
	return r
}
