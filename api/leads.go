package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/shopspring/decimal"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/storage"
)

// Side-panel field bounds. They are counted in characters (runes), and are
// smaller than storage's byte backstops.
const (
	panelMaxName    = 200
	panelMaxEmail   = 254
	panelMaxPhone   = 32
	panelMaxAddress = 500
	panelMaxNotes   = 5000
	// panelMaxValueText bounds the value's text before it is parsed, so
	// that no parser ever sees a huge number.
	panelMaxValueText = 40
	// panelMaxBody bounds the PUT body: every field at its bound, with
	// JSON escapes, fits well within it.
	panelMaxBody = 64 << 10
)

// panelCurrencies is the ISO 4217 allow-list: the currencies deals are
// commonly made in. A code outside it is refused rather than stored, so
// analytics never sum unknown units.
var panelCurrencies = map[string]bool{
	"AED": true, "ARS": true, "AUD": true, "BDT": true, "BGN": true, "BRL": true, "CAD": true, "CHF": true,
	"CLP": true, "CNY": true, "COP": true, "CZK": true, "DKK": true, "EGP": true, "EUR": true, "GBP": true,
	"HKD": true, "HUF": true, "IDR": true, "ILS": true, "INR": true, "ISK": true, "JPY": true, "KES": true,
	"KRW": true, "KWD": true, "MAD": true, "MXN": true, "MYR": true, "NGN": true, "NOK": true, "NZD": true,
	"PEN": true, "PHP": true, "PKR": true, "PLN": true, "QAR": true, "RON": true, "SAR": true, "SEK": true,
	"SGD": true, "THB": true, "TRY": true, "TWD": true, "UAH": true, "USD": true, "VND": true, "ZAR": true,
}

// panelValueText is a plain decimal: digits, optionally a point and more
// digits. No sign, exponent, spaces, NaN or Infinity: anything a float
// parser would accept beyond this is refused before a parser sees it.
var panelValueText = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// panelMaxValue is the first value NUMERIC(20,4) cannot hold (10^16).
var panelMaxValue = decimal.New(1, 16)

// LeadRoutes serves the agents' side panel of a conversation (the data
// collected about the visitor and the deal) and the leads and deals made
// from it. Every conversation-scoped route applies CanSee: a conversation
// the caller may not see is not found. Closed conversations keep taking
// data and leads.
type LeadRoutes struct {
	// Store is the database.
	Store *storage.Store
	// Publisher fans the "Lead created" message out to the conversation's
	// subscribers after the commit; nil publishes nothing (clients catch up
	// from the database by seq).
	Publisher chat.Publisher
	// Logger defaults to slog.Default.
	Logger *slog.Logger
}

// Register adds the operations to api.
func (r *LeadRoutes) Register(api huma.API) {
	op := routeOp("getConversationData", http.MethodGet, "/api/v1/conversations/{id}/data", "Get a conversation's side-panel data", AccessAgent, 0, 0)
	op.Description = "Returns what agents collected about the visitor and the deal. A conversation with no data yet has revision 0. " +
		"Texts are data, stored as written: render them escaped."
	huma.Register(api, op, r.getData)

	op = routeOp("saveConversationData", http.MethodPut, "/api/v1/conversations/{id}/data", "Save a conversation's side-panel data", AccessAgent, 0, panelMaxBody)
	op.Description = "Replaces the side-panel data, closed conversations included. Send revision (the one you read; 0 for none) to be told " +
		"with 409 when someone saved in between, instead of overwriting them; without it the last save wins. value is an exact decimal " +
		"string such as \"1234.50\" (a JSON number is refused: money never passes through a float); currency an uppercase ISO 4217 code; " +
		"expected_close a YYYY-MM-DD date. Each faulty field is named in the problem's errors."
	op.Errors = append(op.Errors, http.StatusConflict)
	// The body is decoded by conversationDataBody itself: huma's validator
	// reads JSON numbers as float64, so an out-of-range number such as
	// 1e309 would fail as a whole-body 400 instead of a body.value field
	// error, and money must never be parsed as a float anyway.
	op.SkipValidateBody = true
	huma.Register(api, op, r.saveData)

	op = routeOp("createConversationLead", http.MethodPost, "/api/v1/conversations/{id}/leads", "Create a lead or deal from a conversation", AccessAgent, http.StatusCreated, 1<<10)
	op.Description = "Copies the side-panel data into a new lead or deal, closed conversations included, and adds a system message to the " +
		"conversation saying so, with the time. It does not close the chat. A deal needs a value and a currency in the data. " +
		"Webhooks get lead.created or deal.created."
	huma.Register(api, op, r.createLead)

	op = routeOp("listConversationLeads", http.MethodGet, "/api/v1/conversations/{id}/leads", "List a conversation's leads and deals", AccessAgent, 0, 0)
	huma.Register(api, op, r.listConversationLeads)

	op = routeOp("listLeads", http.MethodGet, "/api/v1/leads", "List the workspace's leads and deals", AccessAdmin, 0, 0)
	op.Tags = []string{"Leads"}
	op.Description = "Newest first, a page at a time: pass next_before as before for the next page."
	huma.Register(api, op, r.listLeads)
}

func (r *LeadRoutes) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}

// leadsVisibleConversation loads a conversation the caller may see; any
// other, another tenant's included, is not found.
func leadsVisibleConversation(ctx context.Context, st *storage.Store, p *Principal, id string) (*storage.Conversation, error) {
	c, err := st.GetConversation(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	if !CanSee(p, c) {
		return nil, notFound("conversation")
	}
	return c, nil
}

// leadsPublish fans a stored message out after its commit. It is best
// effort: a subscriber that misses it catches up from the database by seq.
func leadsPublish(ctx context.Context, pub chat.Publisher, log *slog.Logger, conv *storage.Conversation, m *storage.Message) {
	if pub == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := pub.Publish(ctx, chat.ConversationTopic(conv.WorkspaceID, conv.ID), chat.EncodeMessageEvent(conv, m)); err != nil {
		log.Warn("publish message", "conversation", conv.ID, "err", err)
	}
}

// leadsProblem passes a *Problem raised inside a transaction through and
// maps storage errors.
func leadsProblem(err error, what string) error {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	return storeError(err, what)
}

// --- Side-panel data ---

type conversationDataView struct {
	ConversationID string     `json:"conversation_id"`
	PersonName     string     `json:"person_name"`
	Email          string     `json:"email"`
	Phone          string     `json:"phone"`
	OrgName        string     `json:"org_name"`
	OrgAddress     string     `json:"org_address"`
	Value          *string    `json:"value" nullable:"true" doc:"The deal value as an exact decimal string, or null."`
	Currency       string     `json:"currency" doc:"An ISO 4217 code, or empty."`
	ExpectedClose  *string    `json:"expected_close" nullable:"true" format:"date" doc:"YYYY-MM-DD, or null."`
	Notes          string     `json:"notes"`
	Revision       int64      `json:"revision" doc:"Send it back when saving; 0 when nothing was saved yet."`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
	UpdatedBy      string     `json:"updated_by,omitempty" doc:"The user who saved last."`
}

func newConversationDataView(d *storage.ConversationData) conversationDataView {
	v := conversationDataView{
		ConversationID: d.ConversationID, PersonName: d.PersonName, Email: d.Email, Phone: d.Phone,
		OrgName: d.OrgName, OrgAddress: d.OrgAddress, Value: leadsValueText(d.Value), Currency: d.Currency,
		ExpectedClose: leadsDateText(d.ExpectedClose), Notes: d.Notes, Revision: d.Revision, UpdatedBy: d.UpdatedBy,
	}
	if d.Revision > 0 {
		t := d.UpdatedAt
		v.UpdatedAt = &t
	}
	return v
}

// leadsValueText writes an exact value as a decimal string, never a JSON
// number, so no client reads it into a float.
func leadsValueText(v decimal.NullDecimal) *string {
	if !v.Valid {
		return nil
	}
	s := v.Decimal.String()
	return &s
}

func leadsDateText(d *storage.Date) *string {
	if d == nil {
		return nil
	}
	s := d.String()
	return &s
}

type conversationDataOutput struct {
	Body conversationDataView
}

func (r *LeadRoutes) getData(ctx context.Context, in *conversationPath) (*conversationDataOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	c, err := leadsVisibleConversation(ctx, r.Store, p, in.ID)
	if err != nil {
		return nil, err
	}
	d, err := r.Store.GetConversationData(ctx, p.WorkspaceID, c.ID)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	return &conversationDataOutput{Body: newConversationDataView(d)}, nil
}

// conversationDataBody is the PUT body. Its fields describe the schema;
// UnmarshalJSON fills them field by field and records a field error for
// each value of the wrong JSON type, so that every faulty field is named
// (body.value for a number) rather than the whole body.
type conversationDataBody struct {
	Revision      *int64  `json:"revision,omitempty" minimum:"0" doc:"The revision you read (0 when there was no data). Omit it to overwrite whatever is stored."`
	PersonName    string  `json:"person_name,omitempty" maxLength:"200"`
	Email         string  `json:"email,omitempty" maxLength:"254" doc:"A single address such as ann@example.com."`
	Phone         string  `json:"phone,omitempty" maxLength:"32" doc:"6 to 15 digits, with + ( ) - . and spaces allowed."`
	OrgName       string  `json:"org_name,omitempty" maxLength:"200"`
	OrgAddress    string  `json:"org_address,omitempty" maxLength:"500"`
	Value         *string `json:"value,omitempty" nullable:"true" maxLength:"40" pattern:"^[0-9]+(\\.[0-9]{1,4})?$" doc:"The deal value as a decimal string such as \"1234.50\": non-negative, at most 4 decimals, below 10^16. JSON numbers are refused."`
	Currency      string  `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"An uppercase ISO 4217 code of a common currency, such as EUR or USD."`
	ExpectedClose string  `json:"expected_close,omitempty" format:"date" doc:"The expected close date, YYYY-MM-DD."`
	Notes         string  `json:"notes,omitempty" maxLength:"5000"`

	// fieldErrors are the type errors found while decoding.
	fieldErrors []*huma.ErrorDetail
}

// UnmarshalJSON decodes the body one field at a time. Unknown fields are
// refused (workspace_id, conversation_id and revision bookkeeping are not
// the client's to set), and so is every value of the wrong JSON type.
func (b *conversationDataBody) UnmarshalJSON(raw []byte) error {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	if fields == nil {
		return errors.New("the body must be a JSON object")
	}
	*b = conversationDataBody{}
	str := map[string]*string{
		"person_name": &b.PersonName, "email": &b.Email, "phone": &b.Phone, "org_name": &b.OrgName,
		"org_address": &b.OrgAddress, "currency": &b.Currency, "expected_close": &b.ExpectedClose, "notes": &b.Notes,
	}
	for name, v := range fields {
		loc := "body." + name
		isNull := bytes.Equal(bytes.TrimSpace(v), []byte("null"))
		switch {
		case str[name] != nil:
			if isNull {
				continue
			}
			if err := json.Unmarshal(v, str[name]); err != nil {
				b.fieldErrors = append(b.fieldErrors, fieldError(loc, "expected a string", json.RawMessage(v)))
			}
		case name == "value":
			if isNull {
				continue
			}
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				b.fieldErrors = append(b.fieldErrors, fieldError(loc,
					`send the value as a decimal string such as "1234.50": a JSON number would pass through a binary float`, panelEcho(string(v))))
				continue
			}
			b.Value = &s
		case name == "$schema":
			// huma describes every body with a $schema link; a client that
			// echoes it back changes nothing.
		case name == "revision":
			if isNull {
				continue
			}
			var n int64
			if err := json.Unmarshal(v, &n); err != nil || n < 0 {
				b.fieldErrors = append(b.fieldErrors, fieldError(loc, "expected a whole number, 0 or more", panelEcho(string(v))))
				continue
			}
			b.Revision = &n
		default:
			b.fieldErrors = append(b.fieldErrors, fieldError(loc, "unexpected property", nil))
		}
	}
	return nil
}

// panelEcho returns a bounded copy of a faulty value for the error.
func panelEcho(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "")
}

type saveConversationDataInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The conversation's id."`
	Body conversationDataBody
}

func (r *LeadRoutes) saveData(ctx context.Context, in *saveConversationDataInput) (*conversationDataOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	fields, errs := panelFields(&in.Body)
	if len(errs) > 0 {
		return nil, invalid("some fields are invalid", errs...)
	}
	c, err := leadsVisibleConversation(ctx, r.Store, p, in.ID)
	if err != nil {
		return nil, err
	}
	expected := storage.AnyRevision
	if in.Body.Revision != nil {
		expected = *in.Body.Revision
	}
	d, err := r.Store.SaveConversationData(ctx, p.WorkspaceID, c.ID, expected, fields, p.UserID)
	if err != nil {
		var ce *storage.ConflictError
		if errors.As(err, &ce) {
			prob := problem(http.StatusConflict, "conflict",
				fmt.Sprintf("the data was saved by someone else: it is at revision %d, not %d; reload it and apply your changes again", ce.Current, ce.Expected))
			prob.Current = map[string]any{"revision": ce.Current}
			return nil, prob
		}
		return nil, storeError(err, "conversation")
	}
	return &conversationDataOutput{Body: newConversationDataView(d)}, nil
}

// panelFields checks every field of the body and converts it, returning
// one error per faulty field. Markup is not touched: it is data, stored as
// written and escaped wherever it is shown.
func panelFields(b *conversationDataBody) (storage.ConversationDataFields, []*huma.ErrorDetail) {
	errs := append([]*huma.ErrorDetail(nil), b.fieldErrors...)
	bad := func(field, msg string, v any) { errs = append(errs, fieldError("body."+field, msg, v)) }
	f := storage.ConversationDataFields{
		PersonName: b.PersonName, Email: b.Email, Phone: b.Phone, OrgName: b.OrgName,
		OrgAddress: b.OrgAddress, Currency: b.Currency, Notes: b.Notes,
	}
	for _, t := range []struct {
		name, v   string
		max       int
		multiline bool
	}{
		{"person_name", b.PersonName, panelMaxName, false},
		{"org_name", b.OrgName, panelMaxName, false},
		{"org_address", b.OrgAddress, panelMaxAddress, true},
		{"notes", b.Notes, panelMaxNotes, true},
	} {
		if msg := panelTextProblem(t.v, t.max, t.multiline); msg != "" {
			bad(t.name, msg, nil)
		}
	}
	if msg := panelEmailProblem(b.Email); msg != "" {
		bad("email", msg, nil)
	}
	if msg := panelPhoneProblem(b.Phone); msg != "" {
		bad("phone", msg, nil)
	}
	if b.Value != nil {
		v, msg := panelValue(*b.Value)
		if msg != "" {
			bad("value", msg, panelEcho(*b.Value))
		} else {
			f.Value = decimal.NewNullDecimal(v)
		}
	}
	if b.Currency != "" && !panelCurrencies[b.Currency] {
		bad("currency", "want the uppercase ISO 4217 code of a common currency, such as EUR or USD", panelEcho(b.Currency))
	}
	if b.ExpectedClose != "" {
		d, err := storage.ParseDate(b.ExpectedClose)
		if err != nil || d.String() != b.ExpectedClose || d.Year < 1 {
			bad("expected_close", "want a calendar date as YYYY-MM-DD", panelEcho(b.ExpectedClose))
		} else {
			f.ExpectedClose = &d
		}
	}
	return f, errs
}

// panelTextProblem checks a free-text field: its length in characters, no
// NUL or other control characters, and no line breaks unless multiline.
func panelTextProblem(s string, max int, multiline bool) string {
	if n := utf8.RuneCountInString(s); n > max {
		return fmt.Sprintf("%d characters is over the limit of %d", n, max)
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r' || r == '\t') {
			continue
		}
		if unicode.IsControl(r) {
			if r == '\n' || r == '\r' {
				return "must be one line"
			}
			return "must not contain control characters"
		}
	}
	return ""
}

// panelEmailProblem checks an email address. CR and LF are refused first
// and by name: an address is copied into webhooks and exports, where a line
// break could forge a header.
func panelEmailProblem(s string) string {
	if s == "" {
		return ""
	}
	if strings.ContainsAny(s, "\r\n") {
		return "must not contain line breaks"
	}
	if len(s) > panelMaxEmail {
		return fmt.Sprintf("%d bytes is over the limit of %d", len(s), panelMaxEmail)
	}
	if strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return "must not contain spaces or control characters"
	}
	a, err := mail.ParseAddress(s)
	at := strings.LastIndexByte(s, '@')
	if err != nil || a.Name != "" || a.Address != s || at < 1 {
		return "want a single address such as ann@example.com"
	}
	domain := s[at+1:]
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.Contains(domain, "..") {
		return "want a single address such as ann@example.com"
	}
	return ""
}

// panelPhoneProblem checks a phone number: at most 32 characters of
// digits, + ( ) - . and spaces, with 6 to 15 digits (E.164 allows 15).
func panelPhoneProblem(s string) string {
	if s == "" {
		return ""
	}
	if n := utf8.RuneCountInString(s); n > panelMaxPhone {
		return fmt.Sprintf("%d characters is over the limit of %d", n, panelMaxPhone)
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0, r == '(', r == ')', r == '-', r == '.', r == ' ':
		default:
			return "only digits, a leading +, ( ) - . and spaces are allowed"
		}
	}
	if digits < 6 || digits > 15 {
		return fmt.Sprintf("has %d digits; want 6 to 15", digits)
	}
	return ""
}

// panelValue parses a deal value exactly. The text is checked before it is
// parsed, so NaN, Infinity, exponents (1e309) and signs never reach a
// parser, and the result is never a float.
func panelValue(s string) (decimal.Decimal, string) {
	const want = `want a plain decimal such as "1234.50": digits, an optional point and up to 4 decimals, no sign or exponent`
	if len(s) > panelMaxValueText {
		return decimal.Decimal{}, fmt.Sprintf("%d characters is over the limit of %d", len(s), panelMaxValueText)
	}
	if strings.HasPrefix(s, "-") {
		return decimal.Decimal{}, "must not be negative"
	}
	if !panelValueText.MatchString(s) {
		return decimal.Decimal{}, want
	}
	if _, frac, ok := strings.Cut(s, "."); ok && len(frac) > storage.MaxValueScale {
		return decimal.Decimal{}, fmt.Sprintf("has %d decimals; at most %d are kept", len(frac), storage.MaxValueScale)
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return decimal.Decimal{}, want
	}
	if d.GreaterThanOrEqual(panelMaxValue) {
		return decimal.Decimal{}, "must be below 10000000000000000 (10^16)"
	}
	return d, ""
}

// --- Leads and deals ---

type leadView struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversation_id,omitempty"`
	Kind           string    `json:"kind" enum:"lead,deal"`
	PersonName     string    `json:"person_name"`
	Email          string    `json:"email"`
	Phone          string    `json:"phone"`
	OrgName        string    `json:"org_name"`
	OrgAddress     string    `json:"org_address"`
	Value          *string   `json:"value" nullable:"true" doc:"The deal value as an exact decimal string, or null."`
	Currency       string    `json:"currency"`
	ExpectedClose  *string   `json:"expected_close" nullable:"true" format:"date"`
	Notes          string    `json:"notes"`
	CreatedAt      time.Time `json:"created_at"`
}

func newLeadView(l *storage.Lead) leadView {
	return leadView{
		ID: l.ID, ConversationID: l.ConversationID, Kind: string(l.Kind), PersonName: l.PersonName,
		Email: l.Email, Phone: l.Phone, OrgName: l.OrgName, OrgAddress: l.OrgAddress,
		Value: leadsValueText(l.Value), Currency: l.Currency, ExpectedClose: leadsDateText(l.ExpectedClose),
		Notes: l.Notes, CreatedAt: l.CreatedAt,
	}
}

type createLeadInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The conversation's id."`
	Body struct {
		Kind string `json:"kind" enum:"lead,deal" doc:"lead, or deal (which needs a value and a currency in the data)."`
	}
}

type createLeadOutput struct {
	Body struct {
		Lead leadView `json:"lead"`
		// Message is the system message the conversation shows.
		Message conversationMessageView `json:"message" doc:"The system message added to the conversation."`
	}
}

// leadMessagePayload is what the "Lead created" system message carries.
type leadMessagePayload struct {
	LeadID    string    `json:"lead_id"`
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

func (r *LeadRoutes) createLead(ctx context.Context, in *createLeadInput) (*createLeadOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	kind := storage.LeadKind(in.Body.Kind)
	// Checked before the transaction so that an unseen conversation takes
	// no lock; checked again on the locked row below.
	if _, err := leadsVisibleConversation(ctx, r.Store, p, in.ID); err != nil {
		return nil, err
	}
	var (
		conv *storage.Conversation
		lead *storage.Lead
		msg  *storage.Message
	)
	err = r.Store.InTx(ctx, func(tx *storage.Store) error {
		c, err := tx.GetConversationForUpdate(ctx, p.WorkspaceID, in.ID)
		if err != nil {
			return err
		}
		if !CanSee(p, c) {
			return notFound("conversation")
		}
		conv = c
		d, err := tx.GetConversationData(ctx, p.WorkspaceID, c.ID)
		if err != nil {
			return err
		}
		if kind == storage.KindDeal {
			var missing []*huma.ErrorDetail
			if !d.Value.Valid {
				missing = append(missing, fieldError("data.value", "a deal needs a value: save one in the conversation's data first", nil))
			}
			if d.Currency == "" {
				missing = append(missing, fieldError("data.currency", "a deal needs a currency: save one in the conversation's data first", nil))
			}
			if len(missing) > 0 {
				return invalid("a deal needs a value and a currency", missing...)
			}
		}
		lead, err = tx.CreateLead(ctx, p.WorkspaceID, storage.NewLead{
			ConversationID: c.ID, Kind: kind, PersonName: d.PersonName, Email: d.Email, Phone: d.Phone,
			OrgName: d.OrgName, OrgAddress: d.OrgAddress, Value: d.Value, Currency: d.Currency,
			ExpectedClose: d.ExpectedClose, Notes: d.Notes,
		})
		if err != nil {
			return err
		}
		label := "Lead"
		if kind == storage.KindDeal {
			label = "Deal"
		}
		payload, err := json.Marshal(leadMessagePayload{LeadID: lead.ID, Kind: string(kind), CreatedAt: lead.CreatedAt, CreatedBy: p.UserID})
		if err != nil {
			return err
		}
		// The time is in the text too, so that the transcript export and
		// any client that shows only the body say when it happened.
		msg, _, err = tx.AppendMessage(ctx, p.WorkspaceID, storage.NewMessage{
			ConversationID: c.ID, Author: storage.AuthorSystem,
			Body:    fmt.Sprintf("%s created at %s", label, lead.CreatedAt.UTC().Format("2006-01-02 15:04 UTC")),
			Payload: payload,
		})
		if err != nil {
			return err
		}
		data, err := json.Marshal(map[string]any{"lead_id": lead.ID, "kind": kind, "by": p.UserID})
		if err != nil {
			return err
		}
		if _, err := tx.AppendEvent(ctx, p.WorkspaceID, storage.NewEvent{
			ConversationID: c.ID, AssistantID: c.AssistantID, VersionID: c.VersionID,
			Type: string(kind) + "_created", Data: data, Preview: c.Preview,
		}); err != nil {
			return err
		}
		if c.Preview {
			// Test chats never reach webhooks, as in the chat runtime.
			return nil
		}
		hook, err := json.Marshal(map[string]any{
			"conversation_id": c.ID, "channel_id": c.ChannelID, "assistant_id": c.AssistantID,
			"lead_id": lead.ID, "kind": kind, "created_by": p.UserID, "lead": newLeadView(lead),
		})
		if err != nil {
			return err
		}
		_, err = tx.InsertOutbox(ctx, p.WorkspaceID, storage.NewOutboxEntry{EventType: string(kind) + ".created", Payload: hook})
		return err
	})
	if err != nil {
		return nil, leadsProblem(err, "conversation")
	}
	leadsPublish(ctx, r.Publisher, r.log(), conv, msg)
	out := &createLeadOutput{}
	out.Body.Lead = newLeadView(lead)
	out.Body.Message = newConversationMessageView(msg)
	return out, nil
}

type listConversationLeadsInput struct {
	ID    string `path:"id" maxLength:"64" doc:"The conversation's id."`
	Limit int    `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

type leadsOutput struct {
	Body struct {
		Leads      []leadView `json:"leads" doc:"Newest first."`
		NextBefore string     `json:"next_before,omitempty" doc:"Set when there may be more: pass it as before."`
	}
}

func (r *LeadRoutes) listConversationLeads(ctx context.Context, in *listConversationLeadsInput) (*leadsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	c, err := leadsVisibleConversation(ctx, r.Store, p, in.ID)
	if err != nil {
		return nil, err
	}
	ls, err := r.Store.ListLeads(ctx, p.WorkspaceID, storage.LeadFilter{ConversationID: c.ID, Limit: in.Limit})
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	// One conversation has few leads: one page, no cursor.
	return leadsPage(ls, 0), nil
}

type listLeadsInput struct {
	Kind   string    `query:"kind" enum:"lead,deal" doc:"Keep only leads or only deals."`
	Since  time.Time `query:"since" doc:"Keep those created at or after this time (RFC 3339)."`
	Before string    `query:"before" maxLength:"64" doc:"The next_before of the previous page."`
	Limit  int       `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

func (r *LeadRoutes) listLeads(ctx context.Context, in *listLeadsInput) (*leadsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	ls, err := r.Store.ListLeads(ctx, p.WorkspaceID, storage.LeadFilter{
		Kind: storage.LeadKind(in.Kind), Since: in.Since, Before: in.Before, Limit: in.Limit,
	})
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, invalid("unknown cursor", fieldError("query.before", "not a lead of this workspace", in.Before))
		}
		return nil, storeError(err, "leads")
	}
	return leadsPage(ls, in.Limit), nil
}

// leadsPage builds the list body; a full page (limit > 0) gets a cursor.
func leadsPage(ls []storage.Lead, limit int) *leadsOutput {
	out := &leadsOutput{}
	out.Body.Leads = make([]leadView, 0, len(ls))
	for i := range ls {
		out.Body.Leads = append(out.Body.Leads, newLeadView(&ls[i]))
	}
	if len(ls) == limit && limit > 0 {
		out.Body.NextBefore = ls[len(ls)-1].ID
	}
	return out
}
