package engine

import (
	"math"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// skipWords let a visitor leave an optional field empty, in several languages.
var skipWords = map[string]bool{
	"skip": true, "no": true, "-": true, "passer": true, "non": true,
	"omitir": true, "saltar": true, "überspringen": true, "nein": true,
}

// ValidateField checks a visitor's answer to a field and returns the value
// to store: a trimmed string, a float64 for numbers, the choice's value for
// choices, an ISO date for dates. ok is false when the answer is invalid.
func ValidateField(f *Field, lang, answer string) (value any, ok bool) {
	s := strings.TrimSpace(answer)
	if s == "" || len(s) > MaxVarValueLength || strings.ContainsRune(s, 0) {
		return nil, false
	}
	switch f.Type {
	case FieldEmail:
		return validEmail(s)
	case FieldPhone:
		return validPhone(s)
	case FieldNumber:
		v, ok := parseNumber(s)
		if !ok || (f.Min != nil && v < *f.Min) || (f.Max != nil && v > *f.Max) {
			return nil, false
		}
		return v, true
	case FieldChoice:
		if v, ok := matchChoice(f.Choices, s); ok {
			return v, true
		}
		return nil, false
	case FieldDate:
		for _, layout := range []string{"2006-01-02", "2006/01/02", "02.01.2006"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.Format("2006-01-02"), true
			}
		}
		return nil, false
	case FieldURL:
		return validURL(s)
	}
	// text: any printable answer
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return nil, false
		}
	}
	return s, true
}

func validEmail(s string) (any, bool) {
	if len(s) > 254 || strings.ContainsAny(s, "\r\n \t<>,;\"") {
		return nil, false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return nil, false
	}
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !strings.Contains(s[at+1:], ".") || strings.HasSuffix(s, ".") {
		return nil, false
	}
	return strings.ToLower(s[:at]) + strings.ToLower(s[at:]), true
}

func validPhone(s string) (any, bool) {
	if len(s) > 32 {
		return nil, false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '.':
		default:
			return nil, false
		}
	}
	if digits < 6 || digits > 15 {
		return nil, false
	}
	return s, true
}

// parseNumber reads numbers as people type them: "5000", "5,000", "5 000",
// "$5000", "5000 €", "5k", "1.5m". NaN and infinities are refused.
func parseNumber(s string) (float64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.Trim(s, "$€£¥ ")
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1e3, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "m"):
		mult, s = 1e6, strings.TrimSuffix(s, "m")
	}
	s = strings.NewReplacer(",", "", " ", "", "\u00a0", "", "_", "").Replace(strings.TrimSpace(s))
	if s == "" || len(s) > 32 {
		return 0, false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' {
			return 0, false
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	v *= mult
	if math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func validURL(s string) (any, bool) {
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || !strings.Contains(u.Host, ".") || strings.ContainsAny(s, " \r\n") {
		return nil, false
	}
	return u.String(), true
}

// matchChoice finds the choice whose value or label (in any language) equals
// the answer, ignoring case.
func matchChoice(choices []QuickReply, s string) (string, bool) {
	for _, c := range choices {
		if strings.EqualFold(c.Value, s) {
			return c.Value, true
		}
		for _, l := range c.Label {
			if strings.EqualFold(strings.TrimSpace(l), s) {
				return c.Value, true
			}
		}
	}
	return "", false
}

// ResolveLanguage picks the chat's language from a browser locale such as
// "fr-FR" or "pt-BR,pt;q=0.9": the exact supported language, then its base
// language, then the default.
func (c *Compiled) ResolveLanguage(locale string) string {
	for _, part := range strings.Split(locale, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		tag = strings.ReplaceAll(tag, "_", "-")
		if tag == "" {
			continue
		}
		base, _, _ := strings.Cut(tag, "-")
		for _, l := range c.langs {
			if l == tag {
				return l
			}
		}
		for _, l := range c.langs {
			if l == base {
				return l
			}
		}
	}
	return c.defaultLang
}
