package knowledge_test

import (
	"fmt"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/knowledge"
)

// The built-in answerer answers FAQ entries above the threshold, declines
// what the business does not offer, and leaves the rest to a human.
func ExampleIndex_Decide() {
	b := knowledge.Base{
		Language: "en",
		Rules: knowledge.Rules{
			Offer:     []string{"Website design"},
			DontOffer: []string{"Logos"},
			Decline:   map[string]string{"en": "Sorry, I don't design logos."},
		},
		FAQ: []knowledge.FAQEntry{
			{Question: "How long does delivery take?", Variants: []string{"When will my site be ready?"}, Answer: "About two weeks."},
			{Question: "What are your prices?", Answer: "From $400."},
		},
	}
	ix, err := knowledge.Build(b)
	if err != nil {
		panic(err)
	}
	defer ix.Close()
	for _, q := range []string{"How long will delivery take?", "What's your price for a logo?", "Is it sunny in Paris?"} {
		d := ix.Decide(q, "en", engine.AnswerFAQ, knowledge.DefaultThreshold)
		fmt.Printf("%s → %s %q\n", q, d.Reason, d.Answer.Text)
	}
	// Output:
	// How long will delivery take? → faq "About two weeks."
	// What's your price for a logo? → out_of_scope "Sorry, I don't design logos."
	// Is it sunny in Paris? → low_confidence ""
}
