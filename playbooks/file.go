package playbooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"

	"github.com/frontdesk/frontdesk/engine"
)

// FormatVersion is the version of the playbook file format this package
// reads and writes, the value of the "frontdesk_playbook" field.
const FormatVersion = 1

// MaxFileSize bounds a playbook file: 4 MiB, far above what the engine's
// limits let a graph hold, so that a decoder is never fed an unbounded body.
const MaxFileSize = 4 << 20

// File is a playbook file: the format version, a name, a description and a
// workflow graph, whose fields sit at the top level of the JSON object.
type File struct {
	// Format is the file format version; Decode accepts FormatVersion only
	// and Encode always writes it.
	Format int `json:"frontdesk_playbook"`
	// Name names the playbook (the assistant's name on import).
	Name string `json:"name"`
	// Description says what the playbook is for.
	Description string `json:"description,omitempty"`
	engine.Graph
}

// DecodeError is why a playbook file could not be decoded, and where. Line
// and Column are 1-based (the column counts characters, not bytes) and are 0
// when the fault has no position, such as an oversized file. Field is the
// JSON path of the faulty value ("nodes[2].greet.text") when known.
type DecodeError struct {
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Offset  int64  `json:"offset"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// Error formats the error as "LINE:COL: FIELD: message", leaving out the
// parts that are not known.
func (e *DecodeError) Error() string {
	var b bytes.Buffer
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Decode reads a playbook file strictly. It refuses, with a *DecodeError:
// a file over MaxFileSize, invalid JSON, data after the top-level object, a
// missing or unsupported format version, unknown or duplicated fields
// (field names are case-sensitive), and values of the wrong type. It does
// not run the engine's checks; see Validate.
func Decode(data []byte) (*File, error) {
	f, _, err := decode(data, false)
	return f, err
}

// Read decodes a playbook file from r, reading at most MaxFileSize bytes.
func Read(r io.Reader) (*File, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return Decode(data)
}

// Load decodes the playbook file at path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	f, err := Read(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Encode writes f in canonical form: two-space indentation, fields in a
// fixed order, map keys sorted, no HTML escaping (texts hold links and
// markup that should stay readable), a final newline, and FormatVersion as
// the version whatever f.Format holds.
func Encode(f *File) ([]byte, error) {
	out := *f
	out.Format = FormatVersion
	// The graph's node and edge lists are required fields without
	// omitempty: write an empty list rather than null.
	if out.Nodes == nil {
		out.Nodes = []engine.Node{}
	}
	if out.Edges == nil {
		out.Edges = []engine.Edge{}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&out); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decode runs the passes of Decode: encoding/json's scanner for syntax
// errors, a lenient probe for the version, the strict shape walk that finds
// everything else with a position, and encoding/json for the values
// themselves. When record is set it also returns the offset of every value,
// keyed by JSON path, for placing diagnostics.
func decode(data []byte, record bool) (*File, map[string]int64, error) {
	if len(data) > MaxFileSize {
		return nil, nil, &DecodeError{Message: fmt.Sprintf("the file is %d bytes; the limit is %d bytes (4 MiB)", len(data), MaxFileSize)}
	}
	// Editors on Windows add a byte-order mark; it carries no meaning here.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if err := checkSyntax(data, "a playbook file"); err != nil {
		return nil, nil, err
	}
	if err := checkVersion(data); err != nil {
		return nil, nil, err
	}
	w := newWalker(data, record)
	if err := w.document(reflect.TypeOf(File{})); err != nil {
		return nil, nil, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		// The walk accepts only what encoding/json decodes; reaching this
		// means the two disagree, which is a bug here, not in the file.
		return nil, nil, &DecodeError{Message: "internal: " + err.Error()}
	}
	normalize(reflect.ValueOf(&f).Elem())
	return &f, w.positions, nil
}

// checkSyntax refuses, with encoding/json's own scanner, invalid JSON, data
// after the top-level value, and a top-level value that is not an object.
// what names the document in messages ("a playbook file").
func checkSyntax(data []byte, what string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errorAt(data, 0, "", "the file is empty")
	}
	err := json.Unmarshal(data, &struct{}{})
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		off := syn.Offset
		if off > 0 && !strings.Contains(syn.Error(), "unexpected end") {
			// Offset counts the byte that broke the syntax; point at it.
			off--
		}
		return errorAt(data, off, "", "invalid JSON: "+syn.Error())
	case errors.As(err, &typ):
		return errorAt(data, firstByte(data), "", what+" must be a JSON object, not "+typ.Value)
	}
	return nil
}

// checkVersion checks the format version before any other field, so that
// a file from a newer Frontdesk is refused for its version rather than for
// the fields this one does not know. data is a valid JSON object.
func checkVersion(data []byte) error {
	var probe struct {
		Format json.RawMessage `json:"frontdesk_playbook"`
	}
	// Only a version that is not a number fails here, and it is reported
	// below with the raw value.
	_ = json.Unmarshal(data, &probe)
	off, found := topKey(data, "frontdesk_playbook")
	if !found || len(probe.Format) == 0 {
		// No Field: there is no such field to point at.
		return errorAt(data, firstByte(data), "",
			`this is not a Frontdesk playbook: the format version field "frontdesk_playbook" is missing`)
	}
	v, err := strconv.ParseInt(string(probe.Format), 10, 64)
	switch {
	case err != nil:
		return errorAt(data, off, "frontdesk_playbook", fmt.Sprintf("the format version must be the number %d, not %s", FormatVersion, probe.Format))
	case v > FormatVersion:
		return errorAt(data, off, "frontdesk_playbook", fmt.Sprintf("format version %d is newer than this Frontdesk reads (%d); upgrade Frontdesk to open it", v, FormatVersion))
	case v != FormatVersion:
		return errorAt(data, off, "frontdesk_playbook", fmt.Sprintf("format version %d is not supported; this Frontdesk reads version %d", v, FormatVersion))
	}
	return nil
}

// normalize turns empty slices and maps into nil throughout v. JSON cannot
// tell "[]" from an absent omitempty field once encoded, so without this a
// file holding "languages": [] would not decode to the same File after a
// round trip.
func normalize(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			normalize(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				normalize(v.Field(i))
			}
		}
	case reflect.Slice:
		if v.Len() == 0 {
			if !v.IsNil() && v.CanSet() {
				v.Set(reflect.Zero(v.Type()))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			normalize(v.Index(i))
		}
	case reflect.Map:
		if v.Len() == 0 && !v.IsNil() && v.CanSet() {
			v.Set(reflect.Zero(v.Type()))
		}
		// Map values here are strings: nothing to normalize inside.
	}
}
