package naming

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxLength is the longest name, in characters (runes), after trimming
// surrounding spaces.
const MaxLength = 60

// Reason says why a name was refused. The values are stable: the API and
// the builder may branch on them.
type Reason string

// The reasons.
const (
	// ReasonEmpty: nothing but spaces.
	ReasonEmpty Reason = "empty"
	// ReasonTooLong: more than MaxLength characters.
	ReasonTooLong Reason = "too_long"
	// ReasonInvalidCharacter: invalid UTF-8, a control character, or an
	// invisible formatting character (zero-width space, bidi override).
	ReasonInvalidCharacter Reason = "invalid_character"
	// ReasonOffensive: an offensive word.
	ReasonOffensive Reason = "offensive"
	// ReasonImpersonation: the product's or a brand's name.
	ReasonImpersonation Reason = "impersonation"
)

// Error is why Check refused a name. It describes the name field, so the
// caller can report it against whichever field held the name.
type Error struct {
	Reason Reason
	// Brand is the impersonated name, for ReasonImpersonation.
	Brand string
	// Message is a sentence for the person who typed the name. It never
	// repeats an offensive word.
	Message string
}

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Check reports whether name may be an assistant's name. It returns nil or
// an *Error. Surrounding spaces are ignored; callers store the trimmed name.
func Check(name string) error {
	if !utf8.ValidString(name) {
		return &Error{Reason: ReasonInvalidCharacter, Message: "the name is not valid UTF-8 text"}
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return &Error{Reason: ReasonEmpty, Message: "the name is empty"}
	}
	if n := utf8.RuneCountInString(name); n > MaxLength {
		return &Error{Reason: ReasonTooLong, Message: fmt.Sprintf("the name is %d characters long; the limit is %d", n, MaxLength)}
	}
	for _, r := range name {
		// Format characters are refused with the controls: a zero-width
		// space would otherwise split "Goo\u200bgle" past the checks below,
		// and a bidi override can make a name read differently than stored.
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return &Error{Reason: ReasonInvalidCharacter, Message: fmt.Sprintf("the name contains the invisible or control character %U", r)}
		}
	}
	forms := normalise(name)
	if brand := impersonated(forms); brand != "" {
		return &Error{Reason: ReasonImpersonation, Brand: brand,
			Message: fmt.Sprintf("the name looks like %q: an assistant may not impersonate Frontdesk or another brand", brand)}
	}
	if offensive(forms) {
		return &Error{Reason: ReasonOffensive, Message: "the name contains a word that is not allowed"}
	}
	return nil
}

// form is one normalised reading of a name: its words, in order.
type form []string

// normalise returns the readings of name to check. There are several
// because some characters are ambiguous ("1" is an "i" in "sh1t" and an "l"
// in "PayPa1") and because a stretched letter may stand for one letter
// ("fuuuck") or two ("asss").
func normalise(name string) []form {
	base := fold(name)
	var out []form
	seen := map[string]bool{}
	for _, one := range []rune{'i', 'l'} {
		leet := unleet(base, one)
		for _, keep := range []int{1, 2} {
			s := squeeze(leet, keep)
			if seen[s] {
				continue
			}
			seen[s] = true
			out = append(out, strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) }))
		}
	}
	return out
}

// fold lowercases s, strips accents and compatibility forms (full-width
// letters, ligatures), and maps look-alike letters of other scripts to the
// Latin letter they imitate.
func fold(s string) string {
	var b strings.Builder
	// NFKD splits accents off their letters and turns compatibility forms
	// (full-width "Ｇ", the "ﬁ" ligature) into plain letters.
	for _, r := range norm.NFKD.String(strings.ToLower(s)) {
		if unicode.Is(unicode.Mn, r) {
			continue // a combining accent, split off by decompose
		}
		if m, ok := lookalikes[r]; ok {
			b.WriteString(m)
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// lookalikes maps letters that do not decompose to the Latin letters they
// read as: ß and the ligatures, and the Cyrillic and Greek letters that
// look Latin (a Cyrillic "о" in "Gооgle").
var lookalikes = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'đ': "d", 'ł': "l", 'ı': "i", 'þ': "th",
	// Cyrillic
	'а': "a", 'в': "b", 'е': "e", 'ё': "e", 'к': "k", 'м': "m", 'н': "h", 'о': "o", 'р': "p",
	'с': "c", 'т': "t", 'у': "y", 'х': "x", 'і': "i", 'ї': "i", 'ј': "j", 'ѕ': "s", 'ԁ': "d",
	'ԛ': "q", 'ԝ': "w", 'ь': "b",
	// Greek
	'α': "a", 'β': "b", 'ε': "e", 'η': "n", 'ι': "i", 'κ': "k", 'ν': "v", 'ο': "o", 'ρ': "p",
	'τ': "t", 'υ': "u", 'χ': "x", 'ϲ': "c", 'ω': "w",
}

// unleet reads digits and symbols as the letters they stand for. one is the
// letter used for "1" and "|".
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1', '|':
			return one
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7':
			return 't'
		case '!':
			return 'i'
		}
		return r
	}, s)
}

// squeeze shortens every run of three or more equal letters to keep
// letters. Runs of two are left alone: they are ordinary spelling ("ass",
// "google").
func squeeze(s string, keep int) string {
	rs := []rune(s)
	var b strings.Builder
	for i := 0; i < len(rs); {
		j := i
		for j < len(rs) && rs[j] == rs[i] {
			j++
		}
		n := j - i
		if n >= 3 && unicode.IsLetter(rs[i]) {
			n = keep
		}
		for range n {
			b.WriteRune(rs[i])
		}
		i = j
	}
	return b.String()
}

// joins returns the words a reading may hide across separators: the words
// themselves, each two or three adjacent words run together ("sh it"), and
// each run of single letters ("b.i.t.c.h").
func joins(words form) (single, joined []string) {
	single = append(single, words...)
	for i := range words {
		for n := 2; n <= 3 && i+n <= len(words); n++ {
			joined = append(joined, strings.Join(words[i:i+n], ""))
		}
	}
	for i := 0; i < len(words); {
		j := i
		for j < len(words) && utf8.RuneCountInString(words[j]) == 1 {
			j++
		}
		if j-i >= 2 {
			// Spelled-out letters read as one word, so prefixes and
			// suffixes apply to them as to any word.
			single = append(single, strings.Join(words[i:j], ""))
		}
		if j == i {
			j++
		}
		i = j
	}
	return single, joined
}
