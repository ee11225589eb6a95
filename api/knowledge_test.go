package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/knowledge"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// newKnowledgeEnv is a server with the assistant and knowledge routes.
func newKnowledgeEnv(t *testing.T, s *storage.Store) *routesEnv {
	t.Helper()
	a := &bearerAuth{byToken: map[string]Principal{}}
	ans := knowledge.NewAnswerer(s, knowledge.Options{})
	t.Cleanup(ans.Close)
	cfg := config.Default()
	cfg.MaxBodyBytes = 8 << 20
	srv := New(Deps{Config: cfg, Store: s, Auth: a, Services: []Routes{
		&AssistantRoutes{Store: s},
		&KnowledgeRoutes{Store: s, Answerer: ans},
	}})
	return &routesEnv{t: t, store: s, srv: srv, auth: a}
}

// knowledgeFixture is a small valid knowledge base as a client sends it.
func knowledgeFixture(revision int64) map[string]any {
	return map[string]any{
		"revision":      revision,
		"language":      "en",
		"bio":           "I'm Sam, a web designer for small businesses.",
		"tone":          "Friendly.",
		"pricing_style": "assertive",
		"rules": map[string]any{
			"offer":                     []string{"Website design", "Landing pages"},
			"dont_offer":                []string{"Logo design"},
			"custom_offer_requirements": []string{"Deadline"},
			"decline":                   map[string]string{"en": "Sorry, I don't do that.", "fr": "Désolé, je ne fais pas ça."},
		},
		"faq": []map[string]any{
			{"key": "prices", "language": "en", "question": "What are your prices?", "variants": []string{"How much do you charge?"}, "answer": "From $400."},
			{"key": "prices", "language": "fr", "question": "Quels sont vos tarifs ?", "answer": "À partir de 400 $."},
			{"key": "delivery", "question": "How long does delivery take?", "answer": "Two weeks."},
			{"question": "Do you work with WordPress?", "answer": "Yes."},
		},
	}
}

func (e *routesEnv) knowledge(token, id string) knowledgeDoc {
	e.t.Helper()
	var d knowledgeDoc
	e.do(token, http.MethodGet, "/api/v1/assistants/"+id+"/knowledge", nil).ok(http.StatusOK, &d)
	return d
}

func TestKnowledgeStartsFromTheGuidanceThenSaves(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newKnowledgeEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada", "default_language": "fr", "languages": []string{"en"}})

		d := e.knowledge(tn.builder, a.ID)
		require.Equal(t, int64(0), d.Revision)
		require.True(t, d.Defaults)
		require.Nil(t, d.UpdatedAt)
		require.Equal(t, "fr", d.Language)
		require.Equal(t, knowledge.Defaults("fr", []string{"fr", "en"}), d.Base)

		// The GET response goes back as is: read-only fields are ignored.
		var saved knowledgeDoc
		e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/knowledge", d).ok(http.StatusOK, &saved)
		require.Equal(t, int64(1), saved.Revision)
		require.False(t, saved.Defaults)
		require.NotNil(t, saved.UpdatedAt)
		require.Equal(t, d.Base, saved.Base)

		// A second editor on revision 0 loses, and learns the revision.
		p := e.do(tn.admin, http.MethodPut, "/api/v1/assistants/"+a.ID+"/knowledge", knowledgeFixture(0)).problem(http.StatusConflict)
		require.Equal(t, float64(1), p.Current["revision"])
		require.Equal(t, d.Base, e.knowledge(tn.builder, a.ID).Base, "nothing saved")

		e.do(tn.admin, http.MethodPut, "/api/v1/assistants/"+a.ID+"/knowledge", knowledgeFixture(1)).ok(http.StatusOK, &saved)
		require.Equal(t, int64(2), saved.Revision)
		got := e.knowledge(tn.builder, a.ID)
		require.Equal(t, int64(2), got.Revision)
		require.Equal(t, knowledge.PricingAssertive, got.PricingStyle)
		require.Equal(t, "en", got.FAQ[2].Language, "an entry without a language takes the base's")
		require.Equal(t, "Sorry, I don't do that.", got.Rules.Decline["en"])
	})
}

func TestKnowledgeFieldErrors(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newKnowledgeEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		put := func(mut func(b map[string]any)) problemBody {
			t.Helper()
			b := knowledgeFixture(0)
			mut(b)
			return e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/knowledge", b).problem(http.StatusUnprocessableEntity)
		}
		faq := func(b map[string]any) []map[string]any { return b["faq"].([]map[string]any) }

		// Schema bounds, checked before the handler.
		p := put(func(b map[string]any) { faq(b)[3]["answer"] = strings.Repeat("a", knowledge.MaxAnswerChars+1) })
		require.Equal(t, []string{"body.faq[3].answer"}, p.locations())
		p = put(func(b map[string]any) { faq(b)[0]["variants"] = make([]string, knowledge.MaxVariants+1) })
		require.Equal(t, []string{"body.faq[0].variants"}, p.locations())
		p = put(func(b map[string]any) { b["pricing_style"] = "pushy" })
		require.Equal(t, []string{"body.pricing_style"}, p.locations())
		p = put(func(b map[string]any) { b["bio"] = strings.Repeat("é", knowledge.MaxBioChars+1) })
		require.Equal(t, []string{"body.bio"}, p.locations())
		p = put(func(b map[string]any) { b["workspace_id"] = "someone-else" })
		require.Contains(t, p.locations(), "body.workspace_id", "no mass assignment")

		// The document's own rules, all named at once.
		p = put(func(b map[string]any) {
			b["rules"].(map[string]any)["offer"] = []string{"Websites", "  "}
			faq(b)[2]["key"] = "prices"
			faq(b)[2]["language"] = "en"
			faq(b)[1]["question"] = "   "
			faq(b)[0]["variants"] = []string{"ok", strings.Repeat("v", knowledge.MaxQuestionChars+1)}
			b["rules"].(map[string]any)["decline"].(map[string]string)["de"] = "bad\x00byte"
		})
		require.Equal(t, []string{
			"body.rules.offer[1]", "body.rules.decline.de", "body.faq[0].variants[1]", "body.faq[1].question", "body.faq[2].key",
		}, p.locations())

		e.do(tn.builder, http.MethodPut, "/api/v1/assistants/"+a.ID+"/knowledge", knowledgeFixture(-1)).problem(http.StatusUnprocessableEntity)
		require.Equal(t, int64(0), e.knowledge(tn.builder, a.ID).Revision, "nothing was stored")
	})
}

func TestKnowledgeRestoreDefaults(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newKnowledgeEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada", "languages": []string{"es"}})
		url := "/api/v1/assistants/" + a.ID + "/knowledge"
		e.do(tn.builder, http.MethodPut, url, knowledgeFixture(0)).ok(http.StatusOK, nil)

		// Only the FAQ: the bio and rules stay.
		var d knowledgeDoc
		e.do(tn.builder, http.MethodPost, url+"/restore-defaults", map[string]any{"sections": []string{"faq"}}).ok(http.StatusOK, &d)
		require.Equal(t, int64(2), d.Revision)
		require.Equal(t, "I'm Sam, a web designer for small businesses.", d.Bio)
		require.Equal(t, knowledge.Defaults("en", []string{"en", "es"}).FAQ, d.FAQ, "the guidance in English and Spanish")

		// Everything, in German, with no body revision needed.
		e.do(tn.builder, http.MethodPost, url+"/restore-defaults", map[string]any{"language": "de"}).ok(http.StatusOK, &d)
		require.Equal(t, int64(3), d.Revision)
		require.Equal(t, "de", d.Language)
		require.Equal(t, knowledge.Defaults("de", []string{"en", "es"}), d.Base)
		require.Equal(t, d.Base, e.knowledge(tn.builder, a.ID).Base)

		// No body at all restores everything in the default language.
		e.do(tn.builder, http.MethodPost, url+"/restore-defaults", nil).ok(http.StatusOK, &d)
		require.Equal(t, int64(4), d.Revision)
		require.Equal(t, "en", d.Language)

		p := e.do(tn.builder, http.MethodPost, url+"/restore-defaults", map[string]any{"sections": []string{"faq", "everything"}, "language": "EN!"}).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.sections[1]", "body.language"}, p.locations())
	})
}

func TestKnowledgePreview(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newKnowledgeEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		url := "/api/v1/assistants/" + a.ID + "/knowledge"
		ask := func(body map[string]any) knowledgePreviewView {
			t.Helper()
			var v knowledgePreviewView
			e.do(tn.builder, http.MethodPost, url+"/preview", body).ok(http.StatusOK, &v)
			return v
		}
		// The pre-filled guidance answers before anything is saved.
		v := ask(map[string]any{"question": "How much do you charge?"})
		require.Equal(t, int64(0), v.Revision)
		require.True(t, v.Matched)
		require.Equal(t, "faq", v.Reason)
		require.InDelta(t, 1.0, v.Confidence, 1e-9)
		require.Equal(t, knowledge.DefaultThreshold, v.Threshold)

		e.do(tn.builder, http.MethodPut, url, knowledgeFixture(0)).ok(http.StatusOK, nil)
		v = ask(map[string]any{"question": "What's your pricing?", "language": "fr"})
		require.Equal(t, int64(1), v.Revision, "the new revision is used at once")
		require.Equal(t, "À partir de 400 $.", v.Text, "in the visitor's language")
		require.NotEmpty(t, v.Hits)
		require.Equal(t, "What are your prices?", v.Hits[0].Label)

		v = ask(map[string]any{"question": "Can you design my logo?", "language": "fr"})
		require.Equal(t, "out_of_scope", v.Reason)
		require.Equal(t, "Désolé, je ne fais pas ça.", v.Text)
		require.Equal(t, "Logo design", v.Hits[0].Label)

		v = ask(map[string]any{"question": "Do you make landing pages?", "mode": "llm"})
		require.Equal(t, "passage", v.Reason)
		v = ask(map[string]any{"question": "Do you make landing pages?"})
		require.Equal(t, "low_confidence", v.Reason)
		require.False(t, v.Handover, "a faq node takes not_matched")
		v = ask(map[string]any{"question": "Is it sunny in Paris?", "mode": "llm"})
		require.True(t, v.Handover)

		p := e.do(tn.builder, http.MethodPost, url+"/preview", map[string]any{"question": "", "mode": "magic"}).problem(http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.question", "body.mode"}, p.locations())
	})
}

func TestKnowledgeTenantsAndRoles(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newKnowledgeEnv(t, s)
		mine, theirs := e.tenant("mine"), e.tenant("theirs")
		a := e.createAssistant(mine.builder, map[string]any{"name": "Ada"})
		url := "/api/v1/assistants/" + a.ID + "/knowledge"
		e.do(mine.builder, http.MethodPut, url, knowledgeFixture(0)).ok(http.StatusOK, nil)

		// Another tenant's builder and owner find nothing, and change nothing.
		for _, tok := range []string{theirs.builder, theirs.owner} {
			e.do(tok, http.MethodGet, url, nil).problem(http.StatusNotFound)
			e.do(tok, http.MethodPut, url, knowledgeFixture(1)).problem(http.StatusNotFound)
			e.do(tok, http.MethodPut, url, knowledgeFixture(0)).problem(http.StatusNotFound)
			e.do(tok, http.MethodPost, url+"/restore-defaults", nil).problem(http.StatusNotFound)
			e.do(tok, http.MethodPost, url+"/preview", map[string]any{"question": "What are your prices?"}).problem(http.StatusNotFound)
		}
		e.do(theirs.builder, http.MethodGet, "/api/v1/assistants/no-such-id/knowledge", nil).problem(http.StatusNotFound)
		// A plain agent may not build; strangers must sign in.
		e.do(mine.agent, http.MethodGet, url, nil).problem(http.StatusForbidden)
		e.do(mine.agent, http.MethodPut, url, knowledgeFixture(1)).problem(http.StatusForbidden)
		e.do("", http.MethodGet, url, nil).problem(http.StatusUnauthorized)

		// Every route of the group, walked from the router: strangers get
		// 401, weaker roles 403.
		n := 0
		for path, item := range e.srv.API().OpenAPI().Paths {
			if !strings.Contains(path, "/knowledge") && !strings.Contains(path, "/answerer-settings") {
				continue
			}
			for method, op := range authTestOperations(item) {
				n++
				u := strings.NewReplacer("{id}", a.ID).Replace(path)
				e.do("", method, u, map[string]any{}).problem(http.StatusUnauthorized)
				switch AccessOf(op) {
				case AccessBuilder:
					e.do(mine.agent, method, u, map[string]any{}).problem(http.StatusForbidden)
				case AccessAdmin:
					e.do(mine.builder, method, u, map[string]any{}).problem(http.StatusForbidden)
				default:
					t.Fatalf("%s %s: unexpected access %s", method, path, AccessOf(op))
				}
			}
		}
		require.Equal(t, 6, n)

		got := e.knowledge(mine.builder, a.ID)
		require.Equal(t, int64(1), got.Revision)
		require.Equal(t, "I'm Sam, a web designer for small businesses.", got.Bio)
	})
}

func TestAnswererSettingsRoutes(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newKnowledgeEnv(t, s)
		mine, theirs := e.tenant("mine"), e.tenant("theirs")
		const url = "/api/v1/answerer-settings"
		const key = "sk-proj-abcdefghijklmnopqrstuvwxyz"

		var v knowledgeSettingsView
		e.do(mine.builder, http.MethodGet, url, nil).ok(http.StatusOK, &v)
		require.Equal(t, knowledgeSettingsView{Mode: "builtin", MaxTokens: 400, TimeoutMS: 15000, ConfidenceThreshold: 0.5, HandoverTool: true}, v)

		body := map[string]any{"mode": "openai", "base_url": "http://127.0.0.1:11434/v1", "model": "llama3.2", "api_key": key,
			"confidence_threshold": 0.6, "stream": true}
		e.do(mine.builder, http.MethodPut, url, body).problem(http.StatusForbidden)
		res := e.do(mine.admin, http.MethodPut, url, body).ok(http.StatusOK, &v)
		require.NotContains(t, string(res.body), key[4:], "the key never comes back")
		require.Equal(t, "openai", v.Mode)
		require.Equal(t, "••••wxyz", v.APIKeyHint)
		require.True(t, v.HasAPIKey)
		require.InDelta(t, 0.6, v.ConfidenceThreshold, 1e-9)
		require.True(t, v.Stream)
		require.NotNil(t, v.UpdatedAt)
		res = e.do(mine.builder, http.MethodGet, url, nil).ok(http.StatusOK, &v)
		require.NotContains(t, string(res.body), key[4:])

		// Without api_key the key is kept...
		delete(body, "api_key")
		body["max_tokens"] = 200
		e.do(mine.admin, http.MethodPut, url, body).ok(http.StatusOK, &v)
		require.True(t, v.HasAPIKey)
		require.Equal(t, 200, v.MaxTokens)
		// ...but not sent to another endpoint it was not given for.
		body["base_url"] = "https://attacker.example/v1"
		p := e.do(mine.admin, http.MethodPut, url, body).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.api_key"}, p.locations())
		body["api_key"] = ""
		e.do(mine.admin, http.MethodPut, url, body).ok(http.StatusOK, &v)
		require.False(t, v.HasAPIKey, "an empty key removes it")
		row, err := s.GetAnswererSettings(t.Context(), mine.ws)
		require.NoError(t, err)
		require.Empty(t, row.APIKey)

		// Field errors.
		p = e.do(mine.admin, http.MethodPut, url, map[string]any{"mode": "openai", "base_url": "ftp://x"}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.base_url", "body.model"}, p.locations())
		p = e.do(mine.admin, http.MethodPut, url, map[string]any{"mode": "gpt", "confidence_threshold": 2}).problem(http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.mode", "body.confidence_threshold"}, p.locations())

		// The other tenant has its own settings.
		e.do(theirs.admin, http.MethodGet, url, nil).ok(http.StatusOK, &v)
		require.Equal(t, "builtin", v.Mode)
		require.False(t, v.HasAPIKey)
	})
}
