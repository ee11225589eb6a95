package playbooks

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
)

// BenchmarkStepTemplates measures engine.Step on the visitor messages of
// every golden transcript of a template: each transcript is replayed once
// to capture the state before each message, then those steps are timed.
// ns/op and allocs/op are per step.
func BenchmarkStepTemplates(b *testing.B) {
	for _, name := range TemplateNames() {
		b.Run(name, func(b *testing.B) {
			f, err := Template(name)
			if err != nil {
				b.Fatal(err)
			}
			c, err := engine.Compile(&f.Graph, engine.Options{})
			if err != nil {
				b.Fatal(err)
			}
			type step struct {
				s  engine.State
				ev engine.Event
			}
			var steps []step
			files, _ := filepath.Glob(filepath.Join("templates", "testdata", name, "*.json"))
			for _, file := range files {
				t, err := LoadTranscript(file)
				if err != nil {
					b.Fatal(err)
				}
				s := NewSession(c, t.Visitor.SessionConfig())
				ctx := context.Background()
				if _, err := s.Start(ctx); err != nil {
					b.Fatal(err)
				}
				for _, st := range t.Steps {
					if st.Say == nil || s.State().Status != engine.StatusBot {
						continue
					}
					steps = append(steps, step{s: s.State(), ev: engine.Event{Type: engine.EventVisitorMessage, Text: *st.Say, AgentsOnline: 1}})
					if _, err := s.Say(ctx, *st.Say); err != nil {
						break
					}
				}
			}
			if len(steps) == 0 {
				b.Skip("no visitor messages")
			}
			now := DefaultClock
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st := &steps[i%len(steps)]
				if _, _, err := engine.Step(c, st.s, st.ev, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
