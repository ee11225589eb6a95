// Package config holds Frontdesk's settings: one struct, filled from flags
// and FRONTDESK_* environment variables (flags win), with every default in
// this file and a Validate that names the bad setting.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults. Each Config field's comment repeats its default.
const (
	DefaultAddr            = "127.0.0.1:8080"
	DefaultDatabaseURL     = "sqlite:frontdesk.db"
	DefaultShutdownTimeout = 15 * time.Second
	DefaultMaxBodyBytes    = 6 << 20
	DefaultRedisPrefix     = "frontdesk:"
	// DefaultVisitorStartsPerMinute bounds new conversations per client
	// address: an office behind one NAT address can open a new chat every
	// second, with a burst of 60.
	DefaultVisitorStartsPerMinute = 60
	// DefaultVisitorMessagesPerMinute bounds visitor messages per
	// conversation, over all its sockets on every node: two a second,
	// with a burst of 120.
	DefaultVisitorMessagesPerMinute = 120
	// MaxVisitorRatePerMinute bounds both visitor limits' settings.
	MaxVisitorRatePerMinute = 1_000_000
)

// Config is the whole configuration of a Frontdesk process.
type Config struct {
	// Addr is where the HTTP server listens (FRONTDESK_ADDR, --addr).
	// Defaults to 127.0.0.1:8080.
	Addr string
	// DatabaseURL selects the database (FRONTDESK_DATABASE_URL, --database-url):
	// "sqlite:PATH" for the embedded SQLite file, "postgres://..." for
	// Postgres. Defaults to sqlite:frontdesk.db.
	DatabaseURL string
	// RedisURL enables the Redis broker, presence and shared rate limits
	// (FRONTDESK_REDIS_URL, --redis-url). Empty (the default) uses memory.
	RedisURL string
	// RedisPrefix starts every Redis key and channel, so several clusters
	// (or test runs) can share one Redis (FRONTDESK_REDIS_PREFIX). Defaults
	// to "frontdesk:".
	RedisPrefix string
	// Migrate applies pending migrations at start (FRONTDESK_MIGRATE,
	// --migrate). Defaults to false: the server refuses to start with
	// pending migrations, so an upgrade is a deliberate step.
	Migrate bool
	// Demo seeds a demo workspace and serves a demo page (FRONTDESK_DEMO,
	// --demo). Implies Migrate. Defaults to false.
	Demo bool
	// Secret signs visitor tokens and session ids (FRONTDESK_SECRET). At least
	// 32 bytes; empty (the default) makes one and keeps it in the database,
	// so every node of a cluster shares it.
	Secret string
	// PublicURL is the URL visitors and agents reach this server at
	// (FRONTDESK_PUBLIC_URL, --public-url), used in the widget snippet.
	// Defaults to http://ADDR.
	PublicURL string
	// ShutdownTimeout bounds a graceful shutdown (FRONTDESK_SHUTDOWN_TIMEOUT,
	// --shutdown-timeout). Defaults to 15s.
	ShutdownTimeout time.Duration
	// MaxBodyBytes bounds any HTTP request body (FRONTDESK_MAX_BODY_BYTES);
	// each operation has its own, smaller bound (64 KiB for most, 4 MiB for
	// graphs and playbook files, 5 MiB for attachments). Defaults to 6 MiB.
	MaxBodyBytes int
	// VisitorStartsPerMinute bounds the conversations one client address
	// may start per minute, on all nodes together when Redis is set
	// (FRONTDESK_VISITOR_STARTS_PER_MINUTE, --visitor-starts-per-minute).
	// The whole allowance may be used at once; it is earned back evenly
	// over the minute. Resuming a conversation does not count. Defaults
	// to 60.
	VisitorStartsPerMinute int
	// VisitorMessagesPerMinute bounds the messages a visitor may send per
	// minute in one conversation, over all its sockets on all nodes
	// (FRONTDESK_VISITOR_MESSAGES_PER_MINUTE,
	// --visitor-messages-per-minute). Defaults to 120.
	VisitorMessagesPerMinute int
}

// Default returns the configuration with every default set.
func Default() Config {
	return Config{
		Addr:            DefaultAddr,
		DatabaseURL:     DefaultDatabaseURL,
		ShutdownTimeout: DefaultShutdownTimeout,
		MaxBodyBytes:    DefaultMaxBodyBytes,
		RedisPrefix:     DefaultRedisPrefix,

		VisitorStartsPerMinute:   DefaultVisitorStartsPerMinute,
		VisitorMessagesPerMinute: DefaultVisitorMessagesPerMinute,
	}
}

// Load reads the environment (through getenv) and then the flags in args.
// It returns the arguments left after the flags, and an error naming the
// setting at fault.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer) (Config, []string, error) {
	c := Default()
	var errs []error
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	boolean := func(key string, dst *bool) {
		if v := getenv(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a boolean", key, v))
				return
			}
			*dst = b
		}
	}
	str("FRONTDESK_ADDR", &c.Addr)
	str("FRONTDESK_DATABASE_URL", &c.DatabaseURL)
	str("FRONTDESK_REDIS_URL", &c.RedisURL)
	str("FRONTDESK_REDIS_PREFIX", &c.RedisPrefix)
	str("FRONTDESK_SECRET", &c.Secret)
	str("FRONTDESK_PUBLIC_URL", &c.PublicURL)
	boolean("FRONTDESK_MIGRATE", &c.Migrate)
	boolean("FRONTDESK_DEMO", &c.Demo)
	if v := getenv("FRONTDESK_SHUTDOWN_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("FRONTDESK_SHUTDOWN_TIMEOUT: %q is not a duration such as 15s", v))
		}
		c.ShutdownTimeout = d
	}
	integer := func(key string, dst *int) {
		if v := getenv(key); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a number", key, v))
				return
			}
			*dst = n
		}
	}
	integer("FRONTDESK_MAX_BODY_BYTES", &c.MaxBodyBytes)
	integer("FRONTDESK_VISITOR_STARTS_PER_MINUTE", &c.VisitorStartsPerMinute)
	integer("FRONTDESK_VISITOR_MESSAGES_PER_MINUTE", &c.VisitorMessagesPerMinute)
	if len(errs) > 0 {
		return c, nil, errors.Join(errs...)
	}

	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (FRONTDESK_ADDR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "sqlite:PATH or postgres://... (FRONTDESK_DATABASE_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "redis://... enables the Redis broker (FRONTDESK_REDIS_URL)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "URL visitors reach this server at (FRONTDESK_PUBLIC_URL)")
	fs.BoolVar(&c.Migrate, "migrate", c.Migrate, "apply pending migrations at start (FRONTDESK_MIGRATE)")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "seed a demo workspace and serve a demo page (FRONTDESK_DEMO)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "graceful shutdown bound (FRONTDESK_SHUTDOWN_TIMEOUT)")
	fs.IntVar(&c.VisitorStartsPerMinute, "visitor-starts-per-minute", c.VisitorStartsPerMinute, "new conversations per client address per minute, all nodes together (FRONTDESK_VISITOR_STARTS_PER_MINUTE)")
	fs.IntVar(&c.VisitorMessagesPerMinute, "visitor-messages-per-minute", c.VisitorMessagesPerMinute, "visitor messages per conversation per minute, all sockets and nodes together (FRONTDESK_VISITOR_MESSAGES_PER_MINUTE)")
	if err := fs.Parse(args); err != nil {
		return c, nil, err
	}
	if c.Demo {
		c.Migrate = true
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.Addr
	}
	return c, fs.Args(), c.Validate()
}

// Validate checks every setting and returns all faults, each naming its
// environment variable.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
		errs = append(errs, fmt.Errorf("FRONTDESK_ADDR: %q is not host:port", c.Addr))
	}
	switch {
	case strings.HasPrefix(c.DatabaseURL, "postgres://"), strings.HasPrefix(c.DatabaseURL, "postgresql://"):
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			errs = append(errs, fmt.Errorf("FRONTDESK_DATABASE_URL: %v", err))
		}
	case strings.HasPrefix(c.DatabaseURL, "sqlite:"):
		if strings.TrimPrefix(c.DatabaseURL, "sqlite:") == "" {
			errs = append(errs, errors.New("FRONTDESK_DATABASE_URL: sqlite: needs a file path"))
		}
	default:
		errs = append(errs, fmt.Errorf("FRONTDESK_DATABASE_URL: %q must start with sqlite: or postgres://", c.DatabaseURL))
	}
	if c.RedisURL != "" && !strings.HasPrefix(c.RedisURL, "redis://") && !strings.HasPrefix(c.RedisURL, "rediss://") {
		errs = append(errs, fmt.Errorf("FRONTDESK_REDIS_URL: %q must start with redis:// or rediss://", c.RedisURL))
	}
	if len(c.RedisPrefix) > 64 || strings.ContainsAny(c.RedisPrefix, " \r\n\t") {
		errs = append(errs, errors.New("FRONTDESK_REDIS_PREFIX: at most 64 bytes, no spaces"))
	}
	if c.Secret != "" && len(c.Secret) < 32 {
		errs = append(errs, errors.New("FRONTDESK_SECRET: must be at least 32 bytes"))
	}
	if u, err := url.Parse(c.PublicURL); c.PublicURL != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		errs = append(errs, fmt.Errorf("FRONTDESK_PUBLIC_URL: %q is not an http(s) URL", c.PublicURL))
	}
	if c.ShutdownTimeout <= 0 || c.ShutdownTimeout > 10*time.Minute {
		errs = append(errs, errors.New("FRONTDESK_SHUTDOWN_TIMEOUT: must be between 0s and 10m"))
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		errs = append(errs, errors.New("FRONTDESK_MAX_BODY_BYTES: must be between 1024 and 67108864"))
	}
	if c.VisitorStartsPerMinute < 1 || c.VisitorStartsPerMinute > MaxVisitorRatePerMinute {
		errs = append(errs, fmt.Errorf("FRONTDESK_VISITOR_STARTS_PER_MINUTE: must be between 1 and %d", MaxVisitorRatePerMinute))
	}
	if c.VisitorMessagesPerMinute < 1 || c.VisitorMessagesPerMinute > MaxVisitorRatePerMinute {
		errs = append(errs, fmt.Errorf("FRONTDESK_VISITOR_MESSAGES_PER_MINUTE: must be between 1 and %d", MaxVisitorRatePerMinute))
	}
	return errors.Join(errs...)
}
