package chat_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// benchScripts are the lead-qualification template's two happy paths
// (golden transcripts small-team and mid-pricing), as the bench's visitors
// walk them. Each ends the conversation.
var benchScripts = [][]string{
	{"Get a quote", "4", "$200", "solo@example.com", "Just exploring", "Léa", "skip"},
	{"Get a quote", "40", "1,500", "team@example.com", "This quarter", "No thanks"},
}

// benchTenant seeds a workspace with a channel running the published
// lead-qualification template and returns a service on it.
func benchTenant(b *testing.B, store *storage.Store) (*chat.Service, *storage.Channel) {
	b.Helper()
	ctx := context.Background()
	w, err := store.CreateWorkspace(ctx, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	ch, err := store.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Site", AllowedOrigins: []string{"http://bench.local"}})
	if err != nil {
		b.Fatal(err)
	}
	f, err := playbooks.Template("lead-qualification")
	if err != nil {
		b.Fatal(err)
	}
	graph, err := json.Marshal(f.Graph)
	if err != nil {
		b.Fatal(err)
	}
	a, err := store.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava", Graph: graph})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := store.PublishVersion(ctx, w.ID, a.ID, graph, ""); err != nil {
		b.Fatal(err)
	}
	if err := store.ConnectAssistant(ctx, w.ID, ch.ID, a.ID); err != nil {
		b.Fatal(err)
	}
	if ch, err = store.GetChannel(ctx, w.ID, ch.ID); err != nil {
		b.Fatal(err)
	}
	svc := chat.New(chat.Config{Store: store, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return svc, ch
}

// walker is one visitor going through the scripts, conversation after
// conversation.
type walker struct {
	svc     *chat.Service
	ch      *storage.Channel
	id      string
	conv    string
	script  []string
	step    int
	started int
}

func (w *walker) start(ctx context.Context) error {
	w.started++
	res, err := w.svc.Start(ctx, chat.StartInput{Channel: w.ch, VisitorID: fmt.Sprintf("%s-%d", w.id, w.started), IsNew: true, Locale: "en-US"})
	if err != nil {
		return err
	}
	w.conv, w.script, w.step = res.Conversation.ID, benchScripts[w.started%len(benchScripts)], 0
	return nil
}

// say sends the script's next message: one VisitorMessage, the way the
// widget handler calls it.
func (w *walker) say(ctx context.Context) error {
	text := w.script[w.step]
	res, err := w.svc.VisitorMessage(ctx, w.ch.WorkspaceID, w.conv, fmt.Sprintf("c%d", w.step), text)
	if err != nil {
		return fmt.Errorf("step %d %q: %w", w.step, text, err)
	}
	if len(res.Messages) < 2 {
		return fmt.Errorf("step %d %q: the bot did not reply", w.step, text)
	}
	w.step++
	return nil
}

func (w *walker) done() bool { return w.conv == "" || w.step == len(w.script) }

// BenchmarkVisitorMessage is one visitor message through the service, end
// to end: the transaction that locks the conversation, stores the message,
// steps the engine and stores the bot's reply, events and state, then
// publishes (to no one). Conversation starts are outside the timer.
func BenchmarkVisitorMessage(b *testing.B) {
	for _, d := range storagetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			store := storagetest.Open(b, d)
			svc, ch := benchTenant(b, store)
			ctx := context.Background()
			w := &walker{svc: svc, ch: ch, id: "v"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if w.done() {
					b.StopTimer()
					if err := w.start(ctx); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if err := w.say(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVisitorMessageParallel is many visitors at once (16 per CPU),
// each on its own conversation: how the database serializes writers
// (SQLite's single write lock, Postgres's commits). Each visitor starts a
// new conversation when its script ends, inside the timer: one start per
// six or seven messages.
func BenchmarkVisitorMessageParallel(b *testing.B) {
	for _, d := range storagetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			store := storagetest.Open(b, d)
			svc, ch := benchTenant(b, store)
			ctx := context.Background()
			var ids atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				w := &walker{svc: svc, ch: ch, id: fmt.Sprintf("p%d", ids.Add(1))}
				for pb.Next() {
					if w.done() {
						if err := w.start(ctx); err != nil {
							b.Error(err)
							return
						}
					}
					if err := w.say(ctx); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
