package playbooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// walker checks a JSON document against a Go type token by token, before
// encoding/json decodes it. encoding/json alone cannot do this job: it
// matches field names case-insensitively, keeps the last of duplicated
// keys, and reports an unknown field with neither a path nor an offset.
type walker struct {
	data []byte
	dec  *json.Decoder
	// positions, when recording, maps each value's JSON path to the offset
	// of its first byte.
	positions map[string]int64
}

func newWalker(data []byte, record bool) *walker {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	w := &walker{data: data, dec: dec}
	if record {
		w.positions = map[string]int64{}
	}
	return w
}

// document walks the single top-level value. Trailing data was already
// refused by checkSyntax.
func (w *walker) document(t reflect.Type) error {
	return w.walk(t, "")
}

// next returns the offset of the next token's first byte: the decoder's
// offset is the end of the previous token, before separators and spaces.
func (w *walker) next() int64 {
	off := w.dec.InputOffset()
	for off < int64(len(w.data)) {
		switch w.data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
			continue
		}
		break
	}
	return off
}

func (w *walker) token() (json.Token, int64, error) {
	start := w.next()
	tok, err := w.dec.Token()
	if err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, start, errorAt(w.data, start, "", "invalid JSON: "+syn.Error())
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, start, errorAt(w.data, int64(len(w.data)), "", "invalid JSON: unexpected end of the file")
		}
		return nil, start, errorAt(w.data, start, "", "invalid JSON: "+err.Error())
	}
	return tok, start, nil
}

func (w *walker) walk(t reflect.Type, path string) error {
	tok, start, err := w.token()
	if err != nil {
		return err
	}
	if w.positions != nil {
		w.positions[path] = start
	}
	return w.value(tok, start, t, path)
}

func (w *walker) value(tok json.Token, start int64, t reflect.Type, path string) error {
	if t.Kind() == reflect.Pointer {
		if tok == nil {
			return nil
		}
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		// A type that decodes itself (a time, raw JSON, a union) checks its
		// own value when encoding/json decodes it.
		return w.skip(tok)
	}
	if tok == nil {
		switch t.Kind() {
		case reflect.Slice, reflect.Map, reflect.Interface:
			return nil
		}
		return w.mismatch(start, path, t, tok)
	}
	switch t.Kind() {
	case reflect.Interface:
		return w.skip(tok)
	case reflect.Struct:
		if tok != json.Delim('{') {
			return w.mismatch(start, path, t, tok)
		}
		return w.object(t, path)
	case reflect.Map:
		if tok != json.Delim('{') {
			return w.mismatch(start, path, t, tok)
		}
		return w.mapping(t, path)
	case reflect.Slice:
		if tok != json.Delim('[') {
			return w.mismatch(start, path, t, tok)
		}
		for i := 0; w.dec.More(); i++ {
			if err := w.walk(t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		_, _, err := w.token()
		return err
	case reflect.String:
		if _, ok := tok.(string); !ok {
			return w.mismatch(start, path, t, tok)
		}
	case reflect.Bool:
		if _, ok := tok.(bool); !ok {
			return w.mismatch(start, path, t, tok)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.mismatch(start, path, t, tok)
		}
		if _, err := strconv.ParseInt(string(n), 10, t.Bits()); err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return errorAt(w.data, start, path, fmt.Sprintf("%s is out of range", n))
			}
			return errorAt(w.data, start, path, fmt.Sprintf("expected a whole number, found %s", n))
		}
	case reflect.Float32, reflect.Float64:
		n, ok := tok.(json.Number)
		if !ok {
			return w.mismatch(start, path, t, tok)
		}
		if _, err := strconv.ParseFloat(string(n), t.Bits()); err != nil {
			return errorAt(w.data, start, path, fmt.Sprintf("%s is out of range", n))
		}
	default:
		return errorAt(w.data, start, path, "internal: no decoding rule for "+t.String())
	}
	return nil
}

// object walks a JSON object for struct type t: every key must name one of
// its JSON fields exactly, once.
func (w *walker) object(t reflect.Type, path string) error {
	fields, names := jsonFields(t)
	seen := map[string]bool{}
	for w.dec.More() {
		tok, start, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		child := join(path, key)
		if seen[key] {
			return errorAt(w.data, start, child, fmt.Sprintf("the field %q appears twice", key))
		}
		seen[key] = true
		ft, ok := fields[key]
		if !ok {
			return errorAt(w.data, start, child, unknownField(key, names, path))
		}
		if err := w.walk(ft, child); err != nil {
			return err
		}
	}
	_, _, err := w.token()
	return err
}

// mapping walks a JSON object for a map with string keys, refusing
// duplicated keys that encoding/json would silently collapse.
func (w *walker) mapping(t reflect.Type, path string) error {
	seen := map[string]bool{}
	for w.dec.More() {
		tok, start, err := w.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		child := join(path, key)
		if seen[key] {
			return errorAt(w.data, start, child, fmt.Sprintf("the key %q appears twice", key))
		}
		seen[key] = true
		if err := w.walk(t.Elem(), child); err != nil {
			return err
		}
	}
	_, _, err := w.token()
	return err
}

// skip consumes the rest of a value whose first token is tok.
func (w *walker) skip(tok json.Token) error {
	depth := 0
	for {
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				depth++
			default:
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
		var err error
		if tok, _, err = w.token(); err != nil {
			return err
		}
	}
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

func (w *walker) mismatch(start int64, path string, t reflect.Type, tok json.Token) error {
	return errorAt(w.data, start, path, fmt.Sprintf("expected %s, found %s", describeType(t), describeToken(tok)))
}

func describeType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return t.String()
}

func describeToken(tok json.Token) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case bool:
		return strconv.FormatBool(v)
	case json.Number:
		return "the number " + string(v)
	}
	return fmt.Sprint(tok)
}

func unknownField(key string, names []string, path string) string {
	for _, n := range names {
		if strings.EqualFold(n, key) {
			return fmt.Sprintf("unknown field %q (did you mean %q? field names are case-sensitive)", key, n)
		}
	}
	where := "here"
	if path != "" {
		where = "in " + path
	}
	return fmt.Sprintf("unknown field %q; the fields allowed %s are: %s", key, where, strings.Join(names, ", "))
}

// jsonFields lists the JSON fields of struct type t as encoding/json sees
// them, promoting the fields of untagged embedded structs.
func jsonFields(t reflect.Type) (map[string]reflect.Type, []string) {
	fields := map[string]reflect.Type{}
	var names []string
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, _, _ := strings.Cut(tag, ",")
			if sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct {
				add(sf.Type)
				continue
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if _, dup := fields[name]; !dup {
				fields[name] = sf.Type
				names = append(names, name)
			}
		}
	}
	add(t)
	return fields, names
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// errorAt builds a DecodeError at a byte offset of data.
func errorAt(data []byte, off int64, field, msg string) *DecodeError {
	line, col := lineCol(data, off)
	return &DecodeError{Line: line, Column: col, Offset: off, Field: field, Message: msg}
}

// lineCol turns a byte offset into a 1-based line and a 1-based column
// counted in characters.
func lineCol(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	head := data[:off]
	line = 1 + bytes.Count(head, []byte{'\n'})
	lineStart := bytes.LastIndexByte(head, '\n') + 1
	col = 1 + utf8.RuneCount(head[lineStart:])
	return line, col
}

// firstByte is the offset of the first byte that is not a space.
func firstByte(data []byte) int64 {
	return int64(len(data) - len(bytes.TrimLeft(data, " \t\r\n")))
}

// topKey finds the offset of the value of a key of the top-level object.
// data is valid JSON when it is called.
func topKey(data []byte, key string) (int64, bool) {
	w := newWalker(data, false)
	tok, _, err := w.token()
	if err != nil || tok != json.Delim('{') {
		return 0, false
	}
	for w.dec.More() {
		k, _, err := w.token()
		if err != nil {
			return 0, false
		}
		v, start, err := w.token()
		if err != nil {
			return 0, false
		}
		if k == key {
			return start, true
		}
		if err := w.skip(v); err != nil {
			return 0, false
		}
	}
	return 0, false
}
