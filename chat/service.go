package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// Publisher fans events out to subscribers after a commit. realtime.Broker
// satisfies it. Delivery is best effort: subscribers that miss an event
// catch up from the database by seq.
type Publisher interface {
	Publish(ctx context.Context, topic string, payload []byte) error
}

// Presence tells how many agents of a workspace are online.
type Presence interface {
	OnlineAgents(ctx context.Context, ws string) int
}

// Answerer answers visitors' questions for faq and llm_answer nodes. It may
// be slow; it runs outside any transaction.
type Answerer interface {
	Answer(ctx context.Context, ws string, conv *storage.Conversation, req engine.AnswerRequest) (engine.Answer, error)
}

// Summarizer writes a handover summary from a chat's transcript, when the
// workspace has a language model configured; an error (no model, a
// failure) keeps the built-in structured summary alone.
type Summarizer interface {
	Summarize(ctx context.Context, ws, transcript string) (string, error)
}

// HTTPDoer makes an http_call node's request. The default refuses internal
// targets (SSRF) at dial time and bounds time and size.
type HTTPDoer interface {
	Do(ctx context.Context, req engine.HTTPRequest) engine.HTTPResult
}

// Metrics receives the runtime's counters; nil disables them.
type Metrics interface {
	StepDone(kind engine.EventType, d time.Duration, err error)
	TimerFired(lag time.Duration)
}

// Config configures a Service. Zero fields take the documented defaults.
type Config struct {
	Store     *storage.Store
	Publisher Publisher
	Presence  Presence
	// Answerer defaults to one that matches nothing, so faq and llm_answer
	// nodes take their not_matched and handover ports.
	Answerer Answerer
	// HTTP defaults to NewHTTPDoer(DefaultHTTPPolicy).
	HTTP HTTPDoer
	// Summarizer, when set, writes a summary of each handed-over chat.
	Summarizer Summarizer
	// Now defaults to time.Now.
	Now     func() time.Time
	Logger  *slog.Logger
	Metrics Metrics
	// MaxSlowWork bounds answers and HTTP calls in flight. Defaults to 64;
	// past it new slow work waits.
	MaxSlowWork int
	// MaxInFlight bounds the events (visitor messages, starts, agent
	// actions, timers) being run at once; past it an event waits up to
	// MaxWait for a turn and then fails with ErrOverloaded, so an
	// overloaded node answers "retry" quickly instead of queueing work its
	// clients have given up on. Defaults to 256 and 2s.
	MaxInFlight int
	MaxWait     time.Duration
	// VersionCacheSize bounds the compiled versions kept. Defaults to 256.
	VersionCacheSize int
	// TimerPoll is how often the timer worker looks for due timers.
	// Defaults to 200ms.
	TimerPoll time.Duration
}

// Service runs conversations. Every event is one transaction: lock the
// conversation, engine.Step, save the state with the messages, timers,
// leads, events and outbox rows it produced, commit, then publish. Slow
// effects run after the commit and come back as events.
type Service struct {
	store    *storage.Store
	pub      Publisher
	presence Presence
	answerer Answerer
	summary  Summarizer
	http     HTTPDoer
	now      func() time.Time
	log      *slog.Logger
	metrics  Metrics
	versions *compiledCache
	slow     chan struct{}
	inFlight chan struct{}
	maxWait  time.Duration
	poll     time.Duration

	mu      sync.Mutex
	closed  bool
	pending sync.WaitGroup

	settingsMu sync.Mutex
	settings   map[string]cachedSettings
}

// New builds a Service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Answerer == nil {
		c.Answerer = NoAnswerer{}
	}
	if c.HTTP == nil {
		c.HTTP = NewHTTPDoer(DefaultHTTPPolicy)
	}
	if c.Presence == nil {
		c.Presence = NewMemoryPresence()
	}
	if c.Publisher == nil {
		c.Publisher = discard{}
	}
	if c.MaxSlowWork <= 0 {
		c.MaxSlowWork = 64
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 256
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 2 * time.Second
	}
	if c.VersionCacheSize <= 0 {
		c.VersionCacheSize = 256
	}
	if c.TimerPoll <= 0 {
		c.TimerPoll = 200 * time.Millisecond
	}
	return &Service{
		store: c.Store, pub: c.Publisher, presence: c.Presence, answerer: c.Answerer, http: c.HTTP, summary: c.Summarizer,
		now: c.Now, log: c.Logger, metrics: c.Metrics,
		versions: newCompiledCache(c.VersionCacheSize),
		slow:     make(chan struct{}, c.MaxSlowWork),
		inFlight: make(chan struct{}, c.MaxInFlight),
		maxWait:  c.MaxWait,
		poll:     c.TimerPoll,
		settings: map[string]cachedSettings{},
	}
}

type discard struct{}

func (discard) Publish(context.Context, string, []byte) error { return nil }

// NoAnswerer matches nothing: faq nodes take not_matched, llm_answer nodes
// hand over.
type NoAnswerer struct{}

// Answer implements Answerer.
func (NoAnswerer) Answer(_ context.Context, _ string, _ *storage.Conversation, req engine.AnswerRequest) (engine.Answer, error) {
	if req.Mode == engine.AnswerLLM {
		return engine.Answer{Handover: true}, nil
	}
	return engine.Answer{}, nil
}

// Errors the service returns besides storage's.
var (
	// ErrClosed: the conversation is closed; it takes no new messages.
	ErrClosed = errors.New("chat: the conversation is closed")
	// ErrShuttingDown: the service is stopping and takes no new work.
	ErrShuttingDown = errors.New("chat: shutting down")
	// ErrOverloaded: Config.MaxInFlight events were running for all of
	// Config.MaxWait; nothing was stored. It wraps storage.ErrBusy, so
	// callers that retry on a busy database retry on it too.
	ErrOverloaded = fmt.Errorf("%w: chat: too many events in flight", storage.ErrBusy)
)

// Topic names. Subscribers of a conversation topic get its message events;
// the inbox topic carries queue changes for a workspace's agents.
func ConversationTopic(ws, conversationID string) string { return "conv:" + ws + ":" + conversationID }

// InboxTopic is the workspace's inbox topic.
func InboxTopic(ws string) string { return "inbox:" + ws }

// Wait blocks until slow work started before finishes, or ctx ends. The
// server calls it during a graceful shutdown, after it stops taking events.
func (s *Service) Wait(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.pending.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// compiledCache keeps compiled versions: compile once when a version is
// first used, never per message. Bounded; the least recently used goes.
type compiledCache struct {
	mu    sync.Mutex
	max   int
	tick  uint64
	items map[string]*cacheItem
}

type cacheItem struct {
	c    *engine.Compiled
	used uint64
}

func newCompiledCache(max int) *compiledCache {
	return &compiledCache{max: max, items: map[string]*cacheItem{}}
}

func (k *compiledCache) get(key string) *engine.Compiled {
	k.mu.Lock()
	defer k.mu.Unlock()
	it, ok := k.items[key]
	if !ok {
		return nil
	}
	k.tick++
	it.used = k.tick
	return it.c
}

func (k *compiledCache) put(key string, c *engine.Compiled) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.items) >= k.max {
		var oldest string
		var min uint64 = ^uint64(0)
		for key, it := range k.items {
			if it.used < min {
				oldest, min = key, it.used
			}
		}
		delete(k.items, oldest)
	}
	k.tick++
	k.items[key] = &cacheItem{c: c, used: k.tick}
}

// ErrPreviewStale: the draft was saved since the preview chat started; the
// preview restarts on the new draft.
var ErrPreviewStale = errors.New("chat: the draft changed since this preview started")

// compiled returns the compiled graph a conversation runs: its pinned
// version, the draft revision of a preview, the queue of a chat that went
// straight to the agents, or its channel's default response.
func (s *Service) compiled(ctx context.Context, tx *storage.Store, conv *storage.Conversation) (*engine.Compiled, error) {
	switch {
	case conv.Preview:
		return s.compiledDraft(ctx, tx, conv)
	case conv.Route == storage.RouteQueue:
		return s.compileCached("q", func() *engine.Graph { return DefaultResponse{}.QueueGraph() })
	case conv.VersionID == "":
		var ch *storage.Channel
		if conv.ChannelID != "" {
			var err error
			if ch, err = tx.GetChannel(ctx, conv.WorkspaceID, conv.ChannelID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, err
			}
		}
		dr := DefaultResponseOf(ch)
		raw, _ := json.Marshal(dr)
		return s.compileCached("d:"+string(raw), dr.Graph)
	}
	key := "v:" + conv.VersionID
	if c := s.versions.get(key); c != nil {
		return c, nil
	}
	v, err := tx.GetVersion(ctx, conv.WorkspaceID, conv.VersionID)
	if err != nil {
		return nil, err
	}
	c, err := compileGraph(v.Graph)
	if err != nil {
		return nil, fmt.Errorf("chat: version %s no longer compiles: %w", v.ID, err)
	}
	s.versions.put(key, c)
	return c, nil
}

func (s *Service) compileCached(key string, graph func() *engine.Graph) (*engine.Compiled, error) {
	if c := s.versions.get(key); c != nil {
		return c, nil
	}
	c, err := engine.Compile(graph(), engine.Options{})
	if err != nil {
		return nil, fmt.Errorf("chat: built-in graph does not compile: %w", err)
	}
	s.versions.put(key, c)
	return c, nil
}

// compiledDraft compiles the draft a preview runs, at the revision the
// preview started on.
func (s *Service) compiledDraft(ctx context.Context, tx *storage.Store, conv *storage.Conversation) (*engine.Compiled, error) {
	// The draft is read on every preview step: a save must restart the
	// preview at once, and preview chats are few.
	d, err := tx.GetDraft(ctx, conv.WorkspaceID, conv.AssistantID)
	if err != nil {
		return nil, err
	}
	if d.Revision != conv.DraftRevision {
		return nil, ErrPreviewStale
	}
	key := fmt.Sprintf("p:%s:%d", conv.AssistantID, conv.DraftRevision)
	if c := s.versions.get(key); c != nil {
		return c, nil
	}
	c, err := compileGraph(d.Graph)
	if err != nil {
		return nil, err
	}
	s.versions.put(key, c)
	return c, nil
}

func compileGraph(raw []byte) (*engine.Compiled, error) {
	var g engine.Graph
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, fmt.Errorf("chat: graph: %w", err)
	}
	return engine.Compile(&g, engine.Options{})
}

// settingsTTL is how long an assistant's settings are cached: a change
// reaches running chats within it.
const settingsTTL = 5 * time.Second

type cachedSettings struct {
	s  AssistantSettings
	at time.Time
}

// settingsOf returns an assistant's settings, cached briefly so a visitor
// message does not read them each time. Unreadable settings give the
// defaults.
func (s *Service) settingsOf(ctx context.Context, tx *storage.Store, ws, assistantID string) AssistantSettings {
	if assistantID == "" {
		return AssistantSettings{}
	}
	now := s.now()
	s.settingsMu.Lock()
	c, ok := s.settings[assistantID]
	s.settingsMu.Unlock()
	if ok && now.Sub(c.at) < settingsTTL {
		return c.s
	}
	var st AssistantSettings
	if a, err := tx.GetAssistant(ctx, ws, assistantID); err == nil {
		if parsed, err := ParseSettings(a.Settings); err == nil {
			st = parsed
		} else {
			s.log.Warn("assistant settings unreadable; using the defaults", "assistant", assistantID, "err", err)
		}
	}
	s.settingsMu.Lock()
	if len(s.settings) >= 10_000 {
		s.settings = map[string]cachedSettings{}
	}
	s.settings[assistantID] = cachedSettings{s: st, at: now}
	s.settingsMu.Unlock()
	return st
}
