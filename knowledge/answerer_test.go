package knowledge_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/knowledge"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// The runtime calls the answerer through this interface.
var _ chat.Answerer = (*knowledge.Answerer)(nil)

// bundle is a workspace with an admin and an assistant over a real store.
type bundle struct {
	store     *storage.Store
	ans       *knowledge.Answerer
	ws, admin string
	assistant *storage.Assistant
}

func setup(t *testing.T, s *storage.Store, defLang string, langs ...string) *bundle {
	t.Helper()
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, "Acme")
	require.NoError(t, err)
	u, err := s.CreateUser(ctx, w.ID, storage.NewUser{Email: "admin@acme.test", Role: storage.RoleAdmin})
	require.NoError(t, err)
	a, err := s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Sam's helper", DefaultLanguage: defLang, Languages: append([]string{defLang}, langs...)})
	require.NoError(t, err)
	ans := knowledge.NewAnswerer(s, knowledge.Options{})
	t.Cleanup(ans.Close)
	return &bundle{store: s, ans: ans, ws: w.ID, admin: u.ID, assistant: a}
}

// conv is a conversation of the bundle's assistant; the answerer only
// reads it.
func (b *bundle) conv(lang string) *storage.Conversation {
	return &storage.Conversation{ID: "conv-1", WorkspaceID: b.ws, AssistantID: b.assistant.ID, Language: lang}
}

func (b *bundle) save(t *testing.T, base knowledge.Base) int64 {
	t.Helper()
	ctx := context.Background()
	raw, err := json.Marshal(base)
	require.NoError(t, err)
	cur, err := b.store.GetKnowledgeHead(ctx, b.ws, b.assistant.ID)
	require.NoError(t, err)
	k, err := b.store.SaveKnowledge(ctx, b.ws, b.assistant.ID, cur.Revision, raw, b.admin)
	require.NoError(t, err)
	return k.Revision
}

func (b *bundle) ask(t *testing.T, mode engine.AnswerMode, lang, q string) engine.Answer {
	t.Helper()
	a, err := b.ans.Answer(context.Background(), b.ws, b.conv(lang), engine.AnswerRequest{Mode: mode, Question: q, Language: lang})
	require.NoError(t, err)
	return a
}

func TestAnswererUsesThePrefilledGuidanceUntilSaved(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		b := setup(t, s, "fr", "en")
		a := b.ask(t, engine.AnswerFAQ, "fr", "Quels sont vos tarifs ?")
		require.True(t, a.Matched)
		require.Contains(t, a.Text, "Mes tarifs dépendent")
		// The English guidance too, since the assistant speaks English.
		a = b.ask(t, engine.AnswerFAQ, "en", "How long does delivery take?")
		require.Contains(t, a.Text, "Delivery time depends")
		// Unknown: not matched in faq mode, handover in llm mode.
		require.Equal(t, engine.Answer{}, b.ask(t, engine.AnswerFAQ, "fr", "Quel temps fait-il à Lyon ?"))
		require.Equal(t, engine.Answer{Handover: true}, b.ask(t, engine.AnswerLLM, "fr", "Quel temps fait-il à Lyon ?"))
	})
}

func TestKnowledgeChangeRebuildsTheSharedIndex(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		b := setup(t, s, "en")
		base := webDesigner()
		require.Equal(t, int64(1), b.save(t, base))

		const q = "What are your prices?"
		require.Equal(t, base.FAQ[0].Answer, b.ask(t, engine.AnswerFAQ, "en", q).Text)
		// Every conversation shares the index: asking again, from many
		// conversations at once, builds nothing.
		var wg sync.WaitGroup
		for range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, err := b.ans.Answer(context.Background(), b.ws, b.conv("en"), engine.AnswerRequest{Mode: engine.AnswerFAQ, Question: q})
				require.NoError(t, err)
				require.Equal(t, base.FAQ[0].Answer, a.Text)
			}()
		}
		wg.Wait()
		cached, builds := b.ans.Cache().Stats()
		require.Equal(t, 1, cached)
		require.Equal(t, 1, builds)

		// A change is a new revision: the next answer uses a new index, and
		// the old revision's is dropped at once.
		base.FAQ[0].Answer = "Prices went up: a landing page is now $450."
		require.Equal(t, int64(2), b.save(t, base))
		require.Equal(t, "Prices went up: a landing page is now $450.", b.ask(t, engine.AnswerFAQ, "en", q).Text)
		cached, builds = b.ans.Cache().Stats()
		require.Equal(t, 1, cached)
		require.Equal(t, 2, builds)

		// Changing the threshold needs no rebuild: it applies at answer
		// time.
		st := knowledge.DefaultSettings()
		st.Threshold = 1
		_, err := s.SaveAnswererSettings(context.Background(), b.ws, st.Store())
		require.NoError(t, err)
		require.Equal(t, engine.Answer{}, b.ask(t, engine.AnswerFAQ, "en", "how long until my site is delivered?"))
		require.True(t, b.ask(t, engine.AnswerFAQ, "en", q).Matched, "an exact phrasing passes threshold 1")
		_, builds = b.ans.Cache().Stats()
		require.Equal(t, 2, builds)
	})
}

func TestAnswererIsolatesTenants(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	victim := setup(t, s, "en")
	victim.save(t, webDesigner())
	other := setup(t, s, "en")
	ctx := context.Background()
	// A conversation claiming the victim's assistant under another
	// workspace gets nothing from it.
	conv := &storage.Conversation{ID: "c", WorkspaceID: other.ws, AssistantID: victim.assistant.ID}
	a, err := other.ans.Answer(ctx, other.ws, conv, engine.AnswerRequest{Mode: engine.AnswerFAQ, Question: "What are your prices?"})
	require.NoError(t, err)
	require.Equal(t, engine.Answer{}, a)
	a, err = other.ans.Answer(ctx, other.ws, conv, engine.AnswerRequest{Mode: engine.AnswerLLM, Question: "What are your prices?"})
	require.NoError(t, err)
	require.Equal(t, engine.Answer{Handover: true}, a)
	_, err = other.ans.Index(ctx, other.ws, victim.assistant.ID)
	require.ErrorIs(t, err, storage.ErrNotFound)
	// No assistant (a channel's default response): nothing either.
	a, err = other.ans.Answer(ctx, other.ws, &storage.Conversation{ID: "d", WorkspaceID: other.ws}, engine.AnswerRequest{Mode: engine.AnswerFAQ, Question: "prices"})
	require.NoError(t, err)
	require.Equal(t, engine.Answer{}, a)
}

func TestAnswererDatabaseFailureIsAnError(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	b := setup(t, s, "en")
	require.NoError(t, s.Close())
	_, err := b.ans.Answer(context.Background(), b.ws, b.conv("en"), engine.AnswerRequest{Mode: engine.AnswerFAQ, Question: "prices"})
	require.Error(t, err, "the runtime logs it and hands over")
}

// useModel points the workspace's llm_answer nodes at the fake.
func (b *bundle) useModel(t *testing.T, f *fakeLLM, timeout time.Duration) {
	t.Helper()
	st := llmSettings(f)
	st.Timeout = timeout
	_, err := b.store.SaveAnswererSettings(context.Background(), b.ws, st.Store())
	require.NoError(t, err)
}

func TestAnswererAsksTheModelInLLMMode(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	b := setup(t, s, "en", "fr")
	base := webDesigner()
	b.save(t, base)
	f := newFakeLLM(t)
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeCompletion(w, "Une landing page commence à 400 $.", "stop")
	})
	b.useModel(t, f, 2*time.Second)

	a := b.ask(t, engine.AnswerLLM, "fr", "C'est combien, une landing page ?")
	require.Equal(t, engine.Answer{Matched: true, Text: "Une landing page commence à 400 $."}, a)
	req := f.last()
	sys := req.Body.Messages[0].Content
	require.Equal(t, "system", req.Body.Messages[0].Role)
	require.Contains(t, sys, "You are Sam's helper")
	require.Contains(t, sys, "Reply in French")
	require.Contains(t, sys, base.Bio)
	require.Contains(t, sys, "- Logo design", "the don't-offer rules")
	require.Contains(t, sys, "balanced.", "the pricing style")
	require.Contains(t, sys, "Q: Quels sont vos tarifs ?", "the FAQ, in the visitor's language where translated")
	require.Contains(t, sys, "HANDOVER")
	require.Equal(t, knowledge.Message{Role: "user", Content: "C'est combien, une landing page ?"}, req.Body.Messages[1])

	// faq nodes never call the model.
	n := len(f.got())
	require.Equal(t, base.FAQ[0].Answer, b.ask(t, engine.AnswerFAQ, "en", "What are your prices?").Text)
	require.Len(t, f.got(), n)

	// The model asks for a human; it fails; it is slow: each hands over.
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeToolCall(w, "handover", `{"reason":"custom app"}`)
	})
	require.Equal(t, engine.Answer{Handover: true}, b.ask(t, engine.AnswerLLM, "en", "Can you build me a booking app?"))
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeError(w, http.StatusTooManyRequests, "slow down")
	})
	require.Equal(t, engine.Answer{Handover: true}, b.ask(t, engine.AnswerLLM, "en", "What are your prices?"))
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeError(w, http.StatusInternalServerError, "boom")
	})
	require.Equal(t, engine.Answer{Handover: true}, b.ask(t, engine.AnswerLLM, "en", "What are your prices?"))
	f.setReply(func(w http.ResponseWriter, r *http.Request, _ fakeRequest) { <-r.Context().Done() })
	b.useModel(t, f, time.Second)
	start := time.Now()
	require.Equal(t, engine.Answer{Handover: true}, b.ask(t, engine.AnswerLLM, "en", "What are your prices?"))
	require.Less(t, time.Since(start), 3*time.Second)

	// Summaries come from the model too.
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeCompletion(w, "Wants a site.", "stop")
	})
	sum, err := b.ans.Summarize(context.Background(), b.ws, "visitor: I want a site")
	require.NoError(t, err)
	require.Equal(t, "Wants a site.", sum)
}

func TestSummarizeNeedsAModel(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	b := setup(t, s, "en")
	_, err := b.ans.Summarize(context.Background(), b.ws, "visitor: hi")
	require.ErrorIs(t, err, knowledge.ErrNoLLM)
}

func TestCache(t *testing.T) {
	t.Parallel()
	ix := mustBuild(t, webDesigner())
	ctx := context.Background()
	c := knowledge.NewCache(2)
	var calls int
	build := func() (*knowledge.Index, error) { calls++; return ix, nil }

	// One build for many concurrent callers of one key.
	gate := make(chan struct{})
	var mu sync.Mutex
	slow := func() (*knowledge.Index, error) {
		<-gate
		mu.Lock()
		calls++
		mu.Unlock()
		return ix, nil
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got, err := c.Get(ctx, "a@1", "a", slow)
			require.NoError(t, err)
			require.Same(t, ix, got)
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(gate)
	wg.Wait()
	require.Equal(t, 1, calls)

	// A waiter whose context ends stops waiting.
	block, started := make(chan struct{}), make(chan struct{})
	go func() {
		_, _ = c.Get(ctx, "b@1", "b", func() (*knowledge.Index, error) { close(started); <-block; return ix, nil })
	}()
	<-started
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err := c.Get(short, "b@1", "b", build)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(block)

	// Bounded: the least recently used goes; a new revision replaces the
	// old one of the same assistant.
	calls = 0
	c = knowledge.NewCache(2)
	for _, k := range []string{"a@1", "b@1", "a@1", "c@1"} {
		_, err := c.Get(ctx, k, k[:1], build)
		require.NoError(t, err)
	}
	cached, builds := c.Stats()
	require.Equal(t, 2, cached)
	require.Equal(t, 3, builds)
	_, _ = c.Get(ctx, "a@1", "a", build)
	_, builds = c.Stats()
	require.Equal(t, 3, builds, "a@1 was used more recently than b@1, which went")
	_, _ = c.Get(ctx, "a@2", "a", build)
	cached, _ = c.Stats()
	require.Equal(t, 2, cached, "a@2 replaced a@1")
	_, _ = c.Get(ctx, "c@1", "c", build)
	_, builds = c.Stats()
	require.Equal(t, 4, builds, "c@1 stayed")

	// Failures are not cached; a panicking build is an error.
	boom := errors.New("boom")
	_, err = c.Get(ctx, "d@1", "d", func() (*knowledge.Index, error) { return nil, boom })
	require.ErrorIs(t, err, boom)
	_, err = c.Get(ctx, "d@1", "d", func() (*knowledge.Index, error) { panic("bad base") })
	require.ErrorContains(t, err, "panicked")
	got, err := c.Get(ctx, "d@1", "d", build)
	require.NoError(t, err)
	require.Same(t, ix, got)
}
