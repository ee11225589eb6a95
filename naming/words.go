package naming

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
)

// wordFS holds the offensive word lists, one file per language; see
// words/en.txt for the format.
//
//go:embed words/*.txt
var wordFS embed.FS

// match says where a listed word may sit inside a longer word.
type match uint8

const (
	matchPrefix match = 1 << iota
	matchSuffix
	matchAnywhere
)

type entry struct {
	word string
	at   match
}

// entries are the words of every list, read once when the package loads: a
// broken list is a bug in this package, so it panics at start-up rather than
// letting names through.
var entries = mustLoad()

func mustLoad() []entry {
	files, err := fs.Glob(wordFS, "words/*.txt")
	if err != nil || len(files) == 0 {
		panic(fmt.Sprintf("naming: no word lists: %v", err))
	}
	var out []entry
	for _, name := range files {
		data, err := wordFS.ReadFile(name)
		if err != nil {
			panic(fmt.Sprintf("naming: %s: %v", name, err))
		}
		for i, line := range strings.Split(string(data), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			// The list is folded like names are, so "enculé" or "scheiße"
			// can be listed as written.
			e := entry{word: fold(fields[0])}
			for _, f := range fields[1:] {
				switch f {
				case "prefix":
					e.at |= matchPrefix
				case "suffix":
					e.at |= matchSuffix
				case "anywhere":
					e.at |= matchAnywhere
				default:
					panic(fmt.Sprintf("naming: %s:%d: unknown flag %q", name, i+1, f))
				}
			}
			out = append(out, e)
		}
	}
	return out
}

// offensive reports whether any reading holds a listed word.
func offensive(forms []form) bool {
	for _, words := range forms {
		single, joined := joins(words)
		for _, e := range entries {
			for _, w := range single {
				if e.matches(w) {
					return true
				}
			}
			// Words run together only count as the whole listed word:
			// "cum laude" must not become a prefix match on "cum".
			for _, w := range joined {
				if e.whole(w) {
					return true
				}
			}
			if e.at&matchAnywhere != 0 && strings.Contains(strings.Join(words, ""), e.word) {
				return true
			}
		}
	}
	return false
}

func (e entry) whole(w string) bool {
	return w == e.word || w == e.word+"s" || w == e.word+"es"
}

func (e entry) matches(w string) bool {
	switch {
	case e.whole(w):
		return true
	case e.at&matchAnywhere != 0:
		return strings.Contains(w, e.word)
	case e.at&matchPrefix != 0 && strings.HasPrefix(w, e.word):
		return true
	case e.at&matchSuffix != 0 && strings.HasSuffix(w, e.word):
		return true
	}
	return false
}

// brand is a name an assistant may not take.
type brand struct {
	// name is how the brand is written; key is its folded form.
	name, key string
	// inside: the brand is distinctive enough to be refused anywhere inside
	// a word ("TheZendeskBot"). Brands that are ordinary words (Apple,
	// Amazon, Meta, Stripe, Intercom) are refused only as a whole word or
	// followed by a bot-like word ("AppleSupport"), so "Pineapple Shop" and
	// "Intercompany Billing" stay allowed.
	inside bool
	// prefix: refused at the start of a word ("Frontdesks"), not inside it.
	prefix bool
	// split: also refused when written as separate words ("Open AI",
	// "Chat GPT"). Not for Frontdesk, because "Hotel Front Desk" is a
	// plain description, not an impersonation.
	split bool
}

func newBrand(name string, inside, prefix, split bool) brand {
	return brand{name: name, key: fold(name), inside: inside, prefix: prefix, split: split}
}

// brands are the product and the brands an assistant could pass itself off
// as: the product, its peers, and the household names visitors trust.
var brands = []brand{
	newBrand("Frontdesk", false, true, false),
	newBrand("Zendesk", true, true, true),
	newBrand("Pipedrive", true, true, true),
	newBrand("LeadBooster", true, true, true),
	newBrand("Intercom", false, false, true),
	newBrand("Fiverr", true, true, false),
	newBrand("OpenAI", true, true, true),
	newBrand("ChatGPT", true, true, true),
	newBrand("Google", true, true, false),
	newBrand("Apple", false, false, false),
	newBrand("Microsoft", true, true, true),
	newBrand("Amazon", false, false, false),
	newBrand("Meta", false, false, false),
	newBrand("Facebook", true, true, true),
	newBrand("WhatsApp", true, true, true),
	newBrand("PayPal", true, true, true),
	newBrand("Stripe", false, false, false),
}

// botWords are what an impersonator appends to a brand that is also an
// ordinary word: "AppleSupport", "MetaAI".
var botWords = []string{
	"bot", "ai", "gpt", "help", "helper", "support", "assistant", "agent",
	"official", "team", "care", "chat", "desk", "service", "store", "pay",
}

// impersonated returns the brand a reading imitates, or "".
func impersonated(forms []form) string {
	for _, words := range forms {
		single, joined := joins(words)
		for _, b := range brands {
			for _, w := range single {
				if b.matchesWord(w) {
					return b.name
				}
			}
			if !b.split {
				continue
			}
			for _, w := range joined {
				if w == b.key {
					return b.name
				}
			}
		}
	}
	return ""
}

func (b brand) matchesWord(w string) bool {
	switch {
	case w == b.key:
		return true
	case b.inside:
		return strings.Contains(w, b.key)
	case b.prefix:
		return strings.HasPrefix(w, b.key)
	}
	for _, s := range botWords {
		if w == b.key+s {
			return true
		}
	}
	return false
}
