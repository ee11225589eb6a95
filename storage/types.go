package storage

import (
	"bytes"
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm/schema"
)

// JSON is a JSON document stored as text. It is kept byte for byte as the
// caller wrote it (no re-encoding), so a graph or an engine state reads back
// identical on both dialects. A nil JSON is SQL NULL.
type JSON []byte

// Value writes the document as text: a []byte would be a BLOB on SQLite.
func (j JSON) Value() (driver.Value, error) {
	if j == nil {
		return nil, nil
	}
	return string(j), nil
}

// Scan reads a text or blob column; NULL gives a nil JSON.
func (j *JSON) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*j = nil
	case string:
		*j = JSON(v)
	case []byte:
		*j = bytes.Clone(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into JSON", src)
	}
	return nil
}

// MarshalJSON embeds the document as is; nil is null.
func (j JSON) MarshalJSON() ([]byte, error) {
	if j == nil {
		return []byte("null"), nil
	}
	return j, nil
}

// UnmarshalJSON keeps a copy of the raw document.
func (j *JSON) UnmarshalJSON(b []byte) error {
	*j = bytes.Clone(b)
	return nil
}

// Strings is a list of strings stored as a JSON text array, e.g. a channel's
// allowed origins or an assistant's languages.
type Strings []string

// Value encodes the list; nil is stored as [] so the column stays valid JSON.
func (s Strings) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(s))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan decodes a JSON text array.
func (s *Strings) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*s = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("storage: cannot scan %T into Strings", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("storage: decode string list: %w", err)
	}
	*s = out
	return nil
}

// Date is a calendar date with no time of day and no zone, such as a deal's
// expected close date. It is a DATE on Postgres and "YYYY-MM-DD" text on
// SQLite; a time.Time would drift a day across time zones.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{Year: y, Month: m, Day: d}
}

// ParseDate parses "YYYY-MM-DD".
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return Date{}, invalidf("date %q: want YYYY-MM-DD", s)
	}
	return DateOf(t), nil
}

// String formats the date as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// valid reports whether the date exists in the calendar and fits a
// four-digit year, which both dialects can store.
func (d Date) valid() bool {
	if d.Year < 1 || d.Year > 9999 {
		return false
	}
	t := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
	return DateOf(t) == d
}

// Value writes "YYYY-MM-DD", which Postgres reads as a date.
func (d Date) Value() (driver.Value, error) {
	return d.String(), nil
}

// Scan reads a Postgres date (time.Time) or SQLite text.
func (d *Date) Scan(src any) error {
	switch v := src.(type) {
	case time.Time:
		*d = DateOf(v)
		return nil
	case string:
		p, err := ParseDate(v)
		if err != nil {
			return err
		}
		*d = p
		return nil
	case []byte:
		return d.Scan(string(v))
	default:
		return fmt.Errorf("storage: cannot scan %T into Date", src)
	}
}

// MarshalJSON writes "YYYY-MM-DD".
func (d Date) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.String())
}

// UnmarshalJSON reads "YYYY-MM-DD".
func (d *Date) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseDate(s)
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// nullStringSerializer maps "" to SQL NULL and back, so the structs can use
// plain strings for optional references (an unassigned conversation has
// AssigneeID ""), while foreign keys still see NULL rather than a dangling "".
type nullStringSerializer struct{}

// nullString is the gorm serializer name; the prefix keeps it clear of other
// registrations in gorm's global table.
const nullString = "frontdesk_nullstring"

func init() {
	schema.RegisterSerializer(nullString, nullStringSerializer{})
}

func (nullStringSerializer) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	var s string
	switch v := dbValue.(type) {
	case nil:
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return fmt.Errorf("storage: cannot scan %T into %s", dbValue, field.Name)
	}
	field.ReflectValueOf(ctx, dst).SetString(s)
	return nil
}

func (nullStringSerializer) Value(_ context.Context, _ *schema.Field, _ reflect.Value, fieldValue any) (any, error) {
	if s, _ := fieldValue.(string); s != "" {
		return s, nil
	}
	return nil, nil
}

// nullable turns "" into NULL for hand-written statements.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// checkJSON validates a document and its size. An empty one is replaced by
// def, so NOT NULL columns get a valid default ("{}" or "[]").
func checkJSON(field string, j JSON, def string, limit int) (JSON, error) {
	if len(j) == 0 {
		if def == "" {
			return nil, nil
		}
		return JSON(def), nil
	}
	if len(j) > limit {
		return nil, invalidf("%s: %d bytes is over the %d byte limit", field, len(j), limit)
	}
	if !json.Valid(j) {
		return nil, invalidf("%s: not valid JSON", field)
	}
	if bytes.IndexByte(j, 0) >= 0 {
		return nil, invalidf("%s: contains a NUL byte", field)
	}
	return j, nil
}

// checkText validates a free-text field: valid UTF-8, no NUL byte (Postgres
// refuses it and SQLite would keep it, so refuse it on both), and at most
// limit bytes.
func checkText(field, s string, limit int) error {
	if len(s) > limit {
		return invalidf("%s: %d bytes is over the %d byte limit", field, len(s), limit)
	}
	if !utf8.ValidString(s) {
		return invalidf("%s: not valid UTF-8", field)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return invalidf("%s: contains a NUL byte", field)
	}
	return nil
}

// checkStrings validates every element of a list and the list length.
func checkStrings(field string, list []string, maxItems, maxLen int) error {
	if len(list) > maxItems {
		return invalidf("%s: %d items is over the limit of %d", field, len(list), maxItems)
	}
	for i, s := range list {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), s, maxLen); err != nil {
			return err
		}
	}
	return nil
}

// toValidText replaces invalid UTF-8 and drops NUL bytes, for texts that
// come from outside and are kept only for people to read (a receiver's error
// message).
func toValidText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "")
}
