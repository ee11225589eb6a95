package knowledge

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// buildTimeout bounds the database reads of an index build, which runs
// for every caller waiting on it rather than for the first one only.
const buildTimeout = 10 * time.Second

// Options tunes an Answerer. Zero fields take the documented defaults.
type Options struct {
	// CacheSize bounds the indexes kept. Defaults to DefaultCacheSize.
	CacheSize int
	// HTTPClient sends model requests. Defaults to a client that follows
	// no redirect (see OpenAIOptions).
	HTTPClient *http.Client
	// MaxResponseBytes bounds a model's response body. Defaults to
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Answerer answers visitors' questions from their assistant's knowledge
// base; it implements chat.Answerer. It is safe for concurrent use, and
// one Answerer serves every workspace: the indexes it builds are shared by
// all conversations of an assistant and rebuilt when the knowledge base's
// revision changes.
//
// faq nodes always get the built-in answerer (Index.Decide). llm_answer
// nodes get the workspace's OpenAI-compatible endpoint when one is
// configured, else the built-in answerer, which hands over below the
// threshold. A model that fails, times out, refuses or asks for it hands
// over; Answer returns an error only when the database fails.
type Answerer struct {
	store  *storage.Store
	cache  *Cache
	hc     *http.Client
	max    int64
	log    *slog.Logger
	compat *compatMemo
}

// NewAnswerer returns an Answerer over the store.
func NewAnswerer(store *storage.Store, opts Options) *Answerer {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultHTTPClient()
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = DefaultMaxResponseBytes
	}
	return &Answerer{
		store: store, cache: NewCache(opts.CacheSize), hc: opts.HTTPClient, max: opts.MaxResponseBytes,
		log: opts.Logger, compat: newCompatMemo(),
	}
}

// Cache returns the answerer's index cache, for stats.
func (a *Answerer) Cache() *Cache { return a.cache }

// Close releases the cached indexes. Call it at shutdown, after the
// runtime's slow work has drained.
func (a *Answerer) Close() { a.cache.Close() }

// Answer implements chat.Answerer.
func (a *Answerer) Answer(ctx context.Context, ws string, conv *storage.Conversation, req engine.AnswerRequest) (engine.Answer, error) {
	if conv == nil || conv.AssistantID == "" {
		// A channel's default response has no assistant, so no knowledge.
		return nothing(req.Mode), nil
	}
	ix, head, err := a.index(ctx, ws, conv.AssistantID)
	if errors.Is(err, storage.ErrNotFound) {
		// The assistant was deleted while the chat went on.
		return nothing(req.Mode), nil
	}
	if err != nil {
		return engine.Answer{}, err
	}
	s, err := a.Settings(ctx, ws)
	if err != nil {
		return engine.Answer{}, err
	}
	lang := req.Language
	if lang == "" {
		lang = conv.Language
	}
	if lang == "" {
		lang = ix.base.Language
	}
	if req.Mode == engine.AnswerLLM && s.Mode == ModeOpenAI {
		return a.askModel(ctx, conv, ix, head, s, req.Question, lang), nil
	}
	d := ix.Decide(req.Question, lang, req.Mode, s.Threshold)
	a.log.Debug("knowledge: answered", "conversation", conv.ID, "mode", req.Mode, "reason", d.Reason,
		"confidence", conf(d.Hit), "matched", d.Answer.Matched, "handover", d.Answer.Handover)
	return d.Answer, nil
}

// nothing is the answer without knowledge: faq nodes take not_matched,
// llm_answer nodes hand over.
func nothing(mode engine.AnswerMode) engine.Answer {
	return engine.Answer{Handover: mode == engine.AnswerLLM}
}

// askModel answers with the workspace's model: the prompt carries the
// knowledge base and the retrieved FAQ entries; anything but a usable
// reply hands over.
func (a *Answerer) askModel(ctx context.Context, conv *storage.Conversation, ix *Index, head *storage.KnowledgeHead, s Settings, question, lang string) engine.Answer {
	start := time.Now()
	msgs := ix.Prompt(head.AssistantName, question, lang, ix.Search(question, lang))
	c, err := a.client(s)
	if err != nil {
		a.log.Warn("knowledge: the answerer's endpoint is misconfigured; handing over", "conversation", conv.ID, "err", err)
		return engine.Answer{Handover: true}
	}
	reply, err := c.Chat(ctx, msgs, true)
	if err != nil {
		a.log.Warn("knowledge: model call failed; handing over", "conversation", conv.ID, "model", s.Model,
			"elapsed", time.Since(start).Round(time.Millisecond), "err", err)
		return engine.Answer{Handover: true}
	}
	if reply.Handover {
		a.log.Info("knowledge: the model handed over", "conversation", conv.ID, "reason", reply.Reason)
		return engine.Answer{Handover: true}
	}
	return engine.Answer{Matched: true, Text: reply.Text}
}

func (a *Answerer) client(s Settings) (*OpenAI, error) {
	return NewOpenAI(s, OpenAIOptions{HTTPClient: a.hc, MaxResponseBytes: a.max, compat: a.compat})
}

// Summarize has the workspace's model write a handover summary of a
// transcript (see OpenAI.Summarize). It returns ErrNoLLM when the
// workspace uses the built-in answerer: the caller keeps the built-in,
// structured summary.
func (a *Answerer) Summarize(ctx context.Context, ws, transcript string) (string, error) {
	s, err := a.Settings(ctx, ws)
	if err != nil {
		return "", err
	}
	if s.Mode != ModeOpenAI {
		return "", ErrNoLLM
	}
	c, err := a.client(s)
	if err != nil {
		return "", err
	}
	return c.Summarize(ctx, transcript)
}

// Settings returns the workspace's answerer settings, or the defaults
// when it saved none.
func (a *Answerer) Settings(ctx context.Context, ws string) (Settings, error) {
	row, err := a.store.GetAnswererSettings(ctx, ws)
	if errors.Is(err, storage.ErrNotFound) {
		return DefaultSettings(), nil
	}
	if err != nil {
		return Settings{}, err
	}
	return SettingsFromStore(row), nil
}

// Index returns the assistant's index at its current revision, building it
// on first use. An assistant not in the workspace gives ErrNotFound.
func (a *Answerer) Index(ctx context.Context, ws, assistantID string) (*Index, error) {
	ix, _, err := a.index(ctx, ws, assistantID)
	return ix, err
}

// index reads the knowledge revision (one query) and returns the cached
// index for it. Revisions only grow: if a save lands between the head and
// the load, the newer base is cached under the older key, which no caller
// asks for once it sees the new revision.
func (a *Answerer) index(ctx context.Context, ws, assistantID string) (*Index, *storage.KnowledgeHead, error) {
	head, err := a.store.GetKnowledgeHead(ctx, ws, assistantID)
	if err != nil {
		return nil, nil, err
	}
	key := fmt.Sprintf("%s/%s@%d", ws, assistantID, head.Revision)
	if head.Revision == 0 {
		// The pre-filled guidance follows the assistant's languages.
		key += "/" + head.DefaultLanguage + "/" + strings.Join(head.Languages, ",")
	}
	ix, err := a.cache.Get(ctx, key, ws+"/"+assistantID, func() (*Index, error) {
		// Other questions may be waiting for this build: it must not fail
		// because the first asker gave up.
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), buildTimeout)
		defer cancel()
		st, err := Load(bctx, a.store, ws, assistantID)
		if err != nil {
			return nil, err
		}
		return Build(st.Base)
	})
	return ix, head, err
}

// Stored is a knowledge base as stored, with its revision.
type Stored struct {
	Base Base
	// Revision is 0 when the base was never saved: Base is then the
	// pre-filled guidance in the assistant's languages.
	Revision  int64
	UpdatedAt time.Time
	UpdatedBy string
}

// Load reads an assistant's knowledge base: the saved one, normalized, or
// the pre-filled guidance (Defaults) in the assistant's default language
// and languages. An assistant not in the workspace gives ErrNotFound.
func Load(ctx context.Context, st *storage.Store, ws, assistantID string) (*Stored, error) {
	head, err := st.GetKnowledgeHead(ctx, ws, assistantID)
	if err != nil {
		return nil, err
	}
	if head.Revision == 0 {
		return &Stored{Base: Defaults(head.DefaultLanguage, head.Languages)}, nil
	}
	k, err := st.GetKnowledge(ctx, ws, assistantID)
	if errors.Is(err, storage.ErrNotFound) {
		// Deleted between the two reads: as never saved.
		return &Stored{Base: Defaults(head.DefaultLanguage, head.Languages)}, nil
	}
	if err != nil {
		return nil, err
	}
	var b Base
	if err := json.Unmarshal(k.Document, &b); err != nil {
		return nil, fmt.Errorf("knowledge: stored document of assistant %s does not decode: %w", assistantID, err)
	}
	b.Normalize(head.DefaultLanguage)
	return &Stored{Base: b, Revision: k.Revision, UpdatedAt: k.UpdatedAt, UpdatedBy: k.UpdatedBy}, nil
}
