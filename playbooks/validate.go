package playbooks

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/engine"
)

// Bounds on the file's own fields; the graph's are the engine's Limits.
const (
	// MaxNameLength bounds a playbook's name, in bytes.
	MaxNameLength = 200
	// MaxDescriptionLength bounds a playbook's description, in bytes.
	MaxDescriptionLength = 4000
)

// Diagnostic is an engine diagnostic placed in the playbook file it came
// from. The embedded engine.Diagnostic names the node, edge or rule and the
// field, and for a condition the line and column inside the expression;
// FileLine and FileColumn say where that is in the file (0 when unknown),
// and Path is the JSON path they point at.
type Diagnostic struct {
	engine.Diagnostic
	Path       string `json:"path,omitempty"`
	FileLine   int    `json:"file_line,omitempty"`
	FileColumn int    `json:"file_column,omitempty"`
}

// String formats the diagnostic as "LINE:COL: " followed by the engine's
// own text, the way compilers print errors.
func (d Diagnostic) String() string {
	if d.FileLine > 0 {
		return fmt.Sprintf("%d:%d: %s", d.FileLine, d.FileColumn, d.Diagnostic.String())
	}
	return d.Diagnostic.String()
}

// Validate decodes a playbook file and runs every check of the engine on
// its graph (with the default limits, those of a published graph), plus the
// file's own checks on its name and description. A file that cannot be
// decoded returns a *DecodeError and no diagnostics. Otherwise the
// diagnostics, errors first, say whether the playbook may be published: it
// may when none has engine.SeverityError (see HasErrors).
func Validate(data []byte) (*File, []Diagnostic, error) {
	f, positions, err := decode(data, true)
	if err != nil {
		return nil, nil, err
	}
	var out []Diagnostic
	out = append(out, fileChecks(f)...)
	for _, d := range engine.Check(&f.Graph, engine.Options{}) {
		out = append(out, Diagnostic{Diagnostic: d})
	}
	loc := locator{data: trimBOM(data), f: f, positions: positions}
	for i := range out {
		loc.place(&out[i])
	}
	// Keep errors before warnings, as the engine orders them.
	errs := make([]Diagnostic, 0, len(out))
	var warns []Diagnostic
	for _, d := range out {
		if d.Severity == engine.SeverityError {
			errs = append(errs, d)
		} else {
			warns = append(warns, d)
		}
	}
	return f, append(errs, warns...), nil
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == engine.SeverityError {
			return true
		}
	}
	return false
}

func fileChecks(f *File) []Diagnostic {
	var out []Diagnostic
	bad := func(code, field, msg string) {
		out = append(out, Diagnostic{Diagnostic: engine.Diagnostic{
			Severity: engine.SeverityError, Code: code, Field: field, Message: msg}})
	}
	switch {
	case strings.TrimSpace(f.Name) == "":
		bad(engine.CodeInvalid, "name", "the playbook needs a name")
	case len(f.Name) > MaxNameLength:
		bad(engine.CodeLimit, "name", fmt.Sprintf("the name is %d bytes long; the limit is %d", len(f.Name), MaxNameLength))
	}
	if len(f.Description) > MaxDescriptionLength {
		bad(engine.CodeLimit, "description", fmt.Sprintf("the description is %d bytes long; the limit is %d", len(f.Description), MaxDescriptionLength))
	}
	return out
}

func trimBOM(data []byte) []byte {
	if len(data) >= 3 && string(data[:3]) == "\xef\xbb\xbf" {
		return data[3:]
	}
	return data
}

// locator places engine diagnostics in the file. The engine names things
// by id and gives fields sometimes from the root of the graph
// ("nodes[3].id", "start") and sometimes relative to the node, edge or
// rule ("greet.text.fr", "condition"), so the candidates are tried from
// the most precise to the least.
type locator struct {
	data      []byte
	f         *File
	positions map[string]int64
	// ids maps "nodes", "edges" and "rules" to their index by id.
	ids map[string]map[string]int
}

func (l *locator) place(d *Diagnostic) {
	var bases []string
	if d.Edge != "" {
		if i := l.index("edges", d.Edge); i >= 0 {
			bases = append(bases, "edges["+strconv.Itoa(i)+"]")
		}
	}
	if d.Rule != "" {
		if i := l.index("rules", d.Rule); i >= 0 {
			bases = append(bases, "global_rules["+strconv.Itoa(i)+"]")
		}
	}
	if d.Node != "" {
		if i := l.index("nodes", d.Node); i >= 0 {
			bases = append(bases, "nodes["+strconv.Itoa(i)+"]")
		}
	}
	var candidates []string
	if d.Field != "" {
		for _, b := range bases {
			candidates = append(candidates, prefixes(join(b, d.Field))...)
		}
		if _, ok := l.positions[d.Field]; ok {
			// An absolute field ("nodes[3].id") is more precise than the
			// object it sits in.
			candidates = append([]string{d.Field}, candidates...)
		} else {
			candidates = append(candidates, prefixes(d.Field)...)
		}
	}
	candidates = append(candidates, bases...)
	for _, c := range candidates {
		off, ok := l.positions[c]
		if !ok {
			continue
		}
		if d.Line > 0 && isExpression(c) {
			off = stringOffset(l.data, off, d.Offset)
		}
		d.Path = c
		d.FileLine, d.FileColumn = lineCol(l.data, off)
		return
	}
}

// isExpression reports whether the value at path is an expr-lang source,
// whose diagnostics carry a position inside it.
func isExpression(path string) bool {
	return strings.HasSuffix(path, ".condition") || strings.HasSuffix(path, ".value") && strings.Contains(path, ".set_variable.assignments[")
}

// prefixes returns path and its ancestors, longest first, stopping before
// the first segment: "a.b[1].c" gives "a.b[1].c", "a.b[1]", "a.b".
func prefixes(path string) []string {
	out := []string{path}
	for {
		i := strings.LastIndexAny(path, ".[")
		if i <= 0 {
			return out
		}
		path = path[:i]
		out = append(out, path)
	}
}

// index returns the position of the first of items whose id is id, or -1.
// The maps are built once: a broken file can have a diagnostic per node.
func (l *locator) index(kind string, id string) int {
	if l.ids == nil {
		l.ids = map[string]map[string]int{"nodes": {}, "edges": {}, "rules": {}}
		for i := len(l.f.Nodes) - 1; i >= 0; i-- {
			l.ids["nodes"][l.f.Nodes[i].ID] = i
		}
		for i := len(l.f.Edges) - 1; i >= 0; i-- {
			l.ids["edges"][l.f.Edges[i].ID] = i
		}
		for i := len(l.f.Rules) - 1; i >= 0; i-- {
			l.ids["rules"][l.f.Rules[i].ID] = i
		}
	}
	if i, ok := l.ids[kind][id]; ok {
		return i
	}
	return -1
}

// stringOffset returns the byte offset in data of the runeIndex-th
// character of the JSON string literal whose opening quote is at quote,
// decoding escapes the way encoding/json does, so that a condition's
// column lands on the right character of the file.
func stringOffset(data []byte, quote int64, runeIndex int) int64 {
	i := int(quote) + 1
	for n := 0; i < len(data) && data[i] != '"'; n++ {
		if n == runeIndex {
			return int64(i)
		}
		if data[i] != '\\' {
			_, size := utf8.DecodeRune(data[i:])
			i += size
			continue
		}
		if i+1 < len(data) && data[i+1] == 'u' {
			// \uXXXX, or a surrogate pair \uXXXX\uXXXX that decodes to a
			// single character.
			if hi, ok := hex4(data, i+2); ok && hi >= 0xD800 && hi < 0xDC00 &&
				i+7 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
				if lo, ok := hex4(data, i+8); ok && lo >= 0xDC00 && lo < 0xE000 {
					i += 12
					continue
				}
			}
			i += 6
			continue
		}
		i += 2
	}
	return int64(i)
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	return rune(v), err == nil
}
