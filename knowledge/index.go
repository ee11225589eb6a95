package knowledge

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
)

// Retrieval bounds and constants. See docs/knowledge.md for how the
// confidence is computed.
const (
	// MaxQueryChars bounds the part of a question that is analyzed; the
	// engine already bounds a visitor's message, this bounds the work.
	MaxQueryChars = 1000
	// MaxQueryTerms bounds the distinct terms of a question.
	MaxQueryTerms = 32
	// candidates is how many units bleve returns per language for the
	// confidence to rescore. Knowledge bases are small; the first few
	// candidates are the only ones that can pass a threshold.
	candidates = 24
	// prefixCredit is the credit of two terms where one is a prefix of
	// the other (livr/livraison, deliv/deliveri): derivations a stemmer
	// does not join. Less than an exact match, so an exact phrasing always
	// wins.
	prefixCredit = 0.8
	// minPrefixRunes and maxPrefixGap keep prefix credit to real
	// derivations: the shorter term has at least 4 letters and the longer
	// adds at most 5.
	minPrefixRunes = 4
	maxPrefixGap   = 5
	// answerCredit is the credit a question word gets from appearing in
	// an entry's answer rather than in its question: "prices for a website
	// redesign" is well explained by an answer that talks about redesigns.
	answerCredit = 0.5
)

// Kind says what a hit is.
type Kind string

// The kinds of hits.
const (
	// KindFAQ is an FAQ entry.
	KindFAQ Kind = "faq"
	// KindBio is the bio.
	KindBio Kind = "bio"
	// KindOffer is an item of the services offered.
	KindOffer Kind = "offer"
	// KindCustomOffer is the requirements for a custom offer.
	KindCustomOffer Kind = "custom_offer"
	// KindDontOffer is an item of the services not offered: the question
	// is out of scope.
	KindDontOffer Kind = "dont_offer"
)

// Hit is one scored unit of the knowledge base.
type Hit struct {
	Kind Kind `json:"kind"`
	// Index is the FAQ entry's index in Base.FAQ, or the item's index in
	// its rules list; -1 for the bio and the custom offer.
	Index int `json:"index"`
	// Language is the primary language the match was made in.
	Language string `json:"language"`
	// Confidence is in [0, 1]; 1 is a question worded exactly as one of
	// the unit's phrasings.
	Confidence float64 `json:"confidence"`
}

// Result is what Search found, best first within each group. A nil hit
// means nothing of that group matched at all.
type Result struct {
	// FAQ is the best FAQ entry.
	FAQ *Hit
	// Passage is the best bio, offer or custom-offer passage.
	Passage *Hit
	// Decline is the best don't-offer rule, scored for out-of-scope
	// detection (see docs/knowledge.md).
	Decline *Hit
	// Hits are every scored unit, best first.
	Hits []Hit
}

// Index is the retrieval index of one knowledge base at one revision: a
// bleve in-memory index with an analyzer per language, and the term
// statistics that turn its candidates into confidences. It is immutable
// and safe for concurrent use; build it once per revision (Cache) and
// share it.
type Index struct {
	// mu orders searches before Close: a search holds it shared.
	mu     sync.RWMutex
	closed bool

	base  Base
	lang  string // primary language of the bio and rules
	idx   bleve.Index
	units []unit
	langs map[string]*langStats
	// offerTerms are the terms of the services offered: they do not
	// distinguish an out-of-scope request from an in-scope one.
	offerTerms map[string]bool
	// faqTerms are, per language, every term of the FAQ's questions and
	// answers: words the FAQ answers (price, delivery) do not make a
	// question less about a don't-offer rule.
	faqTerms map[string]*termSet
	// byKey finds translations: key → language → FAQ index.
	byKey map[string]map[string]int
}

// unit is one retrievable thing: an FAQ entry, the bio, or one rule item.
type unit struct {
	kind  Kind
	lang  string
	index int
	// phrasings are the analyzed ways to say the unit: an FAQ entry's
	// question and variants, a rule item, the bio's sentences.
	phrasings []*termSet
	// body is an FAQ answer's terms.
	body *termSet
}

// langStats are the document frequencies of one language's units.
type langStats struct {
	analyzer analysis.Analyzer
	units    int
	df       map[string]int
	vocab    []string // sorted, for prefix lookups
}

// termSet is a set of analyzed terms, sorted for prefix lookups.
type termSet struct {
	sorted []string
	has    map[string]bool
}

func newTermSet(terms []string) *termSet {
	ts := &termSet{has: make(map[string]bool, len(terms))}
	for _, t := range terms {
		if !ts.has[t] {
			ts.has[t] = true
			ts.sorted = append(ts.sorted, t)
		}
	}
	sort.Strings(ts.sorted)
	return ts
}

// credit is how well term q matches the set: 1 for the term itself,
// prefixCredit for a derivation, 0 otherwise.
func (ts *termSet) credit(q string) float64 {
	if ts == nil {
		return 0
	}
	if ts.has[q] {
		return 1
	}
	n := utf8.RuneCountInString(q)
	// A shorter term of the set that q extends (set: livr, q: livraison).
	// k counts the runes before byte offset pos.
	if n > minPrefixRunes {
		k := 0
		for pos := range q {
			if k >= minPrefixRunes && n-k <= maxPrefixGap && ts.has[q[:pos]] {
				return prefixCredit
			}
			k++
		}
	}
	// A longer term of the set that extends q (set: deliveri, q: deliv).
	if n >= minPrefixRunes {
		j := sort.SearchStrings(ts.sorted, q)
		for ; j < len(ts.sorted) && strings.HasPrefix(ts.sorted[j], q); j++ {
			if utf8.RuneCountInString(ts.sorted[j])-n <= maxPrefixGap {
				return prefixCredit
			}
		}
	}
	return 0
}

// Build indexes a knowledge base. The base should be valid (Validate);
// Build normalizes a copy of it, so a stored document from an older
// release still builds.
func Build(b Base) (*Index, error) {
	b = cloneBase(b)
	b.Normalize(b.Language)
	ix := &Index{
		base:       b,
		lang:       primary(b.Language),
		langs:      map[string]*langStats{},
		offerTerms: map[string]bool{},
		faqTerms:   map[string]*termSet{},
		byKey:      map[string]map[string]int{},
	}
	langs := []string{ix.lang}
	for _, e := range b.FAQ {
		if l := primary(e.Language); !slices.Contains(langs, l) {
			langs = append(langs, l)
		}
	}
	im := mapping.NewIndexMapping()
	im.DefaultAnalyzer = analyzerStandard
	im.StoreDynamic, im.IndexDynamic, im.DocValuesDynamic = false, false, false
	dm := mapping.NewDocumentStaticMapping()
	for _, l := range langs {
		for _, f := range fieldsOf(l) {
			fm := mapping.NewTextFieldMapping()
			fm.Analyzer = analyzerFor(l)
			fm.Store, fm.IncludeInAll, fm.IncludeTermVectors, fm.DocValues = false, false, false, false
			dm.AddFieldMappingsAt(f, fm)
		}
	}
	im.DefaultMapping = dm
	// Scorch with no path is an in-memory index: an order of magnitude
	// faster to build and to search than the upsidedown/gtreap memory
	// store (NewMemOnly), whose iterators each run a goroutine. It runs one
	// goroutine until Close, which the cache calls on eviction.
	idx, err := bleve.NewUsing("", im, scorch.Name, scorch.Name, nil)
	if err != nil {
		return nil, fmt.Errorf("knowledge: new index: %w", err)
	}
	ix.idx = idx
	built := false
	defer func() {
		if !built {
			_ = idx.Close()
		}
	}()
	for _, l := range langs {
		a := im.AnalyzerNamed(analyzerFor(l))
		if a == nil {
			return nil, fmt.Errorf("knowledge: no analyzer for %s", l)
		}
		ix.langs[l] = &langStats{analyzer: a, df: map[string]int{}}
	}

	batch := idx.NewBatch()
	add := func(u unit, doc map[string]any) error {
		id := strconv.Itoa(len(ix.units))
		ix.units = append(ix.units, u)
		return batch.Index(id, doc)
	}
	var faqTerms = map[string][]string{}
	for i, e := range b.FAQ {
		l := primary(e.Language)
		texts := append([]string{e.Question}, e.Variants...)
		u := unit{kind: KindFAQ, lang: l, index: i, phrasings: ix.analyzeAll(l, texts), body: newTermSet(ix.analyze(l, e.Answer))}
		for _, p := range u.phrasings {
			faqTerms[l] = append(faqTerms[l], p.sorted...)
		}
		faqTerms[l] = append(faqTerms[l], u.body.sorted...)
		if err := add(u, map[string]any{"q_" + l: texts, "a_" + l: e.Answer}); err != nil {
			return nil, err
		}
		if e.Key != "" {
			if ix.byKey[e.Key] == nil {
				ix.byKey[e.Key] = map[string]int{}
			}
			ix.byKey[e.Key][e.Language] = i
		}
	}
	for l, terms := range faqTerms {
		ix.faqTerms[l] = newTermSet(terms)
	}
	l := ix.lang
	if b.Bio != "" {
		sentences := splitSentences(b.Bio)
		if err := add(unit{kind: KindBio, lang: l, index: -1, phrasings: ix.analyzeAll(l, sentences)}, map[string]any{"p_" + l: sentences}); err != nil {
			return nil, err
		}
	}
	for i, item := range b.Rules.Offer {
		u := unit{kind: KindOffer, lang: l, index: i, phrasings: ix.analyzeAll(l, []string{item})}
		for _, p := range u.phrasings {
			for _, t := range p.sorted {
				ix.offerTerms[t] = true
			}
		}
		if err := add(u, map[string]any{"p_" + l: item}); err != nil {
			return nil, err
		}
	}
	if len(b.Rules.CustomOffer) > 0 {
		// Visitors ask for "a quote", not for the requirements' words, so
		// the ways to ask for a custom offer are phrasings too.
		texts := append(slices.Clone(b.Rules.CustomOffer), guidanceFor(l).customAsk...)
		if err := add(unit{kind: KindCustomOffer, lang: l, index: -1, phrasings: ix.analyzeAll(l, texts)}, map[string]any{"p_" + l: texts}); err != nil {
			return nil, err
		}
	}
	for i, item := range b.Rules.DontOffer {
		if err := add(unit{kind: KindDontOffer, lang: l, index: i, phrasings: ix.analyzeAll(l, []string{item})}, map[string]any{"d_" + l: item}); err != nil {
			return nil, err
		}
	}
	if err := idx.Batch(batch); err != nil {
		return nil, fmt.Errorf("knowledge: index: %w", err)
	}
	// Document frequencies: a unit counts once per term it contains.
	for _, u := range ix.units {
		st := ix.langs[u.lang]
		st.units++
		seen := map[string]bool{}
		for _, p := range append(slices.Clone(u.phrasings), u.body) {
			if p == nil {
				continue
			}
			for _, t := range p.sorted {
				if !seen[t] {
					seen[t] = true
					st.df[t]++
				}
			}
		}
	}
	for _, st := range ix.langs {
		st.vocab = make([]string, 0, len(st.df))
		for t := range st.df {
			st.vocab = append(st.vocab, t)
		}
		sort.Strings(st.vocab)
	}
	built = true
	return ix, nil
}

// errClosed: the index was closed (evicted long ago) under a search.
var errClosed = errors.New("knowledge: the index is closed")

// fieldsOf are a language's fields: FAQ questions (and variants), FAQ
// answers, passages (bio, offers, custom offer), don't-offer rules.
func fieldsOf(l string) []string {
	return []string{"q_" + l, "a_" + l, "p_" + l, "d_" + l}
}

// fieldBoost ranks candidates: bleve's score only orders them; the
// confidence is computed afterwards.
var fieldBoost = map[byte]float64{'q': 3, 'd': 3, 'p': 2, 'a': 1}

// Close releases the index's goroutine and memory. It waits for searches
// in progress; a search after Close finds nothing. Closing twice is a
// no-op.
func (ix *Index) Close() error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.closed {
		return nil
	}
	ix.closed = true
	return ix.idx.Close()
}

// Base returns the knowledge base the index was built from.
func (ix *Index) Base() Base { return ix.base }

// Units reports how many units (FAQ entries, passages, rules) are indexed.
func (ix *Index) Units() int { return len(ix.units) }

func (ix *Index) analyze(lang, text string) []string {
	st := ix.langs[lang]
	if st == nil {
		return nil
	}
	toks := st.analyzer.Analyze([]byte(text))
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if len(t.Term) > 0 {
			out = append(out, string(t.Term))
		}
	}
	return out
}

func (ix *Index) analyzeAll(lang string, texts []string) []*termSet {
	out := make([]*termSet, 0, len(texts))
	for _, t := range texts {
		if terms := ix.analyze(lang, t); len(terms) > 0 {
			out = append(out, newTermSet(terms))
		}
	}
	return out
}

// idf is the BM25 inverse document frequency: always positive, highest for
// terms no unit has. A word the base never uses counts fully against a
// match: a question about something unknown should fall below the
// threshold and go to a human rather than get a near answer.
func (st *langStats) idf(df int) float64 {
	n := float64(st.units)
	return math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
}

// weight is a term's weight, idf squared: with it the confidence of a
// question against a phrasing is the cosine of their tf-idf vectors.
func (st *langStats) weight(term string) float64 {
	w := st.idf(st.df[term])
	return w * w
}

// question is an analyzed question in one language.
type question struct {
	terms *termSet
	// forms are the vocabulary terms each question term matches: itself
	// and its derivations.
	forms map[string][]string
	// weight weighs each term by the most frequent unit term it matches,
	// so a derivation is not weighed as a word nobody wrote.
	weight map[string]float64
}

func newQuery(st *langStats, terms []string) *question {
	ts := newTermSet(terms)
	if len(ts.sorted) > MaxQueryTerms {
		// Sorted order keeps the cut deterministic.
		ts = newTermSet(ts.sorted[:MaxQueryTerms])
	}
	q := &question{terms: ts, forms: map[string][]string{}, weight: map[string]float64{}}
	for _, t := range ts.sorted {
		df := st.df[t]
		forms := st.matches(t)
		for _, f := range forms {
			df = max(df, st.df[f])
		}
		q.forms[t] = forms
		w := st.idf(df)
		q.weight[t] = w * w
	}
	return q
}

// matches lists the vocabulary terms q matches by prefix.
func (st *langStats) matches(q string) []string {
	var out []string
	n := utf8.RuneCountInString(q)
	if n < minPrefixRunes {
		return nil
	}
	k := 0
	for pos := range q {
		if k >= minPrefixRunes && n-k <= maxPrefixGap {
			if _, ok := st.df[q[:pos]]; ok {
				out = append(out, q[:pos])
			}
		}
		k++
	}
	j := sort.SearchStrings(st.vocab, q)
	for ; j < len(st.vocab) && strings.HasPrefix(st.vocab[j], q); j++ {
		if t := st.vocab[j]; t != q && utf8.RuneCountInString(t)-n <= maxPrefixGap {
			out = append(out, t)
		}
	}
	return out
}

// Search scores the knowledge base against a visitor's question asked in
// language. It searches the visitor's language and the base's language
// (a visitor may write in the site's language whatever their browser's
// locale). Bleve finds the candidates; each is then scored into a
// confidence (docs/knowledge.md):
//
//	cover(A, B) = Σ weight(t)·credit(t, B) for t in A / Σ weight(t) for t in A
//	confidence  = √(cover(phrasing, question) · cover(question, entry))
//
// the geometric mean of how much of the phrasing the visitor said and how
// much of the question the entry explains; with credit 1 or 0 and weight
// idf², it is the cosine similarity of the two tf-idf vectors. An entry
// scores its best phrasing.
func (ix *Index) Search(question, language string) Result {
	if utf8.RuneCountInString(question) > MaxQueryChars {
		question = string([]rune(question)[:MaxQueryChars])
	}
	var langs []string
	if l := primary(language); ix.langs[l] != nil {
		langs = append(langs, l)
	}
	if !slices.Contains(langs, ix.lang) {
		langs = append(langs, ix.lang)
	}
	best := map[int]Hit{}
	for _, l := range langs {
		st := ix.langs[l]
		terms := ix.analyze(l, question)
		if len(terms) == 0 {
			continue
		}
		q := newQuery(st, terms)
		ids, err := ix.candidates(l, q)
		if err != nil {
			continue
		}
		for _, id := range ids {
			u := &ix.units[id]
			var c float64
			if u.kind == KindDontOffer {
				c = ix.declineConfidence(st, u, q)
			} else {
				c = confidence(st, u, q)
			}
			if c <= 0 {
				continue
			}
			if h, ok := best[id]; !ok || c > h.Confidence {
				best[id] = Hit{Kind: u.kind, Index: u.index, Language: l, Confidence: c}
			}
		}
	}
	var r Result
	for _, h := range best {
		r.Hits = append(r.Hits, h)
	}
	sort.Slice(r.Hits, func(i, j int) bool {
		a, b := r.Hits[i], r.Hits[j]
		if a.Confidence != b.Confidence {
			return a.Confidence > b.Confidence
		}
		// Ties go to document order, so results are stable.
		if a.Kind != b.Kind {
			return kindOrder(a.Kind) < kindOrder(b.Kind)
		}
		return a.Index < b.Index
	})
	for i := range r.Hits {
		h := &r.Hits[i]
		switch {
		case h.Kind == KindFAQ && r.FAQ == nil:
			r.FAQ = h
		case h.Kind == KindDontOffer && r.Decline == nil:
			r.Decline = h
		case h.Kind != KindFAQ && h.Kind != KindDontOffer && r.Passage == nil:
			r.Passage = h
		}
	}
	return r
}

func kindOrder(k Kind) int {
	return slices.Index([]Kind{KindFAQ, KindDontOffer, KindOffer, KindCustomOffer, KindBio}, k)
}

// candidates asks bleve for the units of language l sharing a term, or a
// derivation of one, with the question.
func (ix *Index) candidates(l string, q *question) ([]int, error) {
	var clauses []query.Query
	for _, t := range q.terms.sorted {
		forms := append([]string{t}, q.forms[t]...)
		for _, f := range fieldsOf(l) {
			for _, form := range forms {
				tq := query.NewTermQuery(form)
				tq.SetField(f)
				tq.SetBoost(fieldBoost[f[0]])
				clauses = append(clauses, tq)
			}
		}
	}
	req := bleve.NewSearchRequestOptions(query.NewDisjunctionQuery(clauses), candidates, 0, false)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return nil, errClosed
	}
	res, err := ix.idx.Search(req)
	if err != nil {
		return nil, err
	}
	ids := make([]int, 0, len(res.Hits))
	for _, h := range res.Hits {
		id, err := strconv.Atoi(h.ID)
		if err != nil || id < 0 || id >= len(ix.units) {
			return nil, errors.New("knowledge: unknown document " + h.ID)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// confidence scores a unit: how much of its best phrasing the visitor
// said, and how much of the question the unit explains, any phrasing
// counting and the FAQ answer at answerCredit.
func confidence(st *langStats, u *unit, q *question) float64 {
	var coverP float64
	for _, p := range u.phrasings {
		var num, den float64
		for _, t := range p.sorted {
			w := st.weight(t)
			num += w * q.terms.credit(t)
			den += w
		}
		coverP = max(coverP, num/den)
	}
	if coverP == 0 {
		return 0
	}
	var num, den float64
	for _, t := range q.terms.sorted {
		var c float64
		for _, p := range u.phrasings {
			if c = max(c, p.credit(t)); c == 1 {
				break
			}
		}
		if c < answerCredit {
			c = max(c, answerCredit*u.body.credit(t))
		}
		w := q.weight[t]
		num += w * c
		den += w
	}
	return math.Sqrt(coverP * num / den)
}

// declineConfidence scores a don't-offer rule for out-of-scope detection.
// It is confidence with two changes that make "what's your price for a
// logo?" about logos: the rule's words that the offers also use
// ("design" in "logo design" when "web design" is offered) are left out of
// the rule, and the question's words the FAQ knows (price) are left out of
// the question, unless the rule has them too or they are offered: "my logo
// on the website" is about a website.
func (ix *Index) declineConfidence(st *langStats, u *unit, q *question) float64 {
	var best float64
	known := ix.faqTerms[u.lang]
	for _, p := range u.phrasings {
		var num, den float64
		for _, t := range p.sorted {
			if ix.offerTerms[t] {
				continue
			}
			w := st.weight(t)
			num += w * q.terms.credit(t)
			den += w
		}
		if den == 0 || num == 0 {
			continue
		}
		coverP := num / den
		num, den = 0, 0
		for _, t := range q.terms.sorted {
			c := p.credit(t)
			if c == 0 && known.credit(t) > 0 && !ix.offerTerms[t] {
				continue
			}
			w := q.weight[t]
			num += w * c
			den += w
		}
		if den == 0 {
			continue
		}
		best = max(best, math.Sqrt(coverP*num/den))
	}
	return best
}

// splitSentences cuts a bio into sentences, each a phrasing.
func splitSentences(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r == '.' || r == '!' || r == '?' || r == '\n' || r == '。' {
			if t := strings.TrimSpace(s[start:i]); t != "" {
				out = append(out, t)
			}
			start = i + utf8.RuneLen(r)
		}
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// guidanceFor returns the pre-filled texts of a language, or English's.
func guidanceFor(lang string) guidance {
	if g, ok := guidanceByLang[primary(lang)]; ok {
		return g
	}
	return guidanceByLang["en"]
}

func cloneBase(b Base) Base {
	b.Rules.Offer = slices.Clone(b.Rules.Offer)
	b.Rules.DontOffer = slices.Clone(b.Rules.DontOffer)
	b.Rules.CustomOffer = slices.Clone(b.Rules.CustomOffer)
	if b.Rules.Decline != nil {
		d := make(map[string]string, len(b.Rules.Decline))
		for k, v := range b.Rules.Decline {
			d[k] = v
		}
		b.Rules.Decline = d
	}
	faq := make([]FAQEntry, len(b.FAQ))
	for i, e := range b.FAQ {
		e.Variants = slices.Clone(e.Variants)
		faq[i] = e
	}
	b.FAQ = faq
	return b
}
