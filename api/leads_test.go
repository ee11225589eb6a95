package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// The helpers of leads_test.go and attachments_test.go: a server with the
// real authenticator (auth.Service) over a real store, callers holding real
// API tokens of real users, and a recorder in place of the broker.

// panelOrigin is the page the test widget is embedded in.
const panelOrigin = "https://shop.example.test"

// panelRecorder is a chat.Publisher that keeps what was published.
type panelRecorder struct {
	mu     sync.Mutex
	topics []string
	frames [][]byte
}

func (p *panelRecorder) Publish(_ context.Context, topic string, payload []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.topics = append(p.topics, topic)
	p.frames = append(p.frames, bytes.Clone(payload))
	return nil
}

// on returns the frames published on topic.
func (p *panelRecorder) on(topic string) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for i, t := range p.topics {
		if t == topic {
			var m map[string]any
			_ = json.Unmarshal(p.frames[i], &m)
			out = append(out, m)
		}
	}
	return out
}

// panelEnv is one server over one store.
type panelEnv struct {
	t      *testing.T
	store  *storage.Store
	svc    *auth.Service
	srv    *Server
	pub    *panelRecorder
	tokens *chat.TokenSigner
}

// newPanelEnv builds the server with the lead and attachment routes (the
// attachments bounded by maxBytes, 0 for the default) and the admins'
// conversation routes, under the server's default configuration.
func newPanelEnv(t *testing.T, s *storage.Store, maxBytes int64) *panelEnv {
	t.Helper()
	svc := auth.NewService(s, auth.Options{
		Params:    auth.FastParams(),
		IPRate:    auth.Rate{Limit: 10_000, Window: time.Minute},
		EmailRate: auth.Rate{Limit: 10_000, Window: time.Minute},
	})
	tokens, err := chat.NewTokenSigner([]byte("a test secret of at least thirty-two bytes"))
	require.NoError(t, err)
	pub := &panelRecorder{}
	att := &AttachmentRoutes{Store: s, Publisher: pub, Tokens: tokens, MaxBytes: maxBytes}
	srv := New(Deps{
		Config: config.Default(),
		Store:  s,
		Auth:   NewAuthenticator(svc),
		Services: []Routes{
			&LeadRoutes{Store: s, Publisher: pub},
			att,
			&ConversationRoutes{Store: s},
		},
	})
	att.Mount(srv.App())
	return &panelEnv{t: t, store: s, svc: svc, srv: srv, pub: pub, tokens: tokens}
}

// panelEach runs fn on SQLite and Postgres, each with its own server.
func panelEach(t *testing.T, maxBytes int64, fn func(t *testing.T, e *panelEnv)) {
	t.Helper()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		fn(t, newPanelEnv(t, s, maxBytes))
	})
}

// panelTenant is a workspace with an admin, two agents and a channel.
type panelTenant struct {
	ws                   string
	admin, agent, agent2 panelCaller
	channel              *storage.Channel
}

// panelCaller is a user with an API token.
type panelCaller struct {
	id, token string
}

func (e *panelEnv) tenant(name string) *panelTenant {
	e.t.Helper()
	ctx := context.Background()
	w, err := e.store.CreateWorkspace(ctx, name)
	require.NoError(e.t, err)
	mk := func(email string, role storage.Role) panelCaller {
		u, err := e.store.CreateUser(ctx, w.ID, storage.NewUser{Email: email + "@" + name + ".test", Name: email, Role: role})
		require.NoError(e.t, err)
		tok, _, err := e.svc.CreateAPIToken(ctx, w.ID, u.ID, "tests")
		require.NoError(e.t, err)
		return panelCaller{id: u.ID, token: tok}
	}
	tn := &panelTenant{ws: w.ID, admin: mk("admin", storage.RoleAdmin), agent: mk("agent", storage.RoleAgent), agent2: mk("agent2", storage.RoleAgent)}
	tn.channel, err = e.store.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Website", AllowedOrigins: []string{panelOrigin}})
	require.NoError(e.t, err)
	return tn
}

// conversation starts a chat on the tenant's channel, waiting in the queue.
func (e *panelEnv) conversation(tn *panelTenant, visitor string) *storage.Conversation {
	e.t.Helper()
	c, err := e.store.CreateConversation(context.Background(), tn.ws, storage.NewConversation{
		ChannelID: tn.channel.ID, VisitorID: visitor, Status: storage.StatusUnassigned,
	})
	require.NoError(e.t, err)
	return c
}

// assign gives the conversation to an agent, as a claim does.
func (e *panelEnv) assign(tn *panelTenant, c *storage.Conversation, to panelCaller) *storage.Conversation {
	e.t.Helper()
	c, err := e.store.ClaimConversation(context.Background(), tn.ws, c.ID, to.id)
	require.NoError(e.t, err)
	return c
}

// close closes the conversation, keeping its assignee.
func (e *panelEnv) close(tn *panelTenant, id string) {
	e.t.Helper()
	ctx := context.Background()
	c, err := e.store.GetConversation(ctx, tn.ws, id)
	require.NoError(e.t, err)
	_, err = e.store.UpdateConversation(ctx, tn.ws, id, c.Version, storage.ConversationUpdate{Status: storage.StatusClosed})
	require.NoError(e.t, err)
}

// do sends a request through the fiber app. body is JSON-encoded unless it
// is a string or []byte, sent as is. header adds or replaces headers.
func (e *panelEnv) do(token, method, path string, body any, header map[string]string) *routesResponse {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(e.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.srv.App().Test(req, -1)
	require.NoError(e.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return &routesResponse{t: e.t, status: res.StatusCode, header: res.Header, body: raw}
}

// panelData is the side panel as a client reads it.
type panelData struct {
	ConversationID string  `json:"conversation_id"`
	PersonName     string  `json:"person_name"`
	Email          string  `json:"email"`
	Phone          string  `json:"phone"`
	OrgName        string  `json:"org_name"`
	OrgAddress     string  `json:"org_address"`
	Value          *string `json:"value"`
	Currency       string  `json:"currency"`
	ExpectedClose  *string `json:"expected_close"`
	Notes          string  `json:"notes"`
	Revision       int64   `json:"revision"`
}

type panelLead struct {
	ID             string  `json:"id"`
	ConversationID string  `json:"conversation_id"`
	Kind           string  `json:"kind"`
	PersonName     string  `json:"person_name"`
	Email          string  `json:"email"`
	Value          *string `json:"value"`
	Currency       string  `json:"currency"`
	ExpectedClose  *string `json:"expected_close"`
	Notes          string  `json:"notes"`
}

type panelMessage struct {
	Seq       int64           `json:"seq"`
	Author    string          `json:"author"`
	AuthorID  string          `json:"author_id"`
	Body      string          `json:"body"`
	Payload   json.RawMessage `json:"payload"`
	CreatedAt time.Time       `json:"created_at"`
}

func dataPath(id string) string  { return "/api/v1/conversations/" + id + "/data" }
func leadsPath(id string) string { return "/api/v1/conversations/" + id + "/leads" }

func TestConversationDataFieldErrorsNameTheField(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		for name, tc := range map[string]struct {
			body string
			want string
		}{
			"email with CRLF":        {`{"email":"ann@example.test\r\nBcc: eve@example.test"}`, "body.email"},
			"email with LF":          {`{"email":"ann@example.test\nX: y"}`, "body.email"},
			"email not an address":   {`{"email":"not an email"}`, "body.email"},
			"email with a name":      {`{"email":"Ann <ann@example.test>"}`, "body.email"},
			"email too long":         {`{"email":"` + strings.Repeat("a", 250) + `@example.test"}`, "body.email"},
			"500-character phone":    {`{"phone":"` + strings.Repeat("1", 500) + `"}`, "body.phone"},
			"phone with letters":     {`{"phone":"call 123456"}`, "body.phone"},
			"phone too few digits":   {`{"phone":"12-34-5"}`, "body.phone"},
			"phone too many digits":  {`{"phone":"1234567890123456"}`, "body.phone"},
			"value 1e309":            {`{"value":"1e309"}`, "body.value"},
			"value NaN":              {`{"value":"NaN"}`, "body.value"},
			"value Infinity":         {`{"value":"Infinity"}`, "body.value"},
			"value -1":               {`{"value":"-1"}`, "body.value"},
			"value +1":               {`{"value":"+1"}`, "body.value"},
			"value hex":              {`{"value":"0x10"}`, "body.value"},
			"value with spaces":      {`{"value":" 12"}`, "body.value"},
			"value 5 decimals":       {`{"value":"1.23456"}`, "body.value"},
			"value 10^16":            {`{"value":"10000000000000000"}`, "body.value"},
			"value huge text":        {`{"value":"` + strings.Repeat("9", 5000) + `"}`, "body.value"},
			"value as a JSON float":  {`{"value":12.5}`, "body.value"},
			"value as a JSON 1e309":  {`{"value":1e309}`, "body.value"},
			"value as a JSON int":    {`{"value":12}`, "body.value"},
			"value as an object":     {`{"value":{"amount":"1"}}`, "body.value"},
			"currency lowercase":     {`{"currency":"eur"}`, "body.currency"},
			"currency unknown":       {`{"currency":"XYZ"}`, "body.currency"},
			"currency symbol":        {`{"currency":"US$"}`, "body.currency"},
			"date not a date":        {`{"expected_close":"2030-02-30"}`, "body.expected_close"},
			"date other format":      {`{"expected_close":"30/12/2030"}`, "body.expected_close"},
			"date unpadded":          {`{"expected_close":"2030-1-5"}`, "body.expected_close"},
			"date with time":         {`{"expected_close":"2030-01-05T00:00:00Z"}`, "body.expected_close"},
			"name too long":          {`{"person_name":"` + strings.Repeat("é", 201) + `"}`, "body.person_name"},
			"name with a line break": {`{"person_name":"Ann\nBcc"}`, "body.person_name"},
			"name with NUL":          {`{"person_name":"Ann\u0000"}`, "body.person_name"},
			"name not a string":      {`{"person_name":5}`, "body.person_name"},
			"org too long":           {`{"org_name":"` + strings.Repeat("x", 201) + `"}`, "body.org_name"},
			"address too long":       {`{"org_address":"` + strings.Repeat("x", 501) + `"}`, "body.org_address"},
			"notes too long":         {`{"notes":"` + strings.Repeat("x", 5001) + `"}`, "body.notes"},
			"mass assignment":        {`{"workspace_id":"other","person_name":"Ann"}`, "body.workspace_id"},
			"negative revision":      {`{"revision":-1}`, "body.revision"},
			"fractional revision":    {`{"revision":1.5}`, "body.revision"},
		} {
			p := e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), tc.body, nil).problem(http.StatusUnprocessableEntity)
			require.Contains(t, p.locations(), tc.want, "%s: %+v", name, p)
			require.Equal(t, "invalid", p.Code, name)
		}

		// Every faulty field is named at once.
		p := e.do(tn.agent.token, http.MethodPut, dataPath(c.ID),
			`{"email":"a@b.test\r\n","phone":"`+strings.Repeat("1", 500)+`","value":"NaN","currency":"usd","expected_close":"soon"}`, nil).
			problem(http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.email", "body.phone", "body.value", "body.currency", "body.expected_close"}, p.locations())

		// Nothing was stored by any refused save.
		var d panelData
		e.do(tn.agent.token, http.MethodGet, dataPath(c.ID), nil, nil).ok(http.StatusOK, &d)
		require.Equal(t, int64(0), d.Revision)
		require.Equal(t, c.ID, d.ConversationID)
		require.Nil(t, d.Value)

		// Not JSON at all is a plain 4xx problem, never a 500.
		r := e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), `{"value":NaN}`, nil)
		require.GreaterOrEqual(t, r.status, 400)
		require.Less(t, r.status, 500)
	})
}

func TestConversationDataKeepsMoneyExactAndMarkupVerbatim(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		xss := map[string]string{
			"person_name": `<img src=x onerror=alert(1)>`,
			"org_name":    `<svg onload=alert(document.cookie)>`,
			"org_address": "javascript:alert(1)\n<b>bold</b>",
			"notes":       `[click me](javascript:alert(1)) & <script>alert("x")</script> {{7*7}} ${7*7}`,
		}
		body := map[string]any{
			"revision": 0, "email": "ann@example.test", "phone": "+33 (1) 23-45.67 89",
			"value": "12345678901234.5678", "currency": "EUR", "expected_close": "2031-12-31",
		}
		for k, v := range xss {
			body[k] = v
		}
		var saved panelData
		r := e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), body, nil).ok(http.StatusOK, &saved)
		require.Contains(t, r.header.Get("Content-Type"), "application/json")
		require.Equal(t, int64(1), saved.Revision)
		require.NotNil(t, saved.Value)
		require.Equal(t, "12345678901234.5678", *saved.Value, "the value is an exact decimal string")
		require.Contains(t, string(r.body), `"value":"12345678901234.5678"`, "a JSON string, never a number")

		var got panelData
		e.do(tn.agent.token, http.MethodGet, dataPath(c.ID), nil, nil).ok(http.StatusOK, &got)
		require.Equal(t, "12345678901234.5678", *got.Value)
		require.Equal(t, "2031-12-31", *got.ExpectedClose)
		require.Equal(t, "EUR", got.Currency)
		require.Equal(t, "+33 (1) 23-45.67 89", got.Phone)
		require.Equal(t, xss["person_name"], got.PersonName, "markup is data, stored as written")
		require.Equal(t, xss["org_name"], got.OrgName)
		require.Equal(t, xss["org_address"], got.OrgAddress)
		require.Equal(t, xss["notes"], got.Notes)

		// The lead copies it verbatim too, and the value stays exact.
		var created struct {
			Lead panelLead `json:"lead"`
		}
		e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "deal"}, nil).ok(http.StatusCreated, &created)
		require.Equal(t, xss["notes"], created.Lead.Notes)
		require.Equal(t, "12345678901234.5678", *created.Lead.Value)

		// 0.1 + 0.2 is exactly 0.3: two deals, summed by a client as
		// decimals, read back from the database.
		for _, v := range []string{"0.1", "0.2"} {
			e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"value": v, "currency": "USD"}, nil).ok(http.StatusOK, nil)
			e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "deal"}, nil).ok(http.StatusCreated, nil)
		}
		var list struct {
			Leads []panelLead `json:"leads"`
		}
		e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?kind=deal&limit=2", nil, nil).ok(http.StatusOK, &list)
		require.Len(t, list.Leads, 2)
		sum := decimal.Zero
		for _, l := range list.Leads {
			sum = sum.Add(decimal.RequireFromString(*l.Value))
		}
		require.Equal(t, "0.3", sum.String())

		// A value written with a trailing zero is the same exact number.
		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"value": "1234.50"}, nil).ok(http.StatusOK, &got)
		require.True(t, decimal.RequireFromString("1234.50").Equal(decimal.RequireFromString(*got.Value)))
	})
}

func TestConversationDataRevisionConflict(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		var d panelData
		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"revision": 0, "person_name": "Ann"}, nil).ok(http.StatusOK, &d)
		require.Equal(t, int64(1), d.Revision)
		p := e.do(tn.admin.token, http.MethodPut, dataPath(c.ID), map[string]any{"revision": 0, "person_name": "Bob"}, nil).problem(http.StatusConflict)
		require.Equal(t, float64(1), p.Current["revision"])
		e.do(tn.admin.token, http.MethodPut, dataPath(c.ID), map[string]any{"revision": 1, "person_name": "Bob"}, nil).ok(http.StatusOK, &d)
		require.Equal(t, int64(2), d.Revision)
		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"person_name": "Cy"}, nil).ok(http.StatusOK, &d)
		require.Equal(t, int64(3), d.Revision, "without a revision the last save wins")
		e.do(tn.agent.token, http.MethodGet, dataPath(c.ID), nil, nil).ok(http.StatusOK, &d)
		require.Equal(t, "Cy", d.PersonName)
	})
}

func TestCreateLeadFromAClosedConversationShowsItInTheChat(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		c := e.assign(tn, e.conversation(tn, "vis-1"), tn.agent)
		e.close(tn, c.ID)
		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"person_name": "Ann", "email": "ann@example.test"}, nil).
			ok(http.StatusOK, nil)

		before := time.Now().Add(-time.Minute)
		var created struct {
			Lead    panelLead    `json:"lead"`
			Message panelMessage `json:"message"`
		}
		e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "lead"}, nil).ok(http.StatusCreated, &created)
		require.Equal(t, "lead", created.Lead.Kind)
		require.Equal(t, "Ann", created.Lead.PersonName)
		require.Equal(t, c.ID, created.Lead.ConversationID)
		require.Nil(t, created.Lead.Value)

		// The conversation shows it, with the time, as a system message.
		var detail struct {
			Conversation struct {
				Status string `json:"status"`
			} `json:"conversation"`
			Messages []panelMessage `json:"messages"`
		}
		e.do(tn.admin.token, http.MethodGet, "/api/v1/conversations/"+c.ID, nil, nil).ok(http.StatusOK, &detail)
		require.Equal(t, "closed", detail.Conversation.Status)
		require.NotEmpty(t, detail.Messages)
		last := detail.Messages[len(detail.Messages)-1]
		require.Equal(t, "system", last.Author)
		require.Equal(t, created.Message.Seq, last.Seq)
		require.True(t, strings.HasPrefix(last.Body, "Lead created at "), last.Body)
		require.True(t, last.CreatedAt.After(before))
		require.Contains(t, last.Body, last.CreatedAt.UTC().Format("2006-01-02 15:04"))
		var payload struct {
			LeadID    string    `json:"lead_id"`
			Kind      string    `json:"kind"`
			CreatedAt time.Time `json:"created_at"`
		}
		require.NoError(t, json.Unmarshal(last.Payload, &payload))
		require.Equal(t, created.Lead.ID, payload.LeadID)
		require.Equal(t, "lead", payload.Kind)

		// Published after the commit to the conversation's subscribers.
		frames := e.pub.on(chat.ConversationTopic(tn.ws, c.ID))
		require.Len(t, frames, 1)
		require.Equal(t, float64(created.Message.Seq), frames[0]["seq"])

		// The event and the webhook went with it.
		events, err := e.store.ListEvents(ctx, tn.ws, storage.EventFilter{ConversationID: c.ID, Type: "lead_created"})
		require.NoError(t, err)
		require.Len(t, events, 1)
		outbox, err := e.store.ListOutbox(ctx, tn.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		require.Len(t, outbox, 1)
		require.Equal(t, "lead.created", outbox[0].EventType)
		require.Contains(t, string(outbox[0].Payload), created.Lead.ID)

		var list struct {
			Leads []panelLead `json:"leads"`
		}
		e.do(tn.agent.token, http.MethodGet, leadsPath(c.ID), nil, nil).ok(http.StatusOK, &list)
		require.Len(t, list.Leads, 1)
	})
}

func TestCreatingALeadDoesNotCloseTheChat(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		c := e.assign(tn, e.conversation(tn, "vis-1"), tn.agent)
		e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "lead"}, nil).ok(http.StatusCreated, nil)
		got, err := e.store.GetConversation(ctx, tn.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, storage.StatusAssigned, got.Status)
		require.Equal(t, tn.agent.id, got.AssigneeID)
		e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "opportunity"}, nil).problem(http.StatusUnprocessableEntity)
	})
}

func TestADealNeedsAValueAndACurrency(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		ctx := context.Background()
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		p := e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "deal"}, nil).problem(http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"data.value", "data.currency"}, p.locations())

		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"value": "5000"}, nil).ok(http.StatusOK, nil)
		p = e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "deal"}, nil).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"data.currency"}, p.locations())

		// Nothing of the refused deals was stored.
		leads, err := e.store.ListLeads(ctx, tn.ws, storage.LeadFilter{ConversationID: c.ID})
		require.NoError(t, err)
		require.Empty(t, leads)
		msgs, err := e.store.ListMessages(ctx, tn.ws, c.ID, 0)
		require.NoError(t, err)
		require.Empty(t, msgs)
		outbox, err := e.store.ListOutbox(ctx, tn.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		require.Empty(t, outbox)

		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"value": "5000", "currency": "GBP", "expected_close": "2030-06-30"}, nil).ok(http.StatusOK, nil)
		var created struct {
			Lead    panelLead    `json:"lead"`
			Message panelMessage `json:"message"`
		}
		e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "deal"}, nil).ok(http.StatusCreated, &created)
		require.Equal(t, "deal", created.Lead.Kind)
		require.Equal(t, "5000", *created.Lead.Value)
		require.Equal(t, "GBP", created.Lead.Currency)
		require.Equal(t, "2030-06-30", *created.Lead.ExpectedClose)
		require.True(t, strings.HasPrefix(created.Message.Body, "Deal created at "))
		outbox, err = e.store.ListOutbox(ctx, tn.ws, storage.OutboxFilter{})
		require.NoError(t, err)
		require.Len(t, outbox, 1)
		require.Equal(t, "deal.created", outbox[0].EventType)
		require.Contains(t, string(outbox[0].Payload), `"value":"5000"`, "webhooks carry the value as a string")
		events, err := e.store.ListEvents(ctx, tn.ws, storage.EventFilter{ConversationID: c.ID, Type: "deal_created"})
		require.NoError(t, err)
		require.Len(t, events, 1)
	})
}

func TestSidePanelVisibility(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		other := e.tenant("globex")
		c := e.assign(tn, e.conversation(tn, "vis-1"), tn.agent2)
		e.do(tn.agent2.token, http.MethodPut, dataPath(c.ID), map[string]any{"person_name": "Ann"}, nil).ok(http.StatusOK, nil)

		hidden := func(token, why string) {
			t.Helper()
			for _, r := range []*routesResponse{
				e.do(token, http.MethodGet, dataPath(c.ID), nil, nil),
				e.do(token, http.MethodPut, dataPath(c.ID), map[string]any{"person_name": "Eve"}, nil),
				e.do(token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "lead"}, nil),
				e.do(token, http.MethodGet, leadsPath(c.ID), nil, nil),
			} {
				p := r.problem(http.StatusNotFound)
				require.Equal(t, "not_found", p.Code, why)
			}
		}
		hidden(tn.agent.token, "another agent's chat")
		hidden(other.admin.token, "another tenant's chat")
		hidden(other.agent.token, "another tenant's chat")
		e.do("", http.MethodGet, dataPath(c.ID), nil, nil).problem(http.StatusUnauthorized)
		e.do(tn.agent.token, http.MethodGet, "/api/v1/leads", nil, nil).problem(http.StatusForbidden)

		// Admins see every chat.
		var d panelData
		e.do(tn.admin.token, http.MethodGet, dataPath(c.ID), nil, nil).ok(http.StatusOK, &d)
		require.Equal(t, "Ann", d.PersonName)

		// Once closed, the chat is visible to every agent of the workspace.
		e.close(tn, c.ID)
		e.do(tn.agent.token, http.MethodGet, dataPath(c.ID), nil, nil).ok(http.StatusOK, &d)
		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"revision": d.Revision, "person_name": "Ann B."}, nil).ok(http.StatusOK, nil)
		e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": "lead"}, nil).ok(http.StatusCreated, nil)
		hidden(other.admin.token, "still another tenant's chat")

		var list struct {
			Leads []panelLead `json:"leads"`
		}
		e.do(other.admin.token, http.MethodGet, "/api/v1/leads", nil, nil).ok(http.StatusOK, &list)
		require.Empty(t, list.Leads, "another tenant's leads are not listed")
	})
}

func TestListLeadsPagesAndFilters(t *testing.T) {
	t.Parallel()
	panelEach(t, 0, func(t *testing.T, e *panelEnv) {
		tn := e.tenant("acme")
		c := e.conversation(tn, "vis-1")
		e.do(tn.agent.token, http.MethodPut, dataPath(c.ID), map[string]any{"value": "10", "currency": "EUR"}, nil).ok(http.StatusOK, nil)
		start := time.Now().Add(-time.Second)
		for _, kind := range []string{"lead", "deal", "lead", "deal", "lead"} {
			e.do(tn.agent.token, http.MethodPost, leadsPath(c.ID), map[string]any{"kind": kind}, nil).ok(http.StatusCreated, nil)
		}
		type page struct {
			Leads      []panelLead `json:"leads"`
			NextBefore string      `json:"next_before"`
		}
		var seen []string
		cursor := ""
		for range 5 {
			var p page
			e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?limit=2&before="+cursor, nil, nil).ok(http.StatusOK, &p)
			for _, l := range p.Leads {
				seen = append(seen, l.ID)
			}
			if p.NextBefore == "" {
				break
			}
			cursor = p.NextBefore
		}
		require.Len(t, seen, 5, "every lead once, in pages")
		var deals page
		e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?kind=deal", nil, nil).ok(http.StatusOK, &deals)
		require.Len(t, deals.Leads, 2)
		var since page
		e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?since="+start.UTC().Format(time.RFC3339), nil, nil).ok(http.StatusOK, &since)
		require.Len(t, since.Leads, 5)
		e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), nil, nil).ok(http.StatusOK, &since)
		require.Empty(t, since.Leads)
		e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?kind=opportunity", nil, nil).problem(http.StatusUnprocessableEntity)
		e.do(tn.admin.token, http.MethodGet, "/api/v1/leads?limit=100000", nil, nil).problem(http.StatusUnprocessableEntity)
		other := e.tenant("globex")
		p := e.do(other.admin.token, http.MethodGet, "/api/v1/leads?before="+seen[0], nil, nil).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.before"}, p.locations(), "another tenant's cursor reveals nothing")
	})
}
