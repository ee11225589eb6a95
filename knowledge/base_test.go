package knowledge_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/knowledge"
)

func paths(errs []knowledge.FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Path)
	}
	return out
}

func TestValidateNamesEveryFault(t *testing.T) {
	t.Parallel()
	b := webDesigner()
	b.Normalize("en")
	require.Empty(t, b.Validate(), "the fixture is valid")

	b.Bio = strings.Repeat("é", knowledge.MaxBioChars+1)
	b.PricingStyle = "pushy"
	b.Rules.Offer = append(b.Rules.Offer, "")
	b.Rules.DontOffer = []string{strings.Repeat("x", knowledge.MaxRuleChars+1)}
	b.Rules.Decline["EN!"] = "nope"
	b.Rules.Decline["de"] = "bad\x00text"
	b.FAQ[3].Answer = strings.Repeat("a", knowledge.MaxAnswerChars+1)
	b.FAQ[4].Question = ""
	b.FAQ[5].Variants = make([]string, knowledge.MaxVariants+1)
	b.FAQ[6].Language = "english"
	b.FAQ[7].Key = "prices" // prices/en is faq[0]
	b.FAQ[8].Key = "has space"
	b.FAQ[9].Variants = []string{"ok", "\x07bell"}
	require.Equal(t, []string{
		"bio", "pricing_style", "rules.offer[4]", "rules.dont_offer[0]",
		"rules.decline", "rules.decline.de",
		"faq[3].answer", "faq[4].question", "faq[5].variants", "faq[6].language",
		"faq[7].key", "faq[8].key", "faq[9].variants[1]",
	}, paths(b.Validate()))

	// Bounds count characters, not bytes: exactly at the limit in a
	// multi-byte script is fine.
	b = webDesigner()
	b.Bio = strings.Repeat("é", knowledge.MaxBioChars)
	b.FAQ[0].Answer = strings.Repeat("日", knowledge.MaxAnswerChars)
	b.Normalize("en")
	require.Empty(t, b.Validate())
}

func TestValidateBoundsTheFAQAndTheErrors(t *testing.T) {
	t.Parallel()
	b := knowledge.Base{}
	for range knowledge.MaxFAQEntries + 1 {
		b.FAQ = append(b.FAQ, knowledge.FAQEntry{Question: "q", Answer: "a"})
	}
	b.Normalize("en")
	require.Equal(t, []string{"faq"}, paths(b.Validate()))

	b.FAQ = b.FAQ[:knowledge.MaxFAQEntries]
	require.Empty(t, b.Validate(), "at the limit")
	for i := range b.FAQ {
		b.FAQ[i].Answer = ""
	}
	require.Len(t, b.Validate(), knowledge.MaxFieldErrors, "the errors of one document are bounded")
}

func TestNormalizeFillsDefaults(t *testing.T) {
	t.Parallel()
	b := knowledge.Base{FAQ: []knowledge.FAQEntry{{Question: "  Q? ", Answer: " A ", Variants: []string{" v "}}}}
	b.Normalize("FR")
	require.Equal(t, "fr", b.Language)
	require.Equal(t, knowledge.PricingBalanced, b.PricingStyle)
	require.Equal(t, knowledge.FAQEntry{Language: "fr", Question: "Q?", Answer: "A", Variants: []string{"v"}}, b.FAQ[0])
	require.NotNil(t, b.Rules.Offer)
	require.NotNil(t, b.Rules.Decline)
}

func TestDefaultsAnswerInEveryShippedLanguage(t *testing.T) {
	t.Parallel()
	questions := map[string]string{
		"en": "What are your prices?",
		"fr": "Combien ça coûte ?",
		"es": "¿Cuánto cobras?",
		"de": "Was kostet das?",
	}
	for _, lang := range knowledge.DefaultLanguages {
		t.Run(lang, func(t *testing.T) {
			b := knowledge.Defaults(lang, nil)
			require.Empty(t, b.Validate())
			require.Equal(t, lang, b.Language)
			require.NotEmpty(t, b.Bio)
			require.NotEmpty(t, b.Tone)
			require.Equal(t, knowledge.PricingBalanced, b.PricingStyle)
			require.Len(t, b.Rules.Decline, len(knowledge.DefaultLanguages), "a decline in every shipped language")
			require.Empty(t, b.Rules.Offer, "only the business knows what it offers")
			for _, e := range b.FAQ {
				require.Equal(t, lang, e.Language)
			}
			ix := mustBuild(t, b)
			d := ix.Decide(questions[lang], lang, engine.AnswerFAQ, knowledge.DefaultThreshold)
			require.Equal(t, knowledge.ReasonFAQ, d.Reason, "hits: %s", describe(b, d.Result))
			require.Equal(t, "prices", b.FAQ[d.Hit.Index].Key)
		})
	}
}

func TestDefaultsFollowTheAssistantsLanguages(t *testing.T) {
	t.Parallel()
	// An Italian assistant: English guidance, FAQ in the shipped languages
	// it supports, nothing for the others.
	b := knowledge.Defaults("it", []string{"it", "fr", "xx"})
	require.Equal(t, "it", b.Language)
	require.Equal(t, knowledge.Defaults("en", nil).Bio, b.Bio)
	langs := map[string]int{}
	for _, e := range b.FAQ {
		langs[e.Language]++
	}
	require.Equal(t, map[string]int{"fr": 5}, langs)
	require.Empty(t, b.Validate())

	// Translations share keys: a French visitor of an English assistant
	// gets the French default answer.
	b = knowledge.Defaults("en", []string{"en", "fr"})
	ix := mustBuild(t, b)
	d := ix.Decide("How long does delivery take?", "fr", engine.AnswerFAQ, knowledge.DefaultThreshold)
	require.Equal(t, "fr", d.Language)
	require.True(t, strings.HasPrefix(d.Answer.Text, "Le délai"), d.Answer.Text)
}

func TestRestoreDefaultsBySection(t *testing.T) {
	t.Parallel()
	b := webDesigner()
	b.Normalize("en")
	d := knowledge.Defaults("en", nil)

	all := knowledge.RestoreDefaults(b, "en", nil, nil)
	require.Equal(t, d, all)

	got := knowledge.RestoreDefaults(b, "en", nil, []string{knowledge.SectionBio})
	require.Equal(t, d.Bio, got.Bio)
	require.Equal(t, d.Tone, got.Tone)
	require.Equal(t, b.FAQ, got.FAQ, "the FAQ is kept")
	require.Equal(t, b.Rules, got.Rules)

	got = knowledge.RestoreDefaults(b, "en", nil, []string{knowledge.SectionRules, knowledge.SectionPricing})
	require.Equal(t, d.Rules, got.Rules)
	require.Equal(t, knowledge.PricingBalanced, got.PricingStyle)
	require.Equal(t, b.Bio, got.Bio)

	got = knowledge.RestoreDefaults(b, "en", nil, []string{knowledge.SectionFAQ})
	require.Equal(t, d.FAQ, got.FAQ)
	require.Equal(t, b.Rules, got.Rules)
}

func TestSettingsValidateAndMask(t *testing.T) {
	t.Parallel()
	s := knowledge.DefaultSettings()
	require.Empty(t, s.Validate())
	s.Mode = knowledge.ModeOpenAI
	require.Equal(t, []string{"base_url", "model"}, paths(s.Validate()))
	s.BaseURL, s.Model = "http://127.0.0.1:11434/v1", "llama3.2"
	require.Empty(t, s.Validate(), "a local endpoint is allowed")
	for _, bad := range []string{"ftp://x/v1", "/v1", "https://user:pw@api.example/v1", "https://api.example/v1#x", "not a url"} {
		s.BaseURL = bad
		require.Equal(t, []string{"base_url"}, paths(s.Validate()), bad)
	}
	s.BaseURL = "https://api.openai.com/v1"
	s.APIKey = "sk has spaces"
	s.MaxTokens = 0
	s.Timeout = 0
	s.Threshold = 1.5
	errs := s.Validate()
	require.Equal(t, []string{"api_key", "max_tokens", "timeout_ms", "confidence_threshold"}, paths(errs))
	require.Nil(t, errs[0].Value, "a key is never echoed")

	require.Equal(t, "", knowledge.MaskKey(""))
	require.Equal(t, "••••", knowledge.MaskKey("short-key"))
	require.Equal(t, "••••wxyz", knowledge.MaskKey("sk-proj-abcdefghijklmnopqrstuvwxyz"))
}
