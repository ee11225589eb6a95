package knowledge_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/knowledge"
)

// mustBuild builds an index closed at the end of the test.
func mustBuild(t testing.TB, b knowledge.Base) *knowledge.Index {
	t.Helper()
	ix, err := knowledge.Build(b)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	return ix
}

// retrievalCase is a visitor question and what the built-in answerer must
// make of it at the default threshold.
type retrievalCase struct {
	question string
	// key is the FAQ entry that must answer; "" means none.
	key string
	// decline means the question is out of scope.
	decline bool
}

func runRetrieval(t *testing.T, b knowledge.Base, lang string, cases []retrievalCase) {
	t.Helper()
	ix := mustBuild(t, b)
	for _, c := range cases {
		t.Run(c.question, func(t *testing.T) {
			d := ix.Decide(c.question, lang, engine.AnswerFAQ, knowledge.DefaultThreshold)
			switch {
			case c.decline:
				require.Equal(t, knowledge.ReasonOutOfScope, d.Reason, "hits: %s", describe(b, d.Result))
				require.Equal(t, b.Rules.Decline[lang], d.Answer.Text)
				require.True(t, d.Answer.Matched)
			case c.key == "":
				require.Equal(t, knowledge.ReasonLowConfidence, d.Reason, "hits: %s", describe(b, d.Result))
				require.Equal(t, engine.Answer{}, d.Answer, "faq mode: not matched, no handover")
			default:
				require.Equal(t, knowledge.ReasonFAQ, d.Reason, "hits: %s", describe(b, d.Result))
				require.Equal(t, c.key, b.FAQ[d.Hit.Index].Key, "hits: %s", describe(b, d.Result))
				require.True(t, d.Answer.Matched)
				require.Equal(t, b.FAQ[d.Hit.Index].Answer, d.Answer.Text)
				require.GreaterOrEqual(t, d.Hit.Confidence, knowledge.DefaultThreshold)
			}
		})
	}
}

// describe lists the best hits, for failure messages.
func describe(b knowledge.Base, r knowledge.Result) string {
	var parts []string
	for i, h := range r.Hits {
		if i == 5 {
			break
		}
		name := fmt.Sprintf("%s[%d]", h.Kind, h.Index)
		if h.Kind == knowledge.KindFAQ {
			name = b.FAQ[h.Index].Key
		}
		parts = append(parts, fmt.Sprintf("%s=%.2f", name, h.Confidence))
	}
	return strings.Join(parts, " ")
}

func TestRetrievalEnglish(t *testing.T) {
	t.Parallel()
	runRetrieval(t, webDesigner(), "en", []retrievalCase{
		// Stemming: the entry says "prices".
		{question: "What's your pricing?", key: "prices"},
		{question: "Hi! Thanks a lot, what are your prices please?", key: "prices"},
		{question: "How much does it cost?", key: "prices"},
		{question: "prices for a 5 page website", key: "prices"},
		// Near misses: discounts sit next to prices, express delivery
		// next to delivery, unlimited revisions next to revisions.
		{question: "Is there a student discount?", key: "discounts"},
		{question: "how long until my site is delivered?", key: "delivery"},
		{question: "Can you deliver tomorrow?", key: "express"},
		{question: "Are revisions unlimited?", key: "unlimited"},
		{question: "How many changes can I ask for?", key: "revisions"},
		{question: "Do you host websites?", key: "hosting"},
		{question: "I need a domain", key: "domain"},
		{question: "Do you accept PayPal?", key: "payment"},
		{question: "Do you give refunds?", key: "refund"},
		{question: "do you use wordpress", key: "wordpress"},
		// Out of scope, even when the question also names a price.
		{question: "What's your price for a logo?", decline: true},
		{question: "Can you design my logo?", decline: true},
		{question: "Can you build an iOS mobile app?", decline: true},
		{question: "Do you do copywriting?", decline: true},
		// In scope although it names a don't-offer word.
		{question: "Can you put my existing logo on the website?", key: ""},
		{question: "What are your prices for website design?", key: "prices"},
		// Nothing to do with the business.
		{question: "What's the weather like in Paris?", key: ""},
		{question: "Do you like cats?", key: ""},
		{question: "who are you?", key: ""},
	})
}

func TestRetrievalFrench(t *testing.T) {
	t.Parallel()
	runRetrieval(t, photographer(), "fr", []retrievalCase{
		// Stemming and derivation: the entry says "livraison".
		{question: "Quand allez-vous livrer les photos ?", key: "livraison"},
		{question: "delai de livraison", key: "livraison"},
		{question: "Combien coûte un mariage ?", key: "tarifs"},
		{question: "Faut-il verser un acompte ?", key: "acompte"},
		{question: "Est-ce que vous retouchez les photos ?", key: "retouches"},
		{question: "On peut avoir un album ?", key: "tirages"},
		{question: "Vous déplacez-vous à l'étranger ?", key: "deplacement"},
		{question: "Peut-on publier les photos sur Instagram et les réseaux ?", key: "droits"},
		{question: "Combien de photos recevrons-nous au total ?", key: "nombre"},
		{question: "Que se passe-t-il si on annule le mariage ?", key: "annulation"},
		// Out of scope.
		{question: "Vous faites de la vidéo ?", decline: true},
		{question: "Avez-vous un drone ?", decline: true},
		// Unrelated.
		{question: "Quel temps fait-il ?", key: ""},
		{question: "Pouvez-vous venir à Paris ?", key: ""},
	})
}

func TestRetrievalSpanish(t *testing.T) {
	t.Parallel()
	runRetrieval(t, printShop(), "es", []retrievalCase{
		// Stemming: the entries say "envíos"; accents are optional.
		{question: "¿Hacen envío internacional?", key: "envios"},
		{question: "hacen envio internacional", key: "envios"},
		{question: "¿Cuánto cuesta el envío?", key: "coste-envio"},
		{question: "precios", key: "precios"},
		{question: "¿Qué papel usan?", key: "papel"},
		{question: "¿Qué tamaños tienen los pósters?", key: "tamanos"},
		{question: "¿Cuál es el plazo de producción de un pedido?", key: "plazo"},
		{question: "¿Emiten facturas?", key: "factura"},
		{question: "¿Aceptan devoluciones si llega roto?", key: "devoluciones"},
		{question: "¿Qué formas de pago tienen?", key: "pago"},
		// Out of scope.
		{question: "¿Imprimen camisetas?", decline: true},
		{question: "¿Hacen impresión 3D?", decline: true},
		// Unrelated.
		{question: "¿Qué hora es?", key: ""},
	})
}

func TestExactPhrasingScoresOne(t *testing.T) {
	t.Parallel()
	for _, b := range []knowledge.Base{webDesigner(), photographer(), printShop()} {
		ix := mustBuild(t, b)
		for _, e := range b.FAQ {
			for _, q := range append([]string{e.Question}, e.Variants...) {
				r := ix.Search(q, e.Language)
				require.NotNil(t, r.FAQ, q)
				require.InDelta(t, 1.0, r.FAQ.Confidence, 1e-9, "%q: %s", q, describe(b, r))
				require.Equal(t, e.Key, b.FAQ[r.FAQ.Index].Key, q)
			}
		}
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	b := webDesigner()
	ix := mustBuild(t, b)
	// A paraphrase: the right entry, with a confidence strictly between 0
	// and 1.
	const q = "how long until my site is delivered?"
	r := ix.Search(q, "en")
	require.NotNil(t, r.FAQ)
	c := r.FAQ.Confidence
	require.Greater(t, c, 0.5)
	require.Less(t, c, 0.9)

	d := ix.Decide(q, "en", engine.AnswerFAQ, c)
	require.Equal(t, knowledge.ReasonFAQ, d.Reason, "a confidence equal to the threshold answers")
	d = ix.Decide(q, "en", engine.AnswerFAQ, c+0.01)
	require.Equal(t, knowledge.ReasonLowConfidence, d.Reason)
	require.Equal(t, engine.Answer{}, d.Answer, "faq mode below the threshold: not matched")
	d = ix.Decide(q, "en", engine.AnswerLLM, c+0.01)
	require.Equal(t, engine.Answer{Handover: true}, d.Answer, "llm mode below the threshold: handover")

	// Threshold 1 answers only exact phrasings; 0 answers anything that
	// shares a word.
	require.Equal(t, knowledge.ReasonLowConfidence, ix.Decide(q, "en", engine.AnswerFAQ, 1).Reason)
	require.Equal(t, knowledge.ReasonFAQ, ix.Decide("What are your prices?", "en", engine.AnswerFAQ, 1).Reason)
	require.Equal(t, knowledge.ReasonFAQ, ix.Decide("website", "en", engine.AnswerFAQ, 0).Reason)
	require.Equal(t, knowledge.ReasonLowConfidence, ix.Decide("zzz qqq", "en", engine.AnswerFAQ, 0).Reason)
}

func TestAnswerFollowsTheVisitorsLanguage(t *testing.T) {
	t.Parallel()
	b := webDesigner()
	ix := mustBuild(t, b)
	fr := b.FAQ[len(b.FAQ)-1]
	en := b.FAQ[0]

	// Asked in French: the French entry.
	d := ix.Decide("Quels sont vos tarifs ?", "fr", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, fr.Answer, d.Answer.Text)
	require.Equal(t, "fr", d.Language)
	// Asked in English by a French visitor: the English entry matches (the
	// base's language is searched too) and answers in French.
	d = ix.Decide("What does a website cost?", "fr", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, fr.Answer, d.Answer.Text)
	// A regional tag finds its primary language.
	d = ix.Decide("What does a website cost?", "fr-CA", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, fr.Answer, d.Answer.Text)
	// No German entry: the base's language.
	d = ix.Decide("What does a website cost?", "de", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, en.Answer, d.Answer.Text)
	require.Equal(t, "en", d.Language)
	// An entry without translation answers in its own language.
	d = ix.Decide("Do you offer discounts?", "fr", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, b.FAQ[1].Answer, d.Answer.Text)
}

func TestOutOfScope(t *testing.T) {
	t.Parallel()
	b := webDesigner()
	ix := mustBuild(t, b)

	// The decline comes in the visitor's language, else the base's.
	d := ix.Decide("Can you design my logo?", "fr", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, engine.Answer{Matched: true, Text: b.Rules.Decline["fr"]}, d.Answer)
	d = ix.Decide("Can you design my logo?", "es", engine.AnswerLLM, knowledge.DefaultThreshold)
	require.Equal(t, engine.Answer{Matched: true, Text: b.Rules.Decline["en"]}, d.Answer)
	require.Equal(t, knowledge.KindDontOffer, d.Hit.Kind)
	require.Equal(t, 0, d.Hit.Index)

	// Without any decline text, out of scope hands over.
	b.Rules.Decline = nil
	ix = mustBuild(t, b)
	d = ix.Decide("Can you design my logo?", "en", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, knowledge.ReasonOutOfScope, d.Reason)
	require.Equal(t, engine.Answer{Handover: true}, d.Answer)

	// A rule whose words are all offered cannot tell scope apart, so it
	// never declines.
	b.Rules.DontOffer = []string{"Website design"}
	ix = mustBuild(t, b)
	d = ix.Decide("Do you do website design?", "en", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.NotEqual(t, knowledge.ReasonOutOfScope, d.Reason)
}

func TestPassagesAnswerOnlyInLLMMode(t *testing.T) {
	t.Parallel()
	b := webDesigner()
	ix := mustBuild(t, b)
	d := ix.Decide("Do you make landing pages?", "en", engine.AnswerLLM, knowledge.DefaultThreshold)
	require.Equal(t, knowledge.ReasonPassage, d.Reason)
	require.Equal(t, "Here is what I offer:\n- Website design\n- Landing pages\n- WordPress development\n- SEO audits", d.Answer.Text)
	d = ix.Decide("Can I get a quote?", "en", engine.AnswerLLM, knowledge.DefaultThreshold)
	require.Equal(t, knowledge.KindCustomOffer, d.Hit.Kind)
	require.Equal(t, "To prepare a custom offer, please share:\n- Number of pages\n- Deadline\n- Budget", d.Answer.Text)
	// faq nodes match the FAQ only.
	d = ix.Decide("Do you make landing pages?", "en", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, knowledge.ReasonLowConfidence, d.Reason)
	require.Equal(t, engine.Answer{}, d.Answer)
}

func TestSearchBoundsTheQuestion(t *testing.T) {
	t.Parallel()
	ix := mustBuild(t, webDesigner())
	// A huge question of distinct words is cut, not refused, and still
	// finds what its first words ask.
	var words []string
	for i := range 5000 {
		words = append(words, fmt.Sprintf("w%d", i))
	}
	r := ix.Search("prices "+strings.Join(words, " "), "en")
	require.NotNil(t, r.FAQ)
	require.Less(t, r.FAQ.Confidence, knowledge.DefaultThreshold, "a question of noise is not confident")
	// Empty, punctuation and stop words alone match nothing.
	for _, q := range []string{"", "   ", "?!", "what is it", "\x00"} {
		require.Empty(t, ix.Search(q, "en").Hits, "%q", q)
	}
}

func TestCloseReleasesTheIndex(t *testing.T) {
	t.Parallel()
	ix, err := knowledge.Build(webDesigner())
	require.NoError(t, err)
	require.NotNil(t, ix.Search("What are your prices?", "en").FAQ)
	require.NoError(t, ix.Close())
	require.NoError(t, ix.Close(), "closing twice is a no-op")
	require.Empty(t, ix.Search("What are your prices?", "en").Hits, "a closed index finds nothing")
}

// FuzzSearch feeds arbitrary visitor text and languages to the index: it
// never panics, and every confidence is in [0, 1].
func FuzzSearch(f *testing.F) {
	for _, seed := range []string{"What's your pricing?", "livraison", "envío", "", "\x00\xff", strings.Repeat("a", 5000), "l'l'l'", "ÜBERARBEITUNG", "日本語のテキスト"} {
		f.Add(seed, "en")
		f.Add(seed, "fr")
	}
	ix := mustBuild(f, webDesigner())
	f.Fuzz(func(t *testing.T, q, lang string) {
		r := ix.Search(q, lang)
		for _, h := range r.Hits {
			if h.Confidence < 0 || h.Confidence > 1+1e-9 {
				t.Fatalf("confidence %v out of range for %q", h.Confidence, q)
			}
		}
		_ = ix.Decide(q, lang, engine.AnswerLLM, knowledge.DefaultThreshold)
	})
}
