package chat

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// clock is a test clock the service reads instead of the real one.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// recorder is a Publisher that keeps what was published.
type recorder struct {
	mu     sync.Mutex
	topics []string
}

func (r *recorder) Publish(_ context.Context, topic string, _ []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.topics = append(r.topics, topic)
	return nil
}

type bundle struct {
	store    *storage.Store
	svc      *Service
	clock    *clock
	presence *MemoryPresence
	ws       string
	channel  *storage.Channel
	pub      *recorder
}

// setup creates a workspace with a channel whose assistant runs template
// (published), or no assistant when template is "".
func setup(t *testing.T, store *storage.Store, template string) *bundle {
	t.Helper()
	ctx := context.Background()
	b := &bundle{store: store, clock: &clock{now: time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)}, presence: NewMemoryPresence(), pub: &recorder{}}
	w, err := store.CreateWorkspace(ctx, "Acme")
	require.NoError(t, err)
	b.ws = w.ID
	ch, err := store.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Website", AllowedOrigins: []string{"https://shop.example"}})
	require.NoError(t, err)
	if template != "" {
		f, err := playbooks.Template(template)
		require.NoError(t, err)
		a, err := store.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava"})
		require.NoError(t, err)
		graph, err := json.Marshal(f.Graph)
		require.NoError(t, err)
		_, err = store.PublishVersion(ctx, w.ID, a.ID, graph, "")
		require.NoError(t, err)
		require.NoError(t, store.ConnectAssistant(ctx, w.ID, ch.ID, a.ID))
		ch, err = store.GetChannel(ctx, w.ID, ch.ID)
		require.NoError(t, err)
	}
	b.channel = ch
	b.svc = b.service()
	return b
}

func (b *bundle) service() *Service {
	return New(Config{Store: b.store, Publisher: b.pub, Presence: b.presence, Now: b.clock.Now})
}

func texts(res *Result) []string {
	var out []string
	for _, m := range res.Messages {
		if m.Author != storage.AuthorVisitor {
			out = append(out, m.Body)
		}
	}
	return out
}

func TestLeadQualificationToTheEnd(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		b.presence.Set(b.ws, "agent-1", Online)
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true, Locale: "en-US"})
		require.NoError(t, err)
		conv := res.Conversation
		require.NotEmpty(t, conv.VersionID, "pinned to the published version")
		require.Len(t, texts(res), 1)

		for i, in := range []string{"Get a quote", "4", "$200", "solo@example.com", "Just exploring", "Léa", "skip"} {
			res, err = b.svc.VisitorMessage(ctx, b.ws, conv.ID, "c"+string(rune('a'+i)), in)
			require.NoError(t, err, "after %q", in)
		}
		require.Contains(t, texts(res)[0], "Thanks Léa!")
		require.Equal(t, storage.StatusClosed, res.Conversation.Status)
		require.NotNil(t, res.Lead)
		require.Equal(t, "solo@example.com", res.Lead.Email)

		msgs, err := store.ListMessages(ctx, b.ws, conv.ID, 500)
		require.NoError(t, err)
		for i, m := range msgs {
			require.Equal(t, int64(i+1), m.Seq, "seq grows by one")
		}
		leads, err := store.ListLeads(ctx, b.ws, storage.LeadFilter{ConversationID: conv.ID})
		require.NoError(t, err)
		require.Len(t, leads, 1)
		outbox, err := store.ListOutbox(ctx, b.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		var types []string
		for _, o := range outbox {
			types = append(types, o.EventType)
		}
		require.Contains(t, types, "lead.created")
		require.Contains(t, types, "conversation.closed")

		// A closed chat takes no new message.
		_, err = b.svc.VisitorMessage(ctx, b.ws, conv.ID, "late", "hello?")
		require.ErrorIs(t, err, ErrClosed)
	})
}

func TestRetriedClientIDIsStoredOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
		require.NoError(t, err)
		conv := res.Conversation
		first, err := b.svc.VisitorMessage(ctx, b.ws, conv.ID, "same-id", "Get a quote")
		require.NoError(t, err)
		again, err := b.svc.VisitorMessage(ctx, b.ws, conv.ID, "same-id", "Get a quote")
		require.NoError(t, err)
		require.True(t, again.Duplicate)
		require.Equal(t, first.Stored.Seq, again.Stored.Seq)
		require.Empty(t, texts(again), "a retry runs no step")
		msgs, err := store.ListMessages(ctx, b.ws, conv.ID, 500)
		require.NoError(t, err)
		require.Len(t, msgs, 3, "greeting, the visitor's message once, the bot's question")
	})
}

func TestHandoverTimesOutToCaptureAcrossARestart(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "live-chat")
		b.presence.Set(b.ws, "agent-1", Online)
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true, Locale: "en"})
		require.NoError(t, err)
		conv := res.Conversation
		require.Equal(t, storage.StatusUnassigned, conv.Status)
		timers, err := store.ListTimers(ctx, b.ws, conv.ID)
		require.NoError(t, err)
		require.Len(t, timers, 1)

		// Nothing is due yet.
		require.Equal(t, 0, b.svc.FireDueTimers(ctx))

		// The process restarts: a new service on the same database fires
		// the stored timer once the wait is over.
		restarted := b.service()
		b.clock.Advance(10 * time.Minute)
		require.Equal(t, 1, restarted.FireDueTimers(ctx))
		require.Equal(t, 0, restarted.FireDueTimers(ctx), "fired once")
		got, err := store.GetConversation(ctx, b.ws, conv.ID)
		require.NoError(t, err)
		require.Equal(t, storage.StatusBot, got.Status)
		msgs, err := store.ListMessages(ctx, b.ws, conv.ID, 500)
		require.NoError(t, err)
		require.Contains(t, msgs[len(msgs)-1].Body, "What's your name?")

		for i, in := range []string{"Jane Doe", "jane@example.com", "Call me back please"} {
			_, err = restarted.VisitorMessage(ctx, b.ws, conv.ID, "m"+string(rune('0'+i)), in)
			require.NoError(t, err)
		}
		leads, err := store.ListLeads(ctx, b.ws, storage.LeadFilter{ConversationID: conv.ID})
		require.NoError(t, err)
		require.Len(t, leads, 1)
		require.Equal(t, "Jane Doe", leads[0].PersonName)
		require.Equal(t, "jane@example.com", leads[0].Email)
	})
}

func TestTimerFiringTwiceChangesNothing(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "live-chat")
		b.presence.Set(b.ws, "agent-1", Online)
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
		require.NoError(t, err)
		conv := res.Conversation
		var st engine.State
		require.NoError(t, json.Unmarshal(conv.State, &st))
		// The same timer event delivered twice (an at-least-once worker).
		_, err = b.svc.Handle(ctx, b.ws, conv.ID, engine.Event{Type: engine.EventTimerFired, ID: st.Request})
		require.NoError(t, err)
		before, err := store.ListMessages(ctx, b.ws, conv.ID, 500)
		require.NoError(t, err)
		second, err := b.svc.Handle(ctx, b.ws, conv.ID, engine.Event{Type: engine.EventTimerFired, ID: st.Request})
		require.NoError(t, err)
		require.Empty(t, second.Messages)
		after, err := store.ListMessages(ctx, b.ws, conv.ID, 500)
		require.NoError(t, err)
		require.Equal(t, len(before), len(after))
	})
}

func TestNobodyOnlineGoesToCaptureAtOnce(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		b := setup(t, store, "live-chat")
		res, err := b.svc.Start(context.Background(), StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
		require.NoError(t, err)
		require.Equal(t, storage.StatusBot, res.Conversation.Status)
		require.Contains(t, texts(res)[len(texts(res))-1], "What's your name?")
	})
}

func TestChannelWithoutAssistantUsesItsDefaultResponse(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "")
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true, Locale: "fr-FR"})
		require.NoError(t, err)
		require.Empty(t, res.Conversation.VersionID)
		require.Equal(t, []string{"Bonjour ! Comment pouvons-nous vous aider ?"}, texts(res))
		res, err = b.svc.VisitorMessage(ctx, b.ws, res.Conversation.ID, "a", "J'ai une question")
		require.NoError(t, err)
		require.Equal(t, "Personne n'est disponible pour le moment. Laissez vos coordonnées et nous vous répondrons.", texts(res)[0])
	})
}

func TestPublishingKeepsChatsOnTheirVersion(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
		require.NoError(t, err)
		conv := res.Conversation

		// A new version whose greeting differs is published mid-chat.
		f, err := playbooks.Template("live-chat")
		require.NoError(t, err)
		graph, _ := json.Marshal(f.Graph)
		_, err = store.PublishVersion(ctx, b.ws, b.channel.AssistantID, graph, "")
		require.NoError(t, err)

		res, err = b.svc.VisitorMessage(ctx, b.ws, conv.ID, "a", "Get a quote")
		require.NoError(t, err)
		require.Equal(t, []string{"How many people work at your company?"}, texts(res), "the chat stays on its version")
		require.Equal(t, conv.VersionID, res.Conversation.VersionID)

		fresh, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v2", IsNew: true})
		require.NoError(t, err)
		require.NotEqual(t, conv.VersionID, fresh.Conversation.VersionID, "new chats take the new version")
	})
}

func TestBadTextIsRefusedAndNothingStored(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
		require.NoError(t, err)
		for _, bad := range []string{"", "   ", strings.Repeat("a", MaxVisitorText+1), "nul\x00byte", "bad \xff utf8"} {
			_, err := b.svc.VisitorMessage(ctx, b.ws, res.Conversation.ID, "x", bad)
			require.ErrorIs(t, err, storage.ErrInvalid)
		}
		msgs, err := store.ListMessages(ctx, b.ws, res.Conversation.ID, 500)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
	})
}

func TestAnotherTenantsConversationIsNotFound(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, store *storage.Store) {
		ctx := context.Background()
		b := setup(t, store, "lead-qualification")
		res, err := b.svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
		require.NoError(t, err)
		other, err := store.CreateWorkspace(ctx, "Other")
		require.NoError(t, err)
		_, err = b.svc.VisitorMessage(ctx, other.ID, res.Conversation.ID, "x", "hello")
		require.ErrorIs(t, err, storage.ErrNotFound)
	})
}

func TestHTTPDoerRefusesInternalTargets(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL, http.StatusFound)
	}))
	defer redirect.Close()

	d := NewHTTPDoer(DefaultHTTPPolicy)
	for _, target := range []string{
		srv.URL, "http://localhost:1/", "http://[::1]:1/", "http://169.254.169.254/latest/meta-data",
		"http://10.0.0.1/", "http://[::ffff:127.0.0.1]:1/", "http://0x7f000001/", "http://2130706433/",
		"http://localhost./", "file:///etc/passwd",
	} {
		r := d.Do(context.Background(), engine.HTTPRequest{Method: "GET", URL: target, Timeout: time.Second})
		require.NotEmpty(t, r.Err, "target %s must be refused", target)
		require.Zero(t, r.Status, target)
	}
	// The private policy (tests only) reaches the same server, and a
	// redirect hop is followed and checked again.
	open := NewHTTPDoer(HTTPPolicy{AllowPrivate: true})
	r := open.Do(context.Background(), engine.HTTPRequest{Method: "GET", URL: redirect.URL, Timeout: time.Second})
	require.Empty(t, r.Err)
	require.Equal(t, `{"ok":true}`, string(r.Body))

	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(strings.Repeat("x", 300<<10)))
	}))
	defer big.Close()
	r = open.Do(context.Background(), engine.HTTPRequest{Method: "GET", URL: big.URL, Timeout: time.Second})
	require.Contains(t, r.Err, "over")
}

func TestIsPublicAddr(t *testing.T) {
	t.Parallel()
	// Table of addresses and whether an http_call may reach them.
	cases := map[string]bool{
		"8.8.8.8": true, "1.1.1.1": true, "2606:4700::1111": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "fe80::1": false, "fd00::1": false, "224.0.0.1": false,
	}
	for addr, want := range cases {
		require.Equal(t, want, IsPublicAddr(mustAddr(addr)), addr)
	}
}

func TestVisitorTokens(t *testing.T) {
	t.Parallel()
	s, err := NewTokenSigner([]byte(strings.Repeat("k", 32)))
	require.NoError(t, err)
	now := time.Unix(1_800_000_000, 0)
	tok := s.Sign(VisitorClaims{Workspace: "w", Channel: "c", Visitor: "v", Conversation: "cv", IssuedAt: now.Unix()})
	c, err := s.Verify(tok, "c", now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, "cv", c.Conversation)
	_, err = s.Verify(tok, "other-channel", now)
	require.ErrorIs(t, err, ErrBadToken)
	_, err = s.Verify(tok+"x", "c", now)
	require.ErrorIs(t, err, ErrBadToken)
	_, err = s.Verify(tok, "c", now.Add(VisitorTokenTTL+time.Hour))
	require.ErrorIs(t, err, ErrBadToken)
	other, _ := NewTokenSigner([]byte(strings.Repeat("z", 32)))
	_, err = other.Verify(tok, "c", now)
	require.ErrorIs(t, err, ErrBadToken)
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestOverloadedNodeRefusesQuicklyAndStoresNothing(t *testing.T) {
	store := storagetest.Open(t, storage.SQLite)
	ctx := context.Background()
	b := setup(t, store, "lead-qualification")
	svc := New(Config{Store: store, Publisher: b.pub, Presence: b.presence, Now: b.clock.Now, MaxInFlight: 1, MaxWait: 50 * time.Millisecond})
	res, err := svc.Start(ctx, StartInput{Channel: b.channel, VisitorID: "v1", IsNew: true})
	require.NoError(t, err)
	conv := res.Conversation

	// Hold the database's writer so that the one event admitted stays in
	// flight.
	entered, gate := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		held <- store.InTx(ctx, func(*storage.Store) error { close(entered); <-gate; return nil })
	}()
	<-entered
	first := make(chan error, 1)
	go func() {
		_, err := svc.VisitorMessage(ctx, b.ws, conv.ID, "c1", "Get a quote")
		first <- err
	}()
	require.Eventually(t, func() bool { return store.WriterStats().Queued == 1 }, 5*time.Second, time.Millisecond)

	_, err = svc.VisitorMessage(ctx, b.ws, conv.ID, "c2", "4")
	require.ErrorIs(t, err, ErrOverloaded, "past MaxInFlight an event waits MaxWait, then is refused")
	require.ErrorIs(t, err, storage.ErrBusy, "callers treat it as a busy database: retry")

	close(gate)
	require.NoError(t, <-held)
	require.NoError(t, <-first)
	msgs, err := store.ListMessages(ctx, b.ws, conv.ID, 100)
	require.NoError(t, err)
	for _, m := range msgs {
		require.NotEqual(t, "c2", m.ClientID, "the refused message was not stored")
	}
	// The turn is given back: the retry goes through.
	_, err = svc.VisitorMessage(ctx, b.ws, conv.ID, "c2", "4")
	require.NoError(t, err)
}
