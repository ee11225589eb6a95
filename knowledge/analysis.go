package knowledge

import (
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/lang/de"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/lang/es"
	"github.com/blevesearch/bleve/v2/analysis/lang/fr"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	unicodetok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/registry"
	"golang.org/x/text/unicode/norm"
)

// The analyzers, registered with bleve under these names. Each language
// has bleve's stop words and its Snowball stemmer, with two additions:
//
//   - chat filler words (hello, thanks, please, I would like…) are dropped,
//     so a polite question is not less similar than a terse one;
//   - accents are folded before stemming, so a visitor typing "delai" or
//     "envio" on a phone matches "délai" and "envío".
//
// Snowball rather than bleve's default light stemmers: it conflates verb
// forms (livrez/livrer, enviar/envío) that the light ones keep apart.
// Derivations no stemmer joins (livraison/livrer, delivery/deliver) are
// matched by prefix when scoring (see prefixCredit).
const (
	analyzerStandard = "fd_std"
	foldFilterName   = "fd_fold"
)

// analyzerLanguages are the languages with a dedicated analyzer; any other
// language gets analyzerStandard (words, lower case, folded accents).
var analyzerLanguages = []string{"en", "fr", "es", "de"}

// analyzerFor returns the analyzer name for a primary language subtag.
func analyzerFor(lang string) string {
	for _, l := range analyzerLanguages {
		if l == lang {
			return "fd_" + l
		}
	}
	return analyzerStandard
}

func init() {
	must(registry.RegisterTokenFilter(foldFilterName, func(map[string]any, *registry.Cache) (analysis.TokenFilter, error) {
		return foldFilter{}, nil
	}))
	must(registry.RegisterAnalyzer(analyzerStandard, func(_ map[string]any, c *registry.Cache) (analysis.Analyzer, error) {
		return chain(c, nil)
	}))
	// Each language's filters before the stop words: English strips
	// possessives before lower-casing ('S), French strips elisions (l', d')
	// after it.
	pre := map[string][]string{
		"en": {en.PossessiveName, lowercase.Name, en.StopName},
		"fr": {lowercase.Name, fr.ElisionName, fr.StopName},
		"es": {lowercase.Name, es.StopName},
		"de": {lowercase.Name, de.StopName},
	}
	snowball := map[string]string{
		"en": en.SnowballStemmerName, "fr": fr.SnowballStemmerName,
		"es": es.SnowballStemmerName, "de": de.SnowballStemmerName,
	}
	for _, lang := range analyzerLanguages {
		lc := &langChain{pre: pre[lang], fillers: analysis.NewTokenMap(), stemmer: snowball[lang]}
		for _, w := range guidanceByLang[lang].chatFillers {
			lc.fillers.AddToken(w)
		}
		must(registry.RegisterAnalyzer("fd_"+lang, func(_ map[string]any, c *registry.Cache) (analysis.Analyzer, error) {
			return chain(c, lc)
		}))
	}
}

// must panics at start-up when bleve refuses a registration: the names are
// constants of this package, so it only fails on a programming error.
func must(err error) {
	if err != nil {
		panic("knowledge: " + err.Error())
	}
}

// langChain is what a language adds to the standard chain.
type langChain struct {
	pre     []string
	fillers analysis.TokenMap
	stemmer string
}

// chain builds unicode words → [language filters, stop words, fillers] →
// folded accents → [stemmer].
func chain(c *registry.Cache, l *langChain) (analysis.Analyzer, error) {
	tok, err := c.TokenizerNamed(unicodetok.Name)
	if err != nil {
		return nil, err
	}
	var filters []analysis.TokenFilter
	add := func(name string) error {
		f, err := c.TokenFilterNamed(name)
		if err == nil {
			filters = append(filters, f)
		}
		return err
	}
	if l == nil {
		if err := add(lowercase.Name); err != nil {
			return nil, err
		}
		return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: append(filters, foldFilter{})}, nil
	}
	for _, name := range l.pre {
		if err := add(name); err != nil {
			return nil, err
		}
	}
	filters = append(filters, stop.NewStopTokensFilter(l.fillers), foldFilter{})
	if err := add(l.stemmer); err != nil {
		return nil, err
	}
	return &analysis.DefaultAnalyzer{Tokenizer: tok, TokenFilters: filters}, nil
}

// foldFilter removes diacritics (é → e, ñ → n, ü → u): decompose, drop the
// combining marks, recompose. ASCII tokens, the common case, pass through
// untouched.
type foldFilter struct{}

func (foldFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	for _, t := range in {
		if ascii(t.Term) {
			continue
		}
		d := norm.NFD.Bytes(t.Term)
		out := d[:0]
		for i := 0; i < len(d); {
			r, n := utf8.DecodeRune(d[i:])
			if !unicode.Is(unicode.Mn, r) {
				out = append(out, d[i:i+n]...)
			}
			i += n
		}
		t.Term = norm.NFC.Bytes(out)
	}
	return in
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
