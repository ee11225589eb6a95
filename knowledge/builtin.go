package knowledge

import (
	"slices"
	"strings"

	"github.com/frontdesk/frontdesk/engine"
)

// Reason says why the built-in answerer answered as it did.
type Reason string

// The reasons.
const (
	// ReasonFAQ: an FAQ entry matched above the threshold.
	ReasonFAQ Reason = "faq"
	// ReasonPassage: a passage (bio, offers, custom offer) matched above
	// the threshold; llm mode only.
	ReasonPassage Reason = "passage"
	// ReasonOutOfScope: a don't-offer rule matched above the threshold and
	// better than any answer.
	ReasonOutOfScope Reason = "out_of_scope"
	// ReasonLowConfidence: nothing matched well enough.
	ReasonLowConfidence Reason = "low_confidence"
)

// Decision is the built-in answerer's answer to one question, with why.
type Decision struct {
	Answer engine.Answer
	Reason Reason
	// Hit is the unit the decision rests on; nil when nothing matched.
	Hit *Hit
	// Language is the language of Answer.Text.
	Language string
	// Result is the whole search, for previews and logs.
	Result Result
}

// Decide is the built-in answerer, a pure function of the index:
//
//   - A question matching a don't-offer rule at or above threshold, and
//     better than any FAQ entry (or, in llm mode, passage), is out of
//     scope: it gets the decline text in the visitor's language (else the
//     base's), or a handover when there is none.
//   - Else the best FAQ entry at or above threshold answers, in the
//     visitor's language when the entry has a translation (same key), else
//     in the base's language, else in its own.
//   - In llm mode, a passage at or above threshold answers next: the bio,
//     the offers, or what a custom offer needs.
//   - Else nothing matched: faq mode answers not matched, llm mode hands
//     over.
func (ix *Index) Decide(question, language string, mode engine.AnswerMode, threshold float64) Decision {
	r := ix.Search(question, language)
	d := Decision{Result: r, Reason: ReasonLowConfidence}
	faqC, passC := conf(r.FAQ), 0.0
	if mode == engine.AnswerLLM {
		passC = conf(r.Passage)
	}
	if r.Decline != nil && r.Decline.Confidence >= threshold && r.Decline.Confidence > max(faqC, passC) {
		d.Reason, d.Hit = ReasonOutOfScope, r.Decline
		if text, lang := ix.declineText(language); text != "" {
			d.Answer, d.Language = engine.Answer{Matched: true, Text: text}, lang
		} else {
			d.Answer = engine.Answer{Handover: true}
		}
		return d
	}
	if r.FAQ != nil && faqC >= threshold && faqC >= passC {
		e := ix.Translation(r.FAQ.Index, language)
		d.Reason, d.Hit, d.Language = ReasonFAQ, r.FAQ, e.Language
		d.Answer = engine.Answer{Matched: true, Text: e.Answer}
		return d
	}
	if mode == engine.AnswerLLM && r.Passage != nil && passC >= threshold {
		if text := ix.passageText(r.Passage); text != "" {
			d.Reason, d.Hit, d.Language = ReasonPassage, r.Passage, ix.base.Language
			d.Answer = engine.Answer{Matched: true, Text: text}
			return d
		}
	}
	if mode == engine.AnswerLLM {
		d.Answer = engine.Answer{Handover: true}
	}
	return d
}

func conf(h *Hit) float64 {
	if h == nil {
		return 0
	}
	return h.Confidence
}

// Translation returns FAQ entry i in language when an entry with its key
// exists in it, else in the base's language, else entry i itself.
func (ix *Index) Translation(i int, language string) FAQEntry {
	e := ix.base.FAQ[i]
	byLang := ix.byKey[e.Key]
	if e.Key == "" || len(byLang) == 0 {
		return e
	}
	for _, l := range []string{strings.ToLower(language), primary(language), ix.base.Language, ix.lang} {
		if j, ok := byLang[l]; ok {
			return ix.base.FAQ[j]
		}
	}
	// A regional entry (fr-ca) for a visitor who only said fr: the first
	// in document order, so the choice is stable.
	var cands []int
	for l, j := range byLang {
		if primary(l) == primary(language) {
			cands = append(cands, j)
		}
	}
	if len(cands) > 0 {
		return ix.base.FAQ[slices.Min(cands)]
	}
	return e
}

// declineText is the polite decline in language, else in the base's.
func (ix *Index) declineText(language string) (text, lang string) {
	for _, l := range []string{strings.ToLower(language), primary(language), ix.base.Language, ix.lang} {
		if t := ix.base.Rules.Decline[l]; t != "" {
			return t, l
		}
	}
	return "", ""
}

// passageText is what the built-in answerer says for a passage: the bio as
// written, or a list under a lead-in in the base's language.
func (ix *Index) passageText(h *Hit) string {
	g := guidanceFor(ix.base.Language)
	switch h.Kind {
	case KindBio:
		return ix.base.Bio
	case KindOffer:
		return bulleted(g.offersLead, ix.base.Rules.Offer)
	case KindCustomOffer:
		return bulleted(g.customLead, ix.base.Rules.CustomOffer)
	}
	return ""
}

func bulleted(lead string, items []string) string {
	if len(items) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(lead)
	for _, it := range items {
		b.WriteString("\n- ")
		b.WriteString(it)
	}
	return b.String()
}
