package api

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"golang.org/x/net/idna"

	"github.com/frontdesk/frontdesk/storage"
)

// Channel input bounds.
const (
	// channelMaxOrigins bounds a channel's origin allow-list.
	channelMaxOrigins = 20
	// channelMaxOriginLength bounds one origin, far above any real host name.
	channelMaxOriginLength = 255
	// channelMaxGreetingLength bounds a default greeting in one language.
	channelMaxGreetingLength = 1000
	// channelMaxGreetingLanguages bounds the languages of a default greeting.
	channelMaxGreetingLanguages = 20
)

// The default response's second step: what happens after the greeting.
const (
	channelThenCapture = "capture"
	channelThenQueue   = "queue"
)

// channelDefaultGreeting is a new channel's greeting when none is given.
var channelDefaultGreeting = map[string]string{"en": "Hi! Leave us a message and we'll get back to you shortly."}

// ChannelRoutes serves the channels under /api/v1/channels: the web widget's
// settings, its public key and embed snippet, and the assistant connected
// to it.
//
// Every query is scoped by the caller's workspace. Reads need any member
// (AccessAgent); writes need an admin.
type ChannelRoutes struct {
	// Store is the database.
	Store *storage.Store
	// PublicURL is where visitors reach this server (config PublicURL); the
	// embed snippet loads the widget from it.
	PublicURL string
}

// Register adds the operations to api.
func (r *ChannelRoutes) Register(api huma.API) {
	op := routeOp("createChannel", http.MethodPost, "/api/v1/channels", "Create a channel", AccessAdmin, http.StatusCreated, routeSmallBodyBytes)
	op.Description = "Creates a web widget channel with a fresh public key. The key goes in the embed snippet: it is public but unguessable. " +
		"allowed_origins lists the pages' origins (scheme://host[:port], http or https, no path and no wildcard) where the widget may run."
	huma.Register(api, op, r.create)

	huma.Register(api, routeOp("listChannels", http.MethodGet, "/api/v1/channels", "List channels", AccessAgent, 0, 0), r.list)
	huma.Register(api, routeOp("getChannel", http.MethodGet, "/api/v1/channels/{id}", "Get a channel", AccessAgent, 0, 0), r.get)

	op = routeOp("updateChannel", http.MethodPatch, "/api/v1/channels/{id}", "Update a channel", AccessAdmin, 0, routeSmallBodyBytes)
	op.Description = "Changes the fields given: name, allowed_origins (replaced as a whole), default_response (replaced as a whole)."
	huma.Register(api, op, r.update)

	op = routeOp("connectAssistant", http.MethodPut, "/api/v1/channels/{id}/assistant", "Connect an assistant", AccessAdmin, 0, routeSmallBodyBytes)
	op.Description = "Makes the assistant the channel's one assistant, replacing any other. Its latest published version answers new chats; until it has one, the default response does."
	huma.Register(api, op, r.connect)

	op = routeOp("disconnectAssistant", http.MethodDelete, "/api/v1/channels/{id}/assistant", "Disconnect the assistant", AccessAdmin, 0, 0)
	op.Description = "Leaves the channel without an assistant: its default response applies to new chats."
	huma.Register(api, op, r.disconnect)

	op = routeOp("generateIdentitySecret", http.MethodPost, "/api/v1/channels/{id}/identity-secret", "Generate the identity secret", AccessAdmin, http.StatusOK, 0)
	op.Description = "Turns identity verification on with a new random secret, replacing any old one: signatures made with the old secret stop verifying at once. " +
		"The site's backend signs each logged-in visitor's id (or email) with it, HMAC-SHA256, and the widget passes the signature to identify(); " +
		"a visitor whose signature verifies resumes their conversation on any device (see docs/websocket.md, \"Signed identity\"). " +
		"The secret is in this response only: it is never shown again."
	huma.Register(api, op, r.generateIdentitySecret)

	op = routeOp("deleteIdentitySecret", http.MethodDelete, "/api/v1/channels/{id}/identity-secret", "Turn identity verification off", AccessAdmin, 0, 0)
	op.Description = "Forgets the channel's identity secret: identities the widget passes are ignored again and every visitor is anonymous."
	huma.Register(api, op, r.deleteIdentitySecret)
}

// channelDefaultResponse is what a channel does until an assistant is published
// on it: a greeting, then capture contact details or queue for an agent.
type channelDefaultResponse struct {
	Greeting map[string]string `json:"greeting" doc:"The greeting by language code."`
	Then     string            `json:"then" enum:"capture,queue" doc:"After the greeting: capture contact details, or queue the chat for an agent."`
}

// channelAssistant names the assistant connected to a channel.
type channelAssistant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type channelView struct {
	ID              string                 `json:"id"`
	Name            string                 `json:"name"`
	Kind            string                 `json:"kind" enum:"web"`
	PublicKey       string                 `json:"public_key" doc:"The widget's key: public, but unguessable."`
	AllowedOrigins  []string               `json:"allowed_origins"`
	DefaultResponse channelDefaultResponse `json:"default_response"`
	Assistant       *channelAssistant      `json:"assistant" doc:"The connected assistant, or null."`
	EmbedSnippet    string                 `json:"embed_snippet" doc:"The script tag to paste into the site's pages."`
	// The secret itself is never part of the view; see
	// generateIdentitySecret.
	IdentityVerification bool       `json:"identity_verification" doc:"Whether signed identities are verified: true once an identity secret was generated."`
	IdentitySecretSetAt  *time.Time `json:"identity_secret_set_at" doc:"When the current identity secret was generated, or null while verification is off."`
	CreatedAt            time.Time  `json:"created_at"`
}

func (r *ChannelRoutes) view(c *storage.Channel, assistantName string) channelView {
	v := channelView{
		ID: c.ID, Name: c.Name, Kind: string(c.Kind), PublicKey: c.PublicKey,
		AllowedOrigins: []string(c.AllowedOrigins), DefaultResponse: channelDecodeDefaultResponse(c.DefaultResponse),
		EmbedSnippet: channelEmbedSnippet(r.PublicURL, c.PublicKey), CreatedAt: c.CreatedAt,
		IdentityVerification: c.IdentityVerification(), IdentitySecretSetAt: c.IdentitySecretSetAt,
	}
	if v.AllowedOrigins == nil {
		v.AllowedOrigins = []string{}
	}
	if c.AssistantID != "" {
		v.Assistant = &channelAssistant{ID: c.AssistantID, Name: assistantName}
	}
	return v
}

// channelEmbedSnippet is the tag a site pastes into its pages. Both values are
// escaped for the attribute, though neither should hold a quote.
func channelEmbedSnippet(publicURL, key string) string {
	base := strings.TrimRight(publicURL, "/")
	return fmt.Sprintf(`<script src="%s/widget.js" data-channel="%s" async></script>`,
		html.EscapeString(base), html.EscapeString(key))
}

// channelDecodeDefaultResponse reads a stored default response. A document
// without "then" (a channel seeded outside the API) queues for an agent,
// which is what the runtime does with it (chat.DefaultResponseOf); the API
// itself always stores one.
func channelDecodeDefaultResponse(raw storage.JSON) channelDefaultResponse {
	var d channelDefaultResponse
	_ = json.Unmarshal(raw, &d) // a stored document was checked on the way in
	if d.Greeting == nil {
		d.Greeting = map[string]string{}
	}
	if d.Then != channelThenCapture {
		d.Then = channelThenQueue
	}
	return d
}

type channelPath struct {
	ID string `path:"id" maxLength:"64" doc:"The channel's id."`
}

type channelOutput struct {
	Body channelView
}

type createChannelInput struct {
	Body struct {
		Name            string                  `json:"name" minLength:"1" maxLength:"100"`
		AllowedOrigins  []string                `json:"allowed_origins,omitempty" maxItems:"20" doc:"Origins such as https://shop.example where the widget may run."`
		DefaultResponse *channelDefaultResponse `json:"default_response,omitempty" doc:"Defaults to an English greeting, then capture."`
	}
}

func (r *ChannelRoutes) create(ctx context.Context, in *createChannelInput) (*channelOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	var faults []*huma.ErrorDetail
	name, fault := channelName(b.Name)
	if fault != nil {
		faults = append(faults, fault)
	}
	origins, more := channelOrigins(b.AllowedOrigins)
	faults = append(faults, more...)
	resp := channelDefaultResponse{Greeting: channelDefaultGreeting, Then: channelThenCapture}
	if b.DefaultResponse != nil {
		resp = *b.DefaultResponse
		faults = append(faults, channelCheckDefaultResponse(resp)...)
	}
	if len(faults) > 0 {
		return nil, invalid("the channel cannot be created", routeCapFaults(faults)...)
	}
	raw, err := json.Marshal(resp)
	if err != nil {
		return nil, err
	}
	c, err := r.Store.CreateChannel(ctx, p.WorkspaceID, storage.NewChannel{
		Name: name, Kind: storage.ChannelWeb, AllowedOrigins: origins, DefaultResponse: raw,
	})
	if err != nil {
		return nil, storeError(err, "channel")
	}
	return &channelOutput{Body: r.view(c, "")}, nil
}

type listChannelsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"The page size."`
}

type listChannelsOutput struct {
	Body struct {
		Channels []channelView `json:"channels"`
	}
}

func (r *ChannelRoutes) list(ctx context.Context, in *listChannelsInput) (*listChannelsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := r.Store.ListChannels(ctx, p.WorkspaceID, in.Limit)
	if err != nil {
		return nil, storeError(err, "channels")
	}
	names := map[string]string{}
	for _, c := range cs {
		if c.AssistantID != "" {
			// One query for every name on the page, and only when some
			// channel has an assistant.
			as, err := r.Store.ListAssistants(ctx, p.WorkspaceID, storage.MaxListLimit)
			if err != nil {
				return nil, storeError(err, "assistants")
			}
			for _, a := range as {
				names[a.ID] = a.Name
			}
			break
		}
	}
	out := &listChannelsOutput{}
	out.Body.Channels = make([]channelView, 0, len(cs))
	for i := range cs {
		out.Body.Channels = append(out.Body.Channels, r.view(&cs[i], names[cs[i].AssistantID]))
	}
	return out, nil
}

func (r *ChannelRoutes) get(ctx context.Context, in *channelPath) (*channelOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	return r.load(ctx, p.WorkspaceID, in.ID)
}

// load reads a channel and its assistant's name.
func (r *ChannelRoutes) load(ctx context.Context, ws, id string) (*channelOutput, error) {
	c, err := r.Store.GetChannel(ctx, ws, id)
	if err != nil {
		return nil, storeError(err, "channel")
	}
	name := ""
	if c.AssistantID != "" {
		a, err := r.Store.GetAssistant(ctx, ws, c.AssistantID)
		if err != nil {
			return nil, storeError(err, "assistant")
		}
		name = a.Name
	}
	return &channelOutput{Body: r.view(c, name)}, nil
}

type updateChannelInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The channel's id."`
	Body struct {
		Name            *string                 `json:"name,omitempty" minLength:"1" maxLength:"100"`
		AllowedOrigins  []string                `json:"allowed_origins,omitempty" maxItems:"20" doc:"Replaces the list; send [] to empty it."`
		DefaultResponse *channelDefaultResponse `json:"default_response,omitempty"`
	}
}

func (r *ChannelRoutes) update(ctx context.Context, in *updateChannelInput) (*channelOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	var faults []*huma.ErrorDetail
	set := map[string]any{}
	if b.Name != nil {
		name, fault := channelName(*b.Name)
		if fault != nil {
			faults = append(faults, fault)
		}
		set["name"] = name
	}
	if b.AllowedOrigins != nil {
		origins, more := channelOrigins(b.AllowedOrigins)
		faults = append(faults, more...)
		set["allowed_origins"] = storage.Strings(origins)
	}
	if b.DefaultResponse != nil {
		faults = append(faults, channelCheckDefaultResponse(*b.DefaultResponse)...)
		raw, err := json.Marshal(b.DefaultResponse)
		if err != nil {
			return nil, err
		}
		set["default_response"] = storage.JSON(raw)
	}
	if len(faults) > 0 {
		return nil, invalid("the channel cannot be updated", routeCapFaults(faults)...)
	}
	if len(set) > 0 {
		if err := updateChannelRow(ctx, r.Store, p.WorkspaceID, in.ID, set); err != nil {
			return nil, storeError(err, "channel")
		}
	}
	return r.load(ctx, p.WorkspaceID, in.ID)
}

// updateChannelRow changes columns of one channel of the workspace.
//
// storage has no UpdateChannel yet, so this is the one statement the API
// runs itself. It keeps the Store's rules: the workspace is in the WHERE
// clause, the values are bound parameters, and the column names come from
// this file, never from the request.
func updateChannelRow(ctx context.Context, st *storage.Store, ws, id string, set map[string]any) error {
	if ws == "" {
		return fmt.Errorf("%w: workspace id is empty", storage.ErrInvalid)
	}
	cols := make([]string, 0, len(set))
	for c := range set {
		switch c {
		case "name", "allowed_origins", "default_response":
			cols = append(cols, c)
		default:
			return fmt.Errorf("updateChannelRow: column %q is not updatable", c)
		}
	}
	sort.Strings(cols) // a stable statement text
	ph := func(i int) string {
		if st.Dialect() == storage.Postgres {
			return "$" + strconv.Itoa(i)
		}
		return "?"
	}
	var (
		parts []string
		args  []any
	)
	for _, c := range cols {
		args = append(args, set[c])
		parts = append(parts, c+" = "+ph(len(args)))
	}
	args = append(args, ws, id)
	q := "UPDATE channels SET " + strings.Join(parts, ", ") +
		" WHERE workspace_id = " + ph(len(args)-1) + " AND id = " + ph(len(args))
	res, err := st.DB().ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("update channel: %v", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("%w: channel %s", storage.ErrNotFound, id)
	}
	return nil
}

type channelConnectInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The channel's id."`
	Body struct {
		AssistantID string `json:"assistant_id" minLength:"1" maxLength:"64"`
	}
}

func (r *ChannelRoutes) connect(ctx context.Context, in *channelConnectInput) (*channelOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	// The channel first, so the 404 says which of the two is missing.
	if _, err := r.Store.GetChannel(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "channel")
	}
	if err := r.Store.ConnectAssistant(ctx, p.WorkspaceID, in.ID, in.Body.AssistantID); err != nil {
		return nil, storeError(err, "assistant")
	}
	return r.load(ctx, p.WorkspaceID, in.ID)
}

func (r *ChannelRoutes) disconnect(ctx context.Context, in *channelPath) (*channelOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.Store.DisconnectAssistant(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "channel")
	}
	return r.load(ctx, p.WorkspaceID, in.ID)
}

type identitySecretOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Secret  string      `json:"secret" doc:"The new identity secret. It is shown here only: store it in the site's backend configuration now."`
		Channel channelView `json:"channel"`
	}
}

func (r *ChannelRoutes) generateIdentitySecret(ctx context.Context, in *channelPath) (*identitySecretOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	secret, _, err := r.Store.GenerateIdentitySecret(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "channel")
	}
	ch, err := r.load(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	out := &identitySecretOutput{CacheControl: "no-store"}
	out.Body.Secret, out.Body.Channel = secret, ch.Body
	return out, nil
}

func (r *ChannelRoutes) deleteIdentitySecret(ctx context.Context, in *channelPath) (*channelOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := r.Store.ClearIdentitySecret(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "channel")
	}
	return r.load(ctx, p.WorkspaceID, in.ID)
}

// channelName trims and checks a channel name. Unlike an assistant's, it is
// only seen by the team, so it is not checked for words or brands.
func channelName(s string) (string, *huma.ErrorDetail) {
	name := strings.TrimSpace(s)
	if name == "" {
		return "", fieldError("body.name", "the name is empty", s)
	}
	if bad, ok := channelControlChar(name); ok {
		return "", fieldError("body.name", fmt.Sprintf("the name contains the control character %U", bad), nil)
	}
	return name, nil
}

// channelControlChar finds a control or invisible formatting character.
func channelControlChar(s string) (rune, bool) {
	for _, r := range s {
		if unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) {
			return r, true
		}
	}
	return 0, false
}

// channelOrigins checks each origin, naming its index, and returns them
// in the form a browser sends in its Origin header, without repeats.
func channelOrigins(in []string) ([]string, []*huma.ErrorDetail) {
	var faults []*huma.ErrorDetail
	if len(in) > channelMaxOrigins {
		return nil, []*huma.ErrorDetail{fieldError("body.allowed_origins",
			fmt.Sprintf("%d origins is over the limit of %d", len(in), channelMaxOrigins), nil)}
	}
	out := []string{}
	for i, s := range in {
		o, err := channelOrigin(s)
		if err != "" {
			faults = append(faults, fieldError(fmt.Sprintf("body.allowed_origins[%d]", i), err, s))
			continue
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, faults
}

// channelOrigin returns the origin scheme://host[:port] as browsers send
// it (lowercase, host in punycode, default port left out), or why s is not
// one. An origin is compared with the Origin header byte for byte, so
// anything that is not exactly an origin, such as a path or a wildcard, is
// refused rather than guessed at.
func channelOrigin(s string) (string, string) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", "the origin is empty"
	case len(s) > channelMaxOriginLength:
		return "", fmt.Sprintf("the origin is over %d bytes", channelMaxOriginLength)
	case !utf8.ValidString(s):
		return "", "the origin is not valid UTF-8"
	case strings.Contains(s, "*"):
		return "", "wildcards are not allowed: list each origin, such as https://shop.example"
	}
	if _, bad := channelControlChar(s); bad || strings.ContainsAny(s, " \\") {
		return "", "the origin contains spaces or control characters"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "not an origin such as https://shop.example"
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", "the scheme must be http or https, as in https://shop.example"
	case u.Opaque != "" || u.Host == "":
		return "", "not an origin such as https://shop.example"
	case u.User != nil:
		return "", "an origin has no user name or password"
	case u.Path != "" && u.Path != "/", u.RawPath != "":
		return "", "an origin has no path: use scheme://host[:port] only"
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(s, "#"):
		return "", "an origin has no query or fragment"
	}
	host := u.Hostname()
	port := u.Port()
	if strings.HasSuffix(u.Host, ":") {
		return "", "the port is empty"
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strings.HasPrefix(port, "0") {
			return "", "the port must be a number from 1 to 65535"
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = "" // browsers leave the default port out of Origin
		}
	}
	if ip := net.ParseIP(host); ip != nil {
		if strings.Contains(host, ":") {
			host = "[" + ip.String() + "]"
		} else {
			host = ip.String()
		}
	} else {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil || !channelHostnameOK(ascii) {
			return "", "the host is not a valid domain name"
		}
		host = ascii
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, ""
}

// channelHostnameOK checks an ASCII host name: dot-separated labels of letters,
// digits and inner hyphens, 1 to 63 bytes each.
func channelHostnameOK(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// channelCheckDefaultResponse checks the greeting's languages and texts.
func channelCheckDefaultResponse(d channelDefaultResponse) []*huma.ErrorDetail {
	const loc = "body.default_response"
	var faults []*huma.ErrorDetail
	if d.Then != channelThenCapture && d.Then != channelThenQueue {
		faults = append(faults, fieldError(loc+".then", "expected capture or queue", d.Then))
	}
	switch {
	case len(d.Greeting) == 0:
		faults = append(faults, fieldError(loc+".greeting", "the greeting needs a text in at least one language", nil))
	case len(d.Greeting) > channelMaxGreetingLanguages:
		faults = append(faults, fieldError(loc+".greeting", fmt.Sprintf("%d languages is over the limit of %d", len(d.Greeting), channelMaxGreetingLanguages), nil))
	default:
		langs := make([]string, 0, len(d.Greeting))
		for l := range d.Greeting {
			langs = append(langs, l)
		}
		sort.Strings(langs) // errors in a stable order
		for _, l := range langs {
			text := d.Greeting[l]
			if !assistantLanguageRe.MatchString(l) {
				faults = append(faults, fieldError(loc+".greeting", "expected language codes such as en or pt-br as keys", channelClip(l, 16)))
				continue
			}
			where := loc + ".greeting." + l
			switch {
			case strings.TrimSpace(text) == "":
				faults = append(faults, fieldError(where, "the greeting is empty", nil))
			case utf8.RuneCountInString(text) > channelMaxGreetingLength:
				faults = append(faults, fieldError(where, fmt.Sprintf("the greeting is over %d characters", channelMaxGreetingLength), nil))
			case strings.ContainsRune(text, 0):
				faults = append(faults, fieldError(where, "the greeting contains a NUL byte", nil))
			}
		}
	}
	return faults
}

func channelClip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// routeCapFaults keeps a problem's field errors to routeMaxFieldErrors.
func routeCapFaults(f []*huma.ErrorDetail) []*huma.ErrorDetail {
	if len(f) > routeMaxFieldErrors {
		return f[:routeMaxFieldErrors]
	}
	return f
}
