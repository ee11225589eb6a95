package knowledge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/knowledge"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// fullBase is a knowledge base at the FAQ bound: the web designer's entries
// and generated ones up to MaxFAQEntries, each with variants and a long
// answer, so the index is as large as a saved base can make it.
func fullBase() knowledge.Base {
	b := webDesigner()
	words := strings.Fields("invoice backup portfolio newsletter analytics checkout gallery booking calendar " +
		"translation accessibility migration maintenance security speed plugin theme form chat video " +
		"podcast membership forum shop coupon shipping tax inventory review rating search map event")
	for i := len(b.FAQ); i < knowledge.MaxFAQEntries; i++ {
		w1, w2, w3 := words[i%len(words)], words[(i*7+3)%len(words)], words[(i*13+5)%len(words)]
		b.FAQ = append(b.FAQ, knowledge.FAQEntry{
			Key: fmt.Sprintf("k%d", i), Language: "en",
			Question: fmt.Sprintf("Can you set up %s with %s number %d?", w1, w2, i),
			Variants: []string{
				fmt.Sprintf("Do you handle %s for %s sites?", w1, w3),
				fmt.Sprintf("Is %s included with the %s package %d?", w2, w3, i),
			},
			Answer: strings.Repeat(fmt.Sprintf("Yes, %s and %s are part of package %d when the %s is ready. ", w1, w2, i, w3), 6),
		})
	}
	return b
}

var benchQuestions = []string{
	"What's your pricing?",
	"how long until my site is delivered?",
	"Can you set up invoice with backup?",
	"What's your price for a logo?",
	"What's the weather like in Paris?",
}

func BenchmarkSearch(b *testing.B) {
	for name, base := range map[string]knowledge.Base{"small": webDesigner(), "full": fullBase()} {
		ix := mustBuild(b, base)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				ix.Search(benchQuestions[i%len(benchQuestions)], "en")
			}
		})
	}
}

func BenchmarkBuild(b *testing.B) {
	base := fullBase()
	b.ReportAllocs()
	for b.Loop() {
		ix, err := knowledge.Build(base)
		if err != nil {
			b.Fatal(err)
		}
		_ = ix.Close()
	}
}

// BenchmarkAnswer is one built-in answer as the runtime asks it: the
// revision read, the cached index, the settings read and the decision, on
// SQLite.
func BenchmarkAnswer(b *testing.B) {
	s := storagetest.Open(b, storage.SQLite)
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, "Acme")
	if err != nil {
		b.Fatal(err)
	}
	a, err := s.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Helper"})
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := jsonOf(fullBase())
	if _, err := s.SaveKnowledge(ctx, w.ID, a.ID, 0, raw, ""); err != nil {
		b.Fatal(err)
	}
	ans := knowledge.NewAnswerer(s, knowledge.Options{})
	b.Cleanup(ans.Close)
	conv := &storage.Conversation{ID: "c", WorkspaceID: w.ID, AssistantID: a.ID, Language: "en"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		_, err := ans.Answer(ctx, w.ID, conv, engine.AnswerRequest{Mode: engine.AnswerFAQ, Question: benchQuestions[i%len(benchQuestions)]})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func jsonOf(b knowledge.Base) (storage.JSON, error) {
	raw, err := json.Marshal(b)
	return storage.JSON(raw), err
}
