package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/naming"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
)

// Request body bounds. Huma refuses a larger body with a 413 problem before
// the handler runs; the server's own body limit (config MaxBodyBytes) must
// be at least routeGraphBodyBytes for graph uploads to reach huma.
const (
	// routeSmallBodyBytes bounds bodies of names and settings.
	routeSmallBodyBytes = 64 << 10
	// routeGraphBodyBytes bounds bodies carrying a graph or a playbook file: the
	// playbook file format's own limit.
	routeGraphBodyBytes = playbooks.MaxFileSize
)

// routeMaxFieldErrors bounds the field errors of one problem, so a graph with
// thousands of faults does not make a response as large as itself.
const routeMaxFieldErrors = 20

// AssistantRoutes serves the assistants, their draft graph, and playbook
// import and export, under /api/v1/assistants.
//
// Every query is scoped by the caller's workspace. Reads need any member
// (AccessAgent) except the draft, which only builders see; writes need a
// builder (an admin, or an agent with "manage assistants").
type AssistantRoutes struct {
	// Store is the database.
	Store *storage.Store
}

// Register adds the operations to api.
func (r *AssistantRoutes) Register(api huma.API) {
	templates := strings.Join(playbooks.TemplateNames(), ", ")

	op := routeOp("createAssistant", http.MethodPost, "/api/v1/assistants", "Create an assistant", AccessBuilder, http.StatusCreated, routeSmallBodyBytes)
	op.Description = "Creates an assistant with a draft graph: the named template's (one of " + templates +
		"), or else a starter graph (a greeting, then the end) that already passes the checks. " +
		"The name is checked: no offensive words, and no impersonating Frontdesk or a brand."
	huma.Register(api, op, r.create)

	op = routeOp("listAssistants", http.MethodGet, "/api/v1/assistants", "List assistants", AccessAgent, 0, 0)
	op.Description = "Lists the assistants by name, each with its status (active when it has a published version and is connected to a channel), connected channels and latest version number."
	huma.Register(api, op, r.list)

	huma.Register(api, routeOp("getAssistant", http.MethodGet, "/api/v1/assistants/{id}", "Get an assistant", AccessAgent, 0, 0), r.get)
	huma.Register(api, routeOp("renameAssistant", http.MethodPatch, "/api/v1/assistants/{id}", "Rename an assistant", AccessBuilder, 0, routeSmallBodyBytes), r.rename)

	op = routeOp("deleteAssistant", http.MethodDelete, "/api/v1/assistants/{id}", "Delete an assistant", AccessBuilder, http.StatusNoContent, 0)
	op.Description = "Deletes the assistant with its draft and versions. Its channels fall back to their default response; its conversations are kept."
	huma.Register(api, op, r.delete)

	op = routeOp("getDraft", http.MethodGet, "/api/v1/assistants/{id}/draft", "Get the draft graph", AccessBuilder, 0, 0)
	op.Description = "Returns the draft graph, its revision, and every diagnostic of the checks."
	huma.Register(api, op, r.getDraft)

	op = routeOp("saveDraft", http.MethodPut, "/api/v1/assistants/{id}/draft", "Save the draft graph", AccessBuilder, 0, routeGraphBodyBytes)
	op.Description = "Replaces the draft graph if its revision is still the one given, and returns the new revision with the checks' diagnostics. " +
		"Saving never requires a valid graph (publishing does), but a graph over the size limits is refused. " +
		"A stale revision gets 409 with current.revision, and nothing is saved."
	op.Errors = append(op.Errors, http.StatusConflict)
	huma.Register(api, op, r.saveDraft)

	op = routeOp("checkDraft", http.MethodPost, "/api/v1/assistants/{id}/draft/check", "Check a graph", AccessBuilder, 0, routeGraphBodyBytes)
	op.Description = "Runs the checks on the graph in the body, or on the saved draft when there is no body, and returns the errors and warnings with their positions. Nothing is saved."
	huma.Register(api, op, r.checkDraft)

	op = routeOp("exportAssistant", http.MethodGet, "/api/v1/assistants/{id}/export", "Export a playbook file", AccessBuilder, 0, 0)
	op.Description = "Returns the draft (or a published version) as a playbook file, for download."
	op.Responses = map[string]*huma.Response{"200": {
		Description: "A playbook file.",
		Content:     map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{Type: "object", Description: "A playbook file (see docs/playbook-format.md)."}}},
	}}
	huma.Register(api, op, r.export)

	op = routeOp("importDraft", http.MethodPost, "/api/v1/assistants/{id}/draft/import", "Import a playbook file into the draft", AccessBuilder, 0, routeGraphBodyBytes)
	op.Description = "Replaces the draft graph with the graph of the playbook file in the body, if the draft's revision is still the one given. " +
		"A file that does not decode gets 422 with its line and column. The assistant's name is left as it is."
	op.Errors = append(op.Errors, http.StatusConflict)
	// The file is judged by playbooks.Decode, which reports the line and
	// column of a fault; huma's schema check would answer first, and
	// without a position.
	op.SkipValidateBody = true
	huma.Register(api, op, r.importDraft)
	if pi := api.OpenAPI().Paths[op.Path]; pi != nil && pi.Post != nil && pi.Post.RequestBody != nil {
		// Document the body as the JSON object it is rather than as the
		// bytes the handler reads.
		pi.Post.RequestBody.Content["application/json"] = &huma.MediaType{
			Schema: &huma.Schema{Type: "object", Description: "A playbook file (see docs/playbook-format.md)."},
		}
	}
}

// routeOp is Operation with the status, body bound and error statuses
// that the assistant, version, channel and conversation routes share; the
// tag follows the path.
func routeOp(id, method, path, summary, access string, status int, maxBody int64) huma.Operation {
	tag := "Assistants"
	switch {
	case strings.HasPrefix(path, "/api/v1/channels"):
		tag = "Channels"
	case strings.HasPrefix(path, "/api/v1/conversations"):
		tag = "Conversations"
	case strings.Contains(path, "/versions"):
		tag = "Versions"
	}
	op := Operation(id, method, path, summary, access, tag)
	op.DefaultStatus = status
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusUnprocessableEntity)
	if maxBody > 0 {
		op.MaxBodyBytes = maxBody
		op.Errors = append(op.Errors, http.StatusRequestEntityTooLarge)
	}
	return op
}

// workspaceCaller returns the authenticated caller. The authorize
// middleware has already refused anonymous callers; this refuses a
// principal without a workspace too, so that no query can ever run with an
// empty tenant id.
func workspaceCaller(ctx context.Context) (*Principal, error) {
	p := PrincipalFrom(ctx)
	if p == nil || p.WorkspaceID == "" {
		return nil, problem(http.StatusUnauthorized, "unauthorized", "sign in first")
	}
	return p, nil
}

// assistantView is an assistant as the API shows it.
type assistantView struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	DefaultLanguage string   `json:"default_language"`
	Languages       []string `json:"languages" doc:"The supported languages, the default included."`
	Status          string   `json:"status" enum:"draft,active" doc:"active: published and connected to at least one channel."`
	// Channels are the channels the assistant answers on.
	Channels []assistantChannel `json:"channels"`
	// LatestVersion is the live version's number.
	LatestVersion int       `json:"latest_version" doc:"The highest published version number; 0 if never published."`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// assistantChannel names a channel an assistant is connected to.
type assistantChannel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func newAssistantView(s storage.AssistantSummary) assistantView {
	v := assistantView{
		ID: s.ID, Name: s.Name, DefaultLanguage: s.DefaultLanguage, Languages: []string(s.Languages),
		Status: "draft", Channels: make([]assistantChannel, 0, len(s.Channels)),
		LatestVersion: s.LatestVersion, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if v.Languages == nil {
		v.Languages = []string{}
	}
	for _, c := range s.Channels {
		v.Channels = append(v.Channels, assistantChannel{ID: c.ID, Name: c.Name})
	}
	// A published assistant that no channel shows is not live anywhere, so
	// it is still a draft from the admin's point of view.
	if s.Published() && len(s.Channels) > 0 {
		v.Status = "active"
	}
	return v
}

// assistantSummary loads one assistant as a list row: its channels and its
// latest version number.
func assistantSummary(ctx context.Context, st *storage.Store, ws, id string) (assistantView, error) {
	a, err := st.GetAssistant(ctx, ws, id)
	if err != nil {
		return assistantView{}, storeError(err, "assistant")
	}
	sum := storage.AssistantSummary{Assistant: *a}
	chans, err := st.ListChannels(ctx, ws, storage.MaxListLimit)
	if err != nil {
		return assistantView{}, storeError(err, "channels")
	}
	for _, c := range chans {
		if c.AssistantID == id {
			sum.Channels = append(sum.Channels, storage.ChannelRef{ID: c.ID, Name: c.Name})
		}
	}
	// The newest version without its graph: only the number is needed.
	vs, err := st.ListVersions(ctx, ws, id, 1)
	if err != nil {
		return assistantView{}, storeError(err, "assistant")
	}
	if len(vs) > 0 {
		sum.LatestVersion = vs[0].Number
	}
	return newAssistantView(sum), nil
}

type assistantPath struct {
	ID string `path:"id" maxLength:"64" doc:"The assistant's id."`
}

type assistantOutput struct {
	Body assistantView
}

type createAssistantInput struct {
	Body struct {
		Name            string   `json:"name" minLength:"1" maxLength:"60" doc:"The assistant's name, as visitors see it."`
		DefaultLanguage string   `json:"default_language,omitempty" pattern:"^[a-z]{2,3}(-[a-z0-9]{2,8})?$" doc:"Defaults to the template's, or en."`
		Languages       []string `json:"languages,omitempty" maxItems:"20" doc:"Supported languages; the default is always supported. Defaults to the template's."`
		Template        string   `json:"template,omitempty" maxLength:"64" doc:"A template playbook to start from; see the operation's description for the names."`
	}
}

// assistantLanguageRe is the engine's language code syntax, checked on list
// items by hand because huma's pattern tag applies to strings only.
var assistantLanguageRe = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

func (r *AssistantRoutes) create(ctx context.Context, in *createAssistantInput) (*assistantOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	name := strings.TrimSpace(b.Name)
	var faults []*huma.ErrorDetail
	if fault := assistantNameProblem(name, "body.name"); fault != nil {
		faults = append(faults, fault)
	}
	for i, l := range b.Languages {
		if !assistantLanguageRe.MatchString(l) {
			faults = append(faults, fieldError(fmt.Sprintf("body.languages[%d]", i), "expected a language code such as en or pt-br", l))
		}
	}
	var graph *engine.Graph
	if b.Template != "" {
		if !slices.Contains(playbooks.TemplateNames(), b.Template) {
			faults = append(faults, fieldError("body.template", "unknown template; expected one of "+strings.Join(playbooks.TemplateNames(), ", "), b.Template))
		} else {
			f, err := playbooks.Template(b.Template)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", b.Template, err)
			}
			graph = &f.Graph
		}
	}
	if len(faults) > 0 {
		return nil, invalid("the assistant cannot be created", faults...)
	}

	def, langs := b.DefaultLanguage, b.Languages
	switch {
	case graph == nil:
		if def == "" {
			def = "en"
		}
		langs = languagesWithDefault(def, langs)
		graph = assistantStarterGraph(def, langs)
	case def == "" && len(langs) == 0:
		// The template's own languages.
		def = graph.DefaultLanguage
		if def == "" {
			def = "en"
		}
		langs = languagesWithDefault(def, graph.Languages)
	default:
		// Languages asked for on a template apply to its graph too, so the
		// draft's diagnostics list the translations still to write.
		if def == "" {
			def = graph.DefaultLanguage
			if def == "" {
				def = "en"
			}
		}
		langs = languagesWithDefault(def, langs)
		graph.DefaultLanguage = def
		graph.Languages = languagesWithout(def, langs)
	}
	raw, err := json.Marshal(graph)
	if err != nil {
		return nil, err
	}
	a, err := r.Store.CreateAssistant(ctx, p.WorkspaceID, storage.NewAssistant{
		Name: name, DefaultLanguage: def, Languages: langs, Graph: raw, CreatedBy: p.UserID,
	})
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	return &assistantOutput{Body: newAssistantView(storage.AssistantSummary{Assistant: *a})}, nil
}

// assistantNameProblem checks an assistant name and names the field at fault.
func assistantNameProblem(name, location string) *huma.ErrorDetail {
	err := naming.Check(name)
	if err == nil {
		return nil
	}
	var ne *naming.Error
	if errors.As(err, &ne) && ne.Reason == naming.ReasonOffensive {
		// Do not echo the word back into responses and logs.
		return fieldError(location, ne.Message, nil)
	}
	return fieldError(location, err.Error(), name)
}

// languagesWithDefault returns langs with def first and no repeats.
func languagesWithDefault(def string, langs []string) []string {
	out := []string{def}
	for _, l := range langs {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// languagesWithout returns langs without def, as a graph lists them.
func languagesWithout(def string, langs []string) []string {
	var out []string
	for _, l := range langs {
		if l != def {
			out = append(out, l)
		}
	}
	return out
}

// assistantStarterTexts are the starter graph's texts in the languages Frontdesk
// ships; other languages get the English text for the admin to translate,
// so the starter graph still passes the checks.
var assistantStarterTexts = map[string][2]string{
	"en": {"Hi! How can we help you today?", "Thanks for chatting with us."},
	"fr": {"Bonjour ! Comment pouvons-nous vous aider ?", "Merci de nous avoir écrit."},
	"es": {"¡Hola! ¿En qué podemos ayudarte?", "Gracias por escribirnos."},
	"de": {"Hallo! Wie können wir Ihnen helfen?", "Danke für Ihre Nachricht."},
}

// assistantStarterGraph is the draft of an assistant made without a template: a
// greeting, then the end. It passes the checks, so a new assistant can be
// published at once and grown from there.
func assistantStarterGraph(def string, langs []string) *engine.Graph {
	hello, bye := engine.Text{}, engine.Text{}
	for _, l := range langs {
		t, ok := assistantStarterTexts[l]
		if !ok {
			t = assistantStarterTexts["en"]
		}
		hello[l], bye[l] = t[0], t[1]
	}
	return &engine.Graph{
		DefaultLanguage: def,
		Languages:       languagesWithout(def, langs),
		Start:           "greet",
		Nodes: []engine.Node{
			{ID: "greet", Kind: engine.KindGreet, Label: "Greeting", Position: &engine.Position{X: 0, Y: 0},
				Greet: &engine.GreetConfig{Text: hello}},
			{ID: "end", Kind: engine.KindEnd, Label: "End", Position: &engine.Position{X: 0, Y: 160},
				End: &engine.EndConfig{Text: bye}},
		},
		Edges: []engine.Edge{{ID: "greet-end", From: "greet", To: "end"}},
	}
}

type listAssistantsInput struct {
	Limit int `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"The page size."`
}

type listAssistantsOutput struct {
	Body struct {
		Assistants []assistantView `json:"assistants"`
	}
}

func (r *AssistantRoutes) list(ctx context.Context, in *listAssistantsInput) (*listAssistantsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := r.Store.ListAssistants(ctx, p.WorkspaceID, in.Limit)
	if err != nil {
		return nil, storeError(err, "assistants")
	}
	out := &listAssistantsOutput{}
	out.Body.Assistants = make([]assistantView, 0, len(rows))
	for _, row := range rows {
		out.Body.Assistants = append(out.Body.Assistants, newAssistantView(row))
	}
	return out, nil
}

func (r *AssistantRoutes) get(ctx context.Context, in *assistantPath) (*assistantOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	v, err := assistantSummary(ctx, r.Store, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	return &assistantOutput{Body: v}, nil
}

type renameAssistantInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body struct {
		Name string `json:"name" minLength:"1" maxLength:"60" doc:"The new name; checked like a new assistant's."`
	}
}

func (r *AssistantRoutes) rename(ctx context.Context, in *renameAssistantInput) (*assistantOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Body.Name)
	if fault := assistantNameProblem(name, "body.name"); fault != nil {
		return nil, invalid("the name is not allowed", fault)
	}
	if err := r.Store.RenameAssistant(ctx, p.WorkspaceID, in.ID, name); err != nil {
		return nil, storeError(err, "assistant")
	}
	return r.get(ctx, &assistantPath{ID: in.ID})
}

func (r *AssistantRoutes) delete(ctx context.Context, in *assistantPath) (*struct{}, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.Store.DeleteAssistant(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "assistant")
	}
	return nil, nil
}

// --- Draft ---

// draftCheckResult splits diagnostics into what blocks publishing and what does
// not.
type draftCheckResult struct {
	Errors   []engine.Diagnostic `json:"errors" doc:"Findings that block publishing."`
	Warnings []engine.Diagnostic `json:"warnings" doc:"Findings shown in the builder that do not block publishing."`
}

func draftSplitDiagnostics(diags []engine.Diagnostic) draftCheckResult {
	out := draftCheckResult{Errors: []engine.Diagnostic{}, Warnings: []engine.Diagnostic{}}
	for _, d := range diags {
		if d.Severity == engine.SeverityError {
			out.Errors = append(out.Errors, d)
		} else {
			out.Warnings = append(out.Warnings, d)
		}
	}
	return out
}

// draftDiagnostics runs every check on g; never nil, so it encodes as [].
func draftDiagnostics(g *engine.Graph) []engine.Diagnostic {
	d := engine.Check(g, engine.Options{})
	if d == nil {
		d = []engine.Diagnostic{}
	}
	return d
}

type draftView struct {
	Revision    int64               `json:"revision" doc:"Send it back when saving; it goes up by one on every save."`
	Graph       engine.Graph        `json:"graph"`
	Diagnostics []engine.Diagnostic `json:"diagnostics" doc:"Every error and warning of the checks."`
	UpdatedAt   time.Time           `json:"updated_at"`
}

type draftOutput struct {
	Body draftView
}

// draftLoad reads the assistant's draft and decodes its graph.
func draftLoad(ctx context.Context, st *storage.Store, ws, assistantID string) (*storage.Draft, *engine.Graph, error) {
	d, err := st.GetDraft(ctx, ws, assistantID)
	if err != nil {
		return nil, nil, storeError(err, "assistant")
	}
	g, err := graphFromStore(d.Graph)
	if err != nil {
		return nil, nil, err
	}
	return d, g, nil
}

// graphFromStore decodes a graph as stored by a draft or a version. It
// is lenient: what is stored was checked on the way in, and a graph stored
// by an older Frontdesk must still open.
func graphFromStore(raw storage.JSON) (*engine.Graph, error) {
	g := &engine.Graph{}
	if len(raw) == 0 {
		return g, nil
	}
	if err := json.Unmarshal(raw, g); err != nil {
		return nil, fmt.Errorf("stored graph does not decode: %w", err)
	}
	if g.Nodes == nil {
		g.Nodes = []engine.Node{}
	}
	if g.Edges == nil {
		g.Edges = []engine.Edge{}
	}
	return g, nil
}

func (r *AssistantRoutes) getDraft(ctx context.Context, in *assistantPath) (*draftOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	d, g, err := draftLoad(ctx, r.Store, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	return &draftOutput{Body: draftView{Revision: d.Revision, Graph: *g, Diagnostics: draftDiagnostics(g), UpdatedAt: d.UpdatedAt}}, nil
}

type saveDraftInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body struct {
		Revision int64        `json:"revision" minimum:"0" doc:"The revision this graph was edited from."`
		Graph    engine.Graph `json:"graph"`
	}
}

type draftSaved struct {
	Revision    int64               `json:"revision" doc:"The new revision."`
	Diagnostics []engine.Diagnostic `json:"diagnostics" doc:"Every error and warning of the checks on the saved graph."`
	UpdatedAt   time.Time           `json:"updated_at"`
}

type draftSavedOutput struct {
	Body draftSaved
}

func (r *AssistantRoutes) saveDraft(ctx context.Context, in *saveDraftInput) (*draftSavedOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	return draftSaveGraph(ctx, r.Store, p, in.ID, in.Body.Revision, &in.Body.Graph, "body.graph")
}

// draftSaveGraph stores g as the draft if the draft is still at revision, after
// refusing a graph over the size limits (at location) before the checks do
// any work proportional to it.
func draftSaveGraph(ctx context.Context, st *storage.Store, p *Principal, assistantID string, revision int64, g *engine.Graph, location string) (*draftSavedOutput, error) {
	if prob := draftBoundsProblem(g, location); prob != nil {
		return nil, prob
	}
	raw, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	d, err := st.SaveDraft(ctx, p.WorkspaceID, assistantID, revision, raw, p.UserID)
	if err != nil {
		return nil, draftError(err)
	}
	return &draftSavedOutput{Body: draftSaved{Revision: d.Revision, Diagnostics: draftDiagnostics(g), UpdatedAt: d.UpdatedAt}}, nil
}

// draftError is storeError, except that a lost compare-and-set on the
// draft reports the draft's current revision as current.revision, the
// field the builder reloads from.
func draftError(err error) error {
	var ce *storage.ConflictError
	if errors.As(err, &ce) {
		p := problem(http.StatusConflict, "conflict",
			fmt.Sprintf("the draft was saved by someone else: it is at revision %d, not %d; reload it and apply your changes again", ce.Current, ce.Expected))
		p.Current = map[string]any{"revision": ce.Current}
		return p
	}
	return storeError(err, "assistant")
}

// draftBoundsProblem refuses a graph over the engine's size limits, naming
// each faulty field under location. The engine's checks refuse the same
// things, but only once the whole graph is in memory as a compiler's work
// list; refusing here keeps an over-limit graph out of storage and out of
// the compiler.
func draftBoundsProblem(g *engine.Graph, location string) *Problem {
	lim := engine.DefaultLimits
	var faults []*huma.ErrorDetail
	add := func(loc, msg string) {
		if len(faults) < routeMaxFieldErrors {
			faults = append(faults, fieldError(loc, msg, nil))
		}
	}
	if n := len(g.Nodes); n > lim.MaxNodes {
		add(location+".nodes", fmt.Sprintf("the graph has %d nodes; the limit is %d", n, lim.MaxNodes))
	}
	if n := len(g.Edges); n > lim.MaxEdges {
		add(location+".edges", fmt.Sprintf("the graph has %d edges; the limit is %d", n, lim.MaxEdges))
	}
	if n := len(g.Rules); n > lim.MaxRules {
		add(location+".global_rules", fmt.Sprintf("the graph has %d global rules; the limit is %d", n, lim.MaxRules))
	}
	if len(faults) > 0 {
		return invalid("the graph is over a size limit", faults...)
	}
	long := func(loc, expr string) {
		if len(expr) > lim.MaxConditionLength {
			add(loc, fmt.Sprintf("the expression is %d bytes long; the limit is %d", len(expr), lim.MaxConditionLength))
		}
	}
	for i, e := range g.Edges {
		long(fmt.Sprintf("%s.edges[%d].condition", location, i), e.Condition)
	}
	for i, rule := range g.Rules {
		long(fmt.Sprintf("%s.global_rules[%d].condition", location, i), rule.Condition)
	}
	for i, n := range g.Nodes {
		if n.SetVariable == nil {
			continue
		}
		for j, a := range n.SetVariable.Assignments {
			long(fmt.Sprintf("%s.nodes[%d].set_variable.assignments[%d].value", location, i, j), a.Value)
		}
	}
	if len(faults) > 0 {
		return invalid("the graph is over a size limit", faults...)
	}
	return nil
}

type checkDraftInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body *struct {
		Graph engine.Graph `json:"graph"`
	} `required:"false"`
}

type draftCheckOutput struct {
	Body draftCheckResult
}

func (r *AssistantRoutes) checkDraft(ctx context.Context, in *checkDraftInput) (*draftCheckOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	var g *engine.Graph
	if in.Body != nil {
		// The assistant must still be the caller's: checking is cheap for
		// no one.
		if _, err := r.Store.GetAssistant(ctx, p.WorkspaceID, in.ID); err != nil {
			return nil, storeError(err, "assistant")
		}
		g = &in.Body.Graph
		if prob := draftBoundsProblem(g, "body.graph"); prob != nil {
			return nil, prob
		}
	} else if _, g, err = draftLoad(ctx, r.Store, p.WorkspaceID, in.ID); err != nil {
		return nil, err
	}
	return &draftCheckOutput{Body: draftSplitDiagnostics(draftDiagnostics(g))}, nil
}

type assistantExportInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Version int    `query:"version" minimum:"0" doc:"A published version number to export; 0 or absent exports the draft."`
}

type assistantFileOutput struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	// NoSniff keeps browsers from reading a download as HTML.
	NoSniff string `header:"X-Content-Type-Options"`
	Body    []byte
}

func (r *AssistantRoutes) export(ctx context.Context, in *assistantExportInput) (*assistantFileOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.Store.GetAssistant(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	var g *engine.Graph
	suffix := ""
	if in.Version > 0 {
		v, err := r.Store.GetVersionByNumber(ctx, p.WorkspaceID, a.ID, in.Version)
		if err != nil {
			return nil, storeError(err, "version")
		}
		if g, err = graphFromStore(v.Graph); err != nil {
			return nil, err
		}
		suffix = fmt.Sprintf("-v%d", v.Number)
	} else if _, g, err = draftLoad(ctx, r.Store, p.WorkspaceID, a.ID); err != nil {
		return nil, err
	}
	data, err := playbooks.Encode(&playbooks.File{Name: a.Name, Graph: *g})
	if err != nil {
		return nil, err
	}
	return &assistantFileOutput{
		ContentType:        "application/json",
		ContentDisposition: downloadDisposition(downloadSlug(a.Name) + suffix + ".json"),
		NoSniff:            "nosniff",
		Body:               data,
	}, nil
}

// downloadDisposition is a Content-Disposition for downloading filename.
func downloadDisposition(filename string) string {
	return mime.FormatMediaType("attachment", map[string]string{"filename": filename})
}

// downloadSlug makes a file name from free text: lowercase ASCII letters and
// digits joined by dashes, so the header needs no quoting tricks.
func downloadSlug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			if b.Len() >= 60 {
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "playbook"
	}
	return b.String()
}

type importDraftInput struct {
	ID       string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Revision int64  `query:"revision" required:"true" minimum:"0" doc:"The draft revision the import replaces; a stale one gets 409."`
	RawBody  []byte `contentType:"application/json" doc:"A playbook file."`
}

func (r *AssistantRoutes) importDraft(ctx context.Context, in *importDraftInput) (*draftSavedOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	f, err := playbooks.Decode(in.RawBody)
	if err != nil {
		var de *playbooks.DecodeError
		if !errors.As(err, &de) {
			return nil, err
		}
		loc := "body"
		if de.Field != "" {
			loc += "." + de.Field
		}
		detail := "the playbook file does not decode: " + de.Message
		if de.Line > 0 {
			detail = fmt.Sprintf("the playbook file does not decode at line %d, column %d: %s", de.Line, de.Column, de.Message)
		}
		return nil, invalid(detail, fieldError(loc, de.Error(), nil))
	}
	if f.Nodes == nil {
		f.Nodes = []engine.Node{}
	}
	if f.Edges == nil {
		f.Edges = []engine.Edge{}
	}
	return draftSaveGraph(ctx, r.Store, p, in.ID, in.Revision, &f.Graph, "body")
}
