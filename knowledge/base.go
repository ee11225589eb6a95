package knowledge

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// Bounds of a knowledge base. Lengths count characters (runes), as the
// builder's text boxes do. The API refuses a document over any of them with
// a field error naming the place (body.faq[3].answer); Validate is the one
// check, so a document stored by any path obeys them.
const (
	// MaxBioChars bounds the bio.
	MaxBioChars = 2000
	// MaxToneChars bounds the tone.
	MaxToneChars = 1000
	// MaxRuleItems bounds each list of service rules.
	MaxRuleItems = 50
	// MaxRuleChars bounds one service rule.
	MaxRuleChars = 300
	// MaxDeclineChars bounds a decline text.
	MaxDeclineChars = 500
	// MaxDeclineLanguages bounds the decline texts (one per language).
	MaxDeclineLanguages = 20
	// MaxFAQEntries bounds the FAQ.
	MaxFAQEntries = 200
	// MaxQuestionChars bounds an FAQ question and each of its variants.
	MaxQuestionChars = 300
	// MaxVariants bounds the variants of one FAQ entry.
	MaxVariants = 10
	// MaxAnswerChars bounds an FAQ answer.
	MaxAnswerChars = 2000
	// MaxKeyChars bounds an FAQ key.
	MaxKeyChars = 64
	// MaxFieldErrors bounds the field errors Validate reports, so a
	// document with thousands of faults does not get an answer as large.
	MaxFieldErrors = 20
)

// PricingStyle is how the assistant talks about prices and packages.
type PricingStyle string

// The pricing styles, from informative to assertive.
const (
	// PricingInformative states prices and package contents when asked,
	// without steering.
	PricingInformative PricingStyle = "informative"
	// PricingBalanced gives prices and suggests the package that fits. The
	// default.
	PricingBalanced PricingStyle = "balanced"
	// PricingAssertive recommends a package confidently and invites the
	// visitor to order.
	PricingAssertive PricingStyle = "assertive"
)

func (p PricingStyle) valid() bool {
	switch p {
	case PricingInformative, PricingBalanced, PricingAssertive:
		return true
	}
	return false
}

// Base is an assistant's knowledge base: how the assistant presents the
// business (bio, tone), what it offers (rules), how it talks about prices,
// and its FAQ. It is a plain value, stored as JSON.
type Base struct {
	// Language is the language the bio, tone and rules are written in.
	// FAQ entries carry their own.
	Language string `json:"language" required:"false" maxLength:"16" doc:"The language of the bio, tone and rules (en, fr, es, de, ...). Defaults to the assistant's default language."`
	// Bio is how the assistant presents you.
	Bio string `json:"bio" required:"false" maxLength:"2000" doc:"How your assistant presents you: who you are, your experience, what you are best at."`
	// Tone is the communication style.
	Tone string `json:"tone" required:"false" maxLength:"1000" doc:"Your tone and communication style, and general rules of engagement."`
	// Rules are the service rules.
	Rules Rules `json:"rules" required:"false"`
	// PricingStyle is how prices and packages are presented.
	PricingStyle PricingStyle `json:"pricing_style" required:"false" enum:"informative,balanced,assertive" doc:"How the assistant handles pricing and packages, from informative to assertive. Defaults to balanced."`
	// FAQ holds the questions the built-in answerer answers.
	FAQ []FAQEntry `json:"faq" required:"false" maxItems:"200" doc:"Questions and answers, each in one language. Entries sharing a key are translations of one another."`
}

// Rules are the service rules: what is offered, what is not, what a
// custom offer needs, and how to decline.
type Rules struct {
	// Offer lists the services offered.
	Offer []string `json:"offer" required:"false" maxItems:"50" doc:"Services you offer, one per item (at most 300 characters each)."`
	// DontOffer lists services not offered. A question matching one is
	// out of scope and gets the decline text.
	DontOffer []string `json:"dont_offer" required:"false" maxItems:"50" doc:"Services you do not offer, one per item. Questions about them are declined politely. Write them with the words visitors use (logos, translations)."`
	// CustomOffer lists what a visitor must give for a custom offer.
	CustomOffer []string `json:"custom_offer_requirements" required:"false" maxItems:"50" doc:"What a client must share before you make a custom offer, one per item."`
	// Decline is the polite decline of out-of-scope questions, by
	// language. Without one in the visitor's language nor in the base's,
	// an out-of-scope question is handed over.
	Decline map[string]string `json:"decline" required:"false" doc:"The polite decline sent for out-of-scope questions, by language code (at most 500 characters each)."`
}

// FAQEntry is one question with its answer, in one language.
type FAQEntry struct {
	// Key ties translations together: entries with the same key are the
	// same question in several languages. Empty: the entry stands alone.
	Key string `json:"key,omitempty" maxLength:"64" doc:"Entries sharing a key are one question in several languages; an answer is given in the visitor's language when its entry exists."`
	// Language defaults to the base's.
	Language string `json:"language,omitempty" maxLength:"16" doc:"The entry's language. Defaults to the knowledge base's."`
	Question string `json:"question" minLength:"1" maxLength:"300" doc:"The question as a visitor would ask it."`
	// Variants are other ways to ask the same question.
	Variants []string `json:"variants,omitempty" maxItems:"10" doc:"Other ways to ask it (at most 300 characters each)."`
	Answer   string   `json:"answer" minLength:"1" maxLength:"2000" doc:"The answer sent to the visitor."`
}

// FieldError names one fault of a document. Path is relative to the
// document, such as faq[3].answer; the API prefixes it with body.
type FieldError struct {
	Path    string
	Message string
	// Value is the faulty value when it is short enough to echo.
	Value any
}

// Error implements error.
func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// languageRe is the language code syntax of the rest of Frontdesk
// (assistants and graphs).
var languageRe = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

// keyRe keeps keys short identifiers, easy to show and to type.
var keyRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidLanguage reports whether code is a language code such as en or
// pt-br.
func ValidLanguage(code string) bool { return languageRe.MatchString(code) }

// Normalize trims every text, lower-cases language codes, and fills the
// defaults: the language (def when empty), each FAQ entry's language, and
// the pricing style. It never drops anything, so Validate still sees every
// fault at its index.
func (b *Base) Normalize(def string) {
	b.Language = strings.ToLower(strings.TrimSpace(b.Language))
	if b.Language == "" {
		b.Language = strings.ToLower(def)
	}
	if b.Language == "" {
		b.Language = "en"
	}
	b.Bio = strings.TrimSpace(b.Bio)
	b.Tone = strings.TrimSpace(b.Tone)
	if b.PricingStyle == "" {
		b.PricingStyle = PricingBalanced
	}
	trimAll(b.Rules.Offer)
	trimAll(b.Rules.DontOffer)
	trimAll(b.Rules.CustomOffer)
	if len(b.Rules.Decline) > 0 {
		d := make(map[string]string, len(b.Rules.Decline))
		for l, t := range b.Rules.Decline {
			d[strings.ToLower(strings.TrimSpace(l))] = strings.TrimSpace(t)
		}
		b.Rules.Decline = d
	}
	for i := range b.FAQ {
		e := &b.FAQ[i]
		e.Key = strings.TrimSpace(e.Key)
		e.Language = strings.ToLower(strings.TrimSpace(e.Language))
		if e.Language == "" {
			e.Language = b.Language
		}
		e.Question = strings.TrimSpace(e.Question)
		e.Answer = strings.TrimSpace(e.Answer)
		trimAll(e.Variants)
	}
	// Lists are [] rather than null in the stored document and in
	// responses, so clients need no null checks.
	if b.Rules.Offer == nil {
		b.Rules.Offer = []string{}
	}
	if b.Rules.DontOffer == nil {
		b.Rules.DontOffer = []string{}
	}
	if b.Rules.CustomOffer == nil {
		b.Rules.CustomOffer = []string{}
	}
	if b.Rules.Decline == nil {
		b.Rules.Decline = map[string]string{}
	}
	if b.FAQ == nil {
		b.FAQ = []FAQEntry{}
	}
}

func trimAll(list []string) {
	for i, s := range list {
		list[i] = strings.TrimSpace(s)
	}
}

// Validate checks every bound and rule of the document, after Normalize,
// and returns the faults in document order (at most MaxFieldErrors).
func (b *Base) Validate() []FieldError {
	v := &validator{}
	if !ValidLanguage(b.Language) {
		v.add("language", "expected a language code such as en or pt-br", b.Language)
	}
	v.text("bio", b.Bio, MaxBioChars, false)
	v.text("tone", b.Tone, MaxToneChars, false)
	if !b.PricingStyle.valid() {
		v.add("pricing_style", "expected informative, balanced or assertive", string(b.PricingStyle))
	}
	v.list("rules.offer", b.Rules.Offer, MaxRuleItems, MaxRuleChars)
	v.list("rules.dont_offer", b.Rules.DontOffer, MaxRuleItems, MaxRuleChars)
	v.list("rules.custom_offer_requirements", b.Rules.CustomOffer, MaxRuleItems, MaxRuleChars)
	if n := len(b.Rules.Decline); n > MaxDeclineLanguages {
		v.add("rules.decline", fmt.Sprintf("%d languages is over the limit of %d", n, MaxDeclineLanguages), nil)
	} else {
		// Sorted, so the faults come in the same order every time.
		langs := make([]string, 0, n)
		for l := range b.Rules.Decline {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			path := "rules.decline." + l
			if !ValidLanguage(l) {
				v.add("rules.decline", "expected language codes such as en or pt-br as keys", short(l))
				continue
			}
			v.text(path, b.Rules.Decline[l], MaxDeclineChars, false)
		}
	}
	if n := len(b.FAQ); n > MaxFAQEntries {
		v.add("faq", fmt.Sprintf("%d entries is over the limit of %d", n, MaxFAQEntries), nil)
		return v.errs
	}
	type keyLang struct{ key, lang string }
	seen := map[keyLang]int{}
	for i, e := range b.FAQ {
		at := fmt.Sprintf("faq[%d]", i)
		if e.Key != "" {
			switch {
			case utf8.RuneCountInString(e.Key) > MaxKeyChars:
				v.add(at+".key", fmt.Sprintf("longer than %d characters", MaxKeyChars), nil)
			case !keyRe.MatchString(e.Key):
				v.add(at+".key", "expected letters, digits, dots, dashes and underscores", short(e.Key))
			default:
				k := keyLang{e.Key, e.Language}
				if j, dup := seen[k]; dup {
					v.add(at+".key", fmt.Sprintf("faq[%d] already has key %q in language %s; entries sharing a key must differ in language", j, e.Key, e.Language), e.Key)
				} else {
					seen[k] = i
				}
			}
		}
		if !ValidLanguage(e.Language) {
			v.add(at+".language", "expected a language code such as en or pt-br", short(e.Language))
		}
		v.text(at+".question", e.Question, MaxQuestionChars, true)
		v.list(at+".variants", e.Variants, MaxVariants, MaxQuestionChars)
		v.text(at+".answer", e.Answer, MaxAnswerChars, true)
	}
	return v.errs
}

type validator struct{ errs []FieldError }

func (v *validator) add(path, msg string, value any) {
	if len(v.errs) < MaxFieldErrors {
		v.errs = append(v.errs, FieldError{Path: path, Message: msg, Value: value})
	}
}

// text checks one free text: required or not, its length, and no control
// characters besides tab and newlines (they would reach the widget and the
// model's prompt verbatim).
func (v *validator) text(path, s string, max int, required bool) {
	switch {
	case s == "" && required:
		v.add(path, "must not be empty", nil)
	case !utf8.ValidString(s):
		v.add(path, "not valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		v.add(path, fmt.Sprintf("%d characters is over the limit of %d", utf8.RuneCountInString(s), max), nil)
	case strings.ContainsFunc(s, badControl):
		v.add(path, "contains a control character", nil)
	}
}

// list checks a list of short texts, each required.
func (v *validator) list(path string, items []string, maxItems, maxChars int) {
	if len(items) > maxItems {
		v.add(path, fmt.Sprintf("%d items is over the limit of %d", len(items), maxItems), nil)
		return
	}
	for i, s := range items {
		v.text(fmt.Sprintf("%s[%d]", path, i), s, maxChars, true)
	}
}

func badControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// short returns s for echoing in an error when it is short, else nil.
func short(s string) any {
	if len(s) > 64 {
		return nil
	}
	return s
}

// primary returns the primary subtag of a language code: pt-br → pt.
func primary(code string) string {
	code = strings.ToLower(code)
	if i := strings.IndexByte(code, '-'); i > 0 {
		return code[:i]
	}
	return code
}
