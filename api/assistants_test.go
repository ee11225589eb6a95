package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// createAssistant creates an assistant and returns its view.
func (e *routesEnv) createAssistant(token string, body map[string]any) assistantView {
	e.t.Helper()
	var a assistantView
	e.do(token, http.MethodPost, "/api/v1/assistants", body).ok(http.StatusCreated, &a)
	return a
}

// draft reads an assistant's draft.
func (e *routesEnv) draft(token, id string) draftView {
	e.t.Helper()
	var d draftView
	e.do(token, http.MethodGet, "/api/v1/assistants/"+id+"/draft", nil).ok(http.StatusOK, &d)
	return d
}

// saveDraft saves g over the draft's current revision.
func (e *routesEnv) saveDraft(token, id string, g engine.Graph) draftSaved {
	e.t.Helper()
	d := e.draft(token, id)
	var out draftSaved
	e.do(token, http.MethodPut, "/api/v1/assistants/"+id+"/draft", map[string]any{"revision": d.Revision, "graph": g}).
		ok(http.StatusOK, &out)
	return out
}

func errorsOf(diags []engine.Diagnostic) []engine.Diagnostic {
	var out []engine.Diagnostic
	for _, d := range diags {
		if d.Severity == engine.SeverityError {
			out = append(out, d)
		}
	}
	return out
}

func TestCreateFromEachTemplateThenPublish(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		require.NotEmpty(t, playbooks.TemplateNames())
		for i, name := range playbooks.TemplateNames() {
			a := e.createAssistant(tn.builder, map[string]any{"name": fmt.Sprintf("Helper %d", i), "template": name})
			require.Equal(t, "draft", a.Status)
			require.Equal(t, 0, a.LatestVersion)
			require.Empty(t, a.Channels)

			tpl, err := playbooks.Template(name)
			require.NoError(t, err)
			d := e.draft(tn.builder, a.ID)
			require.Equal(t, int64(0), d.Revision)
			require.Equal(t, tpl.Start, d.Graph.Start, "template %s", name)
			require.Len(t, d.Graph.Nodes, len(tpl.Nodes))
			require.Empty(t, errorsOf(d.Diagnostics), "template %s", name)
			require.Equal(t, tpl.DefaultLanguage, a.DefaultLanguage)

			var v versionPublished
			e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions", nil).ok(http.StatusCreated, &v)
			require.Equal(t, 1, v.Number, "template %s", name)
			require.Equal(t, int64(0), v.DraftRevision)
			require.NotNil(t, v.Warnings)
		}
	})
}

func TestCreateStarterAssistant(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "  Ada  ", "default_language": "fr", "languages": []string{"en", "xx"}})
		require.Equal(t, "Ada", a.Name)
		require.Equal(t, "fr", a.DefaultLanguage)
		require.Equal(t, []string{"fr", "en", "xx"}, a.Languages)

		d := e.draft(tn.builder, a.ID)
		require.Equal(t, "greet", d.Graph.Start)
		require.Equal(t, "Bonjour ! Comment pouvons-nous vous aider ?", d.Graph.Nodes[0].Greet.Text["fr"])
		require.Empty(t, errorsOf(d.Diagnostics))
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions", nil).ok(http.StatusCreated, nil)

		// Read back, listed and alone.
		var got assistantView
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID, nil).ok(http.StatusOK, &got)
		require.Equal(t, 1, got.LatestVersion)
		require.Equal(t, "draft", got.Status, "published but on no channel")
		var list listAssistantsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants", nil).ok(http.StatusOK, &list.Body)
		require.Len(t, list.Body.Assistants, 1)
		require.Equal(t, got, list.Body.Assistants[0])

		// Unknown template and bad languages name their fields.
		p := e.do(tn.builder, http.MethodPost, "/api/v1/assistants", map[string]any{
			"name": "Bob", "template": "nope", "languages": []string{"en", "EN!"},
		}).problem(http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.template", "body.languages[1]"}, p.locations())
	})
}

func TestNamingRefusals(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		for _, name := range []string{"Zendesk Bot", "0penAI helper", "sh1t helper", "b.i.t.c.h", "Help\ndesk", "   ", strings.Repeat("x", 61)} {
			p := e.do(tn.builder, http.MethodPost, "/api/v1/assistants", map[string]any{"name": name}).
				problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.name"}, p.locations(), "name %q", name)
		}
		var list listAssistantsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants", nil).ok(http.StatusOK, &list.Body)
		require.Empty(t, list.Body.Assistants, "nothing stored")

		a := e.createAssistant(tn.builder, map[string]any{"name": "Scunthorpe Helper"})
		p := e.do(tn.builder, http.MethodPatch, "/api/v1/assistants/"+a.ID, map[string]any{"name": "ChatGPT"}).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.name"}, p.locations())
		require.Contains(t, p.Errors[0].Message, "ChatGPT")

		// The offensive word is not echoed back.
		res := e.do(tn.builder, http.MethodPatch, "/api/v1/assistants/"+a.ID, map[string]any{"name": "Shit Bot"})
		p = res.problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.name"}, p.locations())
		require.NotContains(t, strings.ToLower(string(res.body)), "shit")

		var renamed assistantView
		e.do(tn.builder, http.MethodPatch, "/api/v1/assistants/"+a.ID, map[string]any{"name": "Classic Assistant"}).ok(http.StatusOK, &renamed)
		require.Equal(t, "Classic Assistant", renamed.Name)
	})
}

func TestWorkspaceIDInBodyIsRefused(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		mine, theirs := e.tenant("mine"), e.tenant("theirs")

		p := e.do(mine.builder, http.MethodPost, "/api/v1/assistants", map[string]any{"name": "Ada", "workspace_id": theirs.ws}).
			problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.locations(), "body.workspace_id")
		var list listAssistantsOutput
		e.do(theirs.agent, http.MethodGet, "/api/v1/assistants", nil).ok(http.StatusOK, &list.Body)
		require.Empty(t, list.Body.Assistants)

		p = e.do(mine.admin, http.MethodPost, "/api/v1/channels", map[string]any{"name": "Site", "workspace_id": theirs.ws}).
			problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.locations(), "body.workspace_id")

		a := e.createAssistant(mine.builder, map[string]any{"name": "Ada"})
		p = e.do(mine.builder, http.MethodPatch, "/api/v1/assistants/"+a.ID, map[string]any{"name": "Bea", "workspace_id": theirs.ws}).
			problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.locations(), "body.workspace_id")

		// Other fields an attacker would like to set are refused the same way.
		d := e.draft(mine.builder, a.ID)
		p = e.do(mine.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/draft", map[string]any{
			"revision": d.Revision, "graph": d.Graph, "updated_by": "someone",
		}).problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.locations(), "body.updated_by")
	})
}

func TestDraftRevisionConflict(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		d := e.draft(tn.builder, a.ID)

		first := d.Graph
		first.Nodes[0].Greet.Text["en"] = "First editor"
		var saved draftSaved
		e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/draft", map[string]any{"revision": d.Revision, "graph": first}).
			ok(http.StatusOK, &saved)
		require.Equal(t, d.Revision+1, saved.Revision)
		require.Empty(t, errorsOf(saved.Diagnostics))

		second := e.draft(tn.builder, a.ID).Graph
		second.Nodes[0].Greet.Text["en"] = "Second editor"
		p := e.do(tn.admin, http.MethodPut, "/api/v1/assistants/"+a.ID+"/draft", map[string]any{"revision": d.Revision, "graph": second}).
			problem(http.StatusConflict)
		require.Equal(t, "conflict", p.Code)
		require.Equal(t, map[string]any{"revision": float64(saved.Revision)}, p.Current)

		now := e.draft(tn.builder, a.ID)
		require.Equal(t, saved.Revision, now.Revision)
		require.Equal(t, "First editor", now.Graph.Nodes[0].Greet.Text["en"], "the stale save wrote nothing")

		// Publishing a reviewed revision that is no longer the draft's is a
		// conflict too.
		p = e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions", map[string]any{"revision": d.Revision}).
			problem(http.StatusConflict)
		require.Equal(t, map[string]any{"revision": float64(saved.Revision)}, p.Current)
	})
}

func TestDraftSavesInvalidGraphsButNotOversizedOnes(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		put := func(rev int64, g engine.Graph) *routesResponse {
			return e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/draft", map[string]any{"revision": rev, "graph": g})
		}

		// Broken, but saved, with its diagnostics.
		broken := brokenGraph()
		var saved draftSaved
		put(0, broken).ok(http.StatusOK, &saved)
		require.NotEmpty(t, errorsOf(saved.Diagnostics))

		// Over the node limit: refused before the checks, naming the field.
		big := engine.Graph{Start: "n0", Nodes: make([]engine.Node, engine.DefaultLimits.MaxNodes+1), Edges: []engine.Edge{}}
		for i := range big.Nodes {
			big.Nodes[i] = engine.Node{ID: fmt.Sprintf("n%d", i), Kind: engine.KindEnd}
		}
		p := put(saved.Revision, big).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.graph.nodes"}, p.locations())

		long := e.draft(tn.builder, a.ID).Graph
		long.Edges[0].Condition = strings.Repeat("1 == 1 && ", 200) + "true"
		p = put(saved.Revision, long).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.graph.edges[0].condition"}, p.locations())
		require.Equal(t, saved.Revision, e.draft(tn.builder, a.ID).Revision, "nothing saved")

		// A graph of the wrong shape is refused by the schema.
		p = e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/draft",
			`{"revision": 1, "graph": {"start": "a", "nodes": [{"id": 1, "kind": "end"}], "edges": []}}`).
			problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.locations(), "body.graph.nodes[0].id")
	})
}

// brokenGraph has several errors at once: a condition that does not
// compile (with a position), a dangling edge, an unreachable node, and a
// dead end.
func brokenGraph() engine.Graph {
	return engine.Graph{
		DefaultLanguage: "en",
		Start:           "greet",
		Nodes: []engine.Node{
			{ID: "greet", Kind: engine.KindGreet, Greet: &engine.GreetConfig{Text: engine.Text{"en": "Hi"}, AwaitReply: true}},
			{ID: "info", Kind: engine.KindMessage, Message: &engine.MessageConfig{Text: engine.Text{"en": "Info"}}},
			{ID: "lost", Kind: engine.KindMessage, Message: &engine.MessageConfig{Text: engine.Text{"en": "Nobody comes here"}}},
			{ID: "end", Kind: engine.KindEnd},
		},
		Edges: []engine.Edge{
			{ID: "bad-condition", From: "greet", To: "end", Condition: `message.text ==`},
			{ID: "to-nowhere", From: "greet", To: "missing"},
			{ID: "to-info", From: "greet", To: "info"},
		},
	}
}

func TestPublishBrokenDraftReturnsEveryDiagnostic(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		g := brokenGraph()
		e.saveDraft(tn.builder, a.ID, g)

		p := e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions", nil).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, "check_failed", p.Code)

		// Exactly the engine's findings, errors and warnings alike.
		want := engine.Check(&g, engine.Options{})
		raw, err := json.Marshal(want)
		require.NoError(t, err)
		var wantJSON []map[string]any
		require.NoError(t, json.Unmarshal(raw, &wantJSON))
		require.Equal(t, wantJSON, p.Diagnostics)
		require.GreaterOrEqual(t, len(errorsOf(want)), 3)

		codes := map[string]map[string]any{}
		for _, d := range p.Diagnostics {
			codes[d["code"].(string)] = d
		}
		syntax := codes[engine.CodeConditionSyntax]
		require.NotNil(t, syntax, "%v", p.Diagnostics)
		require.Equal(t, "bad-condition", syntax["edge"])
		require.Equal(t, float64(1), syntax["line"])
		require.Positive(t, syntax["column"])
		require.Equal(t, "to-nowhere", codes[engine.CodeDanglingEdge]["edge"])
		require.Equal(t, "lost", codes[engine.CodeUnreachable]["node"])

		// Nothing was published.
		var vs listVersionsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions", nil).ok(http.StatusOK, &vs.Body)
		require.Empty(t, vs.Body.Versions)

		// The check endpoint says the same, split by severity.
		var res draftCheckResult
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/check", nil).ok(http.StatusOK, &res)
		require.Len(t, res.Errors, len(errorsOf(want)))
		require.Len(t, res.Warnings, len(want)-len(errorsOf(want)))

		// And it checks an unsaved graph without saving it.
		fixed := g
		fixed.Nodes = []engine.Node{g.Nodes[0], g.Nodes[3]}
		fixed.Edges = []engine.Edge{{ID: "ok", From: "greet", To: "end"}}
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/check", map[string]any{"graph": fixed}).ok(http.StatusOK, &res)
		require.Empty(t, res.Errors)
		require.Len(t, e.draft(tn.builder, a.ID).Graph.Nodes, 4)
	})
}

func TestExportAndImport(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada Lovelace", "template": "live-chat"})

		res := e.do(tn.builder, http.MethodGet, "/api/v1/assistants/"+a.ID+"/export", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, `attachment; filename=ada-lovelace.json`, res.header.Get("Content-Disposition"))
		require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"))
		f, err := playbooks.Decode(res.body)
		require.NoError(t, err)
		require.Equal(t, "Ada Lovelace", f.Name)
		tpl, err := playbooks.Template("live-chat")
		require.NoError(t, err)
		require.Equal(t, tpl.Graph, f.Graph)

		// Import a changed file over revision 0.
		f.Nodes[0].Label = "Imported"
		data, err := playbooks.Encode(f)
		require.NoError(t, err)
		var saved draftSaved
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/import?revision=0", data).ok(http.StatusOK, &saved)
		require.Equal(t, int64(1), saved.Revision)
		require.Empty(t, errorsOf(saved.Diagnostics))
		require.Equal(t, "Imported", e.draft(tn.builder, a.ID).Graph.Nodes[0].Label)

		// A stale revision, a broken file, an unknown field.
		p := e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/import?revision=0", data).problem(http.StatusConflict)
		require.Equal(t, map[string]any{"revision": float64(1)}, p.Current)

		p = e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/import?revision=1",
			"{\n  \"frontdesk_playbook\": 1,\n  \"name\": \"x\",\n  \"start\": ,\n}").problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.Detail, "line 4, column")
		require.Equal(t, []string{"body"}, p.locations())

		p = e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/import?revision=1",
			`{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [{"id": "a", "kind": "end", "colour": "red"}], "edges": []}`).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.nodes[0].colour"}, p.locations())
		require.Contains(t, p.Detail, "line 1, column")

		// The revision is required.
		p = e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/import", data).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.revision"}, p.locations())
		require.Equal(t, int64(1), e.draft(tn.builder, a.ID).Revision, "nothing imported")

		// A published version exports too.
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions", nil).ok(http.StatusCreated, nil)
		res = e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/export?version=1", nil)
		require.Equal(t, http.StatusForbidden, res.status, "the draft and exports are for builders")
		res = e.do(tn.builder, http.MethodGet, "/api/v1/assistants/"+a.ID+"/export?version=1", nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, `attachment; filename=ada-lovelace-v1.json`, res.header.Get("Content-Disposition"))
		e.do(tn.builder, http.MethodGet, "/api/v1/assistants/"+a.ID+"/export?version=9", nil).problem(http.StatusNotFound)
	})
}

func TestDeleteAssistant(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		e.do(tn.agent, http.MethodDelete, "/api/v1/assistants/"+a.ID, nil).problem(http.StatusForbidden)
		res := e.do(tn.builder, http.MethodDelete, "/api/v1/assistants/"+a.ID, nil)
		require.Equal(t, http.StatusNoContent, res.status)
		e.do(tn.builder, http.MethodGet, "/api/v1/assistants/"+a.ID, nil).problem(http.StatusNotFound)
		e.do(tn.builder, http.MethodDelete, "/api/v1/assistants/"+a.ID, nil).problem(http.StatusNotFound)
	})
}

func TestOversizedBodies(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		p := e.do(tn.builder, http.MethodPost, "/api/v1/assistants", `{"name": "`+strings.Repeat("a", 70<<10)+`"}`).
			problem(http.StatusRequestEntityTooLarge)
		require.Equal(t, "too_large", p.Code)

		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		huge := `{"revision": 0, "graph": {"start": "` + strings.Repeat("a", 5<<20) + `", "nodes": [], "edges": []}}`
		e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/draft", huge).problem(http.StatusRequestEntityTooLarge)
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/draft/import?revision=0", huge).problem(http.StatusRequestEntityTooLarge)
		e.do(tn.admin, http.MethodPost, "/api/v1/channels", `{"name": "`+strings.Repeat("a", 70<<10)+`"}`).problem(http.StatusRequestEntityTooLarge)
		require.Equal(t, int64(0), e.draft(tn.builder, a.ID).Revision)
	})
}

func TestAccessLevels(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		e.do("", http.MethodGet, "/api/v1/assistants", nil).problem(http.StatusUnauthorized)
		e.do("not-a-token", http.MethodGet, "/api/v1/assistants", nil).problem(http.StatusUnauthorized)

		// A plain agent reads but does not build.
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants", nil).ok(http.StatusOK, nil)
		e.do(tn.agent, http.MethodPost, "/api/v1/assistants", map[string]any{"name": "Ada"}).problem(http.StatusForbidden)
		// A builder builds, but does not manage channels; agents list the
		// conversations they may see (the visibility rule filters them).
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/draft", nil).problem(http.StatusForbidden)
		e.do(tn.agent, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions", nil).problem(http.StatusForbidden)
		e.do(tn.builder, http.MethodPost, "/api/v1/channels", map[string]any{"name": "Site"}).problem(http.StatusForbidden)
		e.do(tn.builder, http.MethodGet, "/api/v1/conversations", nil).ok(http.StatusOK, nil)
		e.do(tn.agent, http.MethodGet, "/api/v1/channels", nil).ok(http.StatusOK, nil)
		e.do(tn.owner, http.MethodPost, "/api/v1/channels", map[string]any{"name": "Site"}).ok(http.StatusCreated, nil)
		e.do(tn.admin, http.MethodGet, "/api/v1/conversations", nil).ok(http.StatusOK, nil)
	})
}

// The OpenAPI document builds with every operation of these routes, and
// each names its access level and error shapes.
func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	e := newRoutesEnv(t, storagetest.Open(t, storage.SQLite))
	res := e.do("", http.MethodGet, "/api/v1/openapi.json", nil)
	require.Equal(t, http.StatusOK, res.status)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                    `json:"operationId"`
			Security    []map[string][]string     `json:"security"`
			Responses   map[string]map[string]any `json:"responses"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(res.body, &doc))
	ops := map[string]bool{}
	for _, methods := range doc.Paths {
		for _, op := range methods {
			ops[op.OperationID] = true
			require.NotEmpty(t, op.Security, op.OperationID)
			require.Contains(t, op.Responses, "404", op.OperationID)
		}
	}
	for _, id := range []string{
		"createAssistant", "listAssistants", "getAssistant", "renameAssistant", "deleteAssistant",
		"getDraft", "saveDraft", "checkDraft", "exportAssistant", "importDraft",
		"publishVersion", "listVersions", "diffVersions", "getVersion", "rollbackVersion",
		"createChannel", "listChannels", "getChannel", "updateChannel", "connectAssistant", "disconnectAssistant",
		"generateIdentitySecret", "deleteIdentitySecret",
		"listConversations", "getConversation", "exportTranscript",
	} {
		require.True(t, ops[id], "operation %s is missing", id)
	}
}
