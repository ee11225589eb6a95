package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/knowledge"
	"github.com/frontdesk/frontdesk/storage"
)

// knowledgeBodyBytes bounds a knowledge base body: the storage backstop,
// which the field bounds keep a full base under.
const knowledgeBodyBytes = storage.MaxKnowledgeBytes

// KnowledgeRoutes serves assistants' knowledge bases, the built-in
// answerer's preview, and the workspace's answerer settings.
//
// Every knowledge route needs a builder (an admin, or an agent with
// "manage assistants") and is scoped by the caller's workspace: another
// workspace's assistant is not found. Changing the answerer settings needs
// an admin: they hold a credential, and their base URL decides where
// visitors' questions are sent, internal addresses included (a local
// model server is the usual self-hosted case).
type KnowledgeRoutes struct {
	// Store is the database.
	Store *storage.Store
	// Answerer is the runtime's answerer; the preview route uses its
	// index cache, so it answers exactly as conversations are answered.
	Answerer *knowledge.Answerer
}

// Register adds the operations to api.
func (r *KnowledgeRoutes) Register(api huma.API) {
	op := knowledgeOp("getKnowledge", http.MethodGet, "/api/v1/assistants/{id}/knowledge", "Get an assistant's knowledge base", AccessBuilder, 0)
	op.Description = "Returns the knowledge base with its revision. Until it is first saved it is the pre-filled guidance " +
		"in the assistant's languages, at revision 0, with defaults set."
	huma.Register(api, op, r.get)

	op = knowledgeOp("saveKnowledge", http.MethodPut, "/api/v1/assistants/{id}/knowledge", "Save an assistant's knowledge base", AccessBuilder, knowledgeBodyBytes)
	op.Description = "Replaces the knowledge base if its revision is still the one given (0 for one never saved), and returns it at its new revision. " +
		"A stale revision gets 409 with current.revision, and nothing is saved. A fault gets 422 naming the field, such as body.faq[3].answer. " +
		"The response of GET can be sent back as is: defaults and updated_at are ignored."
	op.Errors = append(op.Errors, http.StatusConflict)
	huma.Register(api, op, r.save)

	op = knowledgeOp("restoreKnowledgeDefaults", http.MethodPost, "/api/v1/assistants/{id}/knowledge/restore-defaults",
		"Restore the pre-filled guidance", AccessBuilder, routeSmallBodyBytes)
	op.Description = "Resets the knowledge base, or only the sections named, to the product's pre-filled guidance " +
		"(English, French, Spanish and German; FAQ entries in each of the assistant's languages among them), " +
		"and returns it at its new revision. A full reset needs no revision; a partial one keeps the other sections " +
		"and gets 409 if the base changed while it ran."
	op.Errors = append(op.Errors, http.StatusConflict)
	huma.Register(api, op, r.restore)

	op = knowledgeOp("previewKnowledgeAnswer", http.MethodPost, "/api/v1/assistants/{id}/knowledge/preview",
		"Try the built-in answerer", AccessBuilder, routeSmallBodyBytes)
	op.Description = "Answers a question with the built-in answerer against the saved knowledge base, as a faq or llm_answer node would " +
		"(no model is called), and shows every scored candidate with its confidence, to tune the entries and the threshold."
	huma.Register(api, op, r.preview)

	op = knowledgeOp("getAnswererSettings", http.MethodGet, "/api/v1/answerer-settings", "Get the answerer settings", AccessBuilder, 0)
	op.Description = "Returns which answerer the workspace's llm_answer nodes use. The API key is never returned: api_key_hint shows its last characters."
	huma.Register(api, op, r.getSettings)

	op = knowledgeOp("saveAnswererSettings", http.MethodPut, "/api/v1/answerer-settings", "Save the answerer settings", AccessAdmin, routeSmallBodyBytes)
	op.Description = "Replaces the answerer settings. api_key is write-only: absent keeps the stored key, an empty string removes it. " +
		"Changing base_url while a key is stored needs the key again (or an empty one), so a key is never sent to an endpoint it was not given for."
	huma.Register(api, op, r.saveSettings)
}

// knowledgeOp is Operation with the body bound and error statuses of the
// knowledge routes.
func knowledgeOp(id, method, path, summary, access string, maxBody int64) huma.Operation {
	op := Operation(id, method, path, summary, access, "Knowledge")
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusUnprocessableEntity)
	if maxBody > 0 {
		op.MaxBodyBytes = maxBody
		op.Errors = append(op.Errors, http.StatusRequestEntityTooLarge)
	}
	return op
}

// knowledgeDoc is a knowledge base as the API shows and takes it.
type knowledgeDoc struct {
	Revision int64 `json:"revision" minimum:"0" doc:"Send it back when saving; it goes up by one on every change."`
	// Defaults and UpdatedAt are read-only: a client may send a GET
	// response back as is.
	Defaults  bool       `json:"defaults,omitempty" readOnly:"true" doc:"Set while the knowledge base was never saved: it is the pre-filled guidance."`
	UpdatedAt *time.Time `json:"updated_at,omitempty" readOnly:"true"`
	knowledge.Base
}

type knowledgeOutput struct {
	Body knowledgeDoc
}

func knowledgeDocOf(st *knowledge.Stored) knowledgeDoc {
	d := knowledgeDoc{Revision: st.Revision, Defaults: st.Revision == 0, Base: st.Base}
	if !st.UpdatedAt.IsZero() {
		t := st.UpdatedAt
		d.UpdatedAt = &t
	}
	return d
}

func (r *KnowledgeRoutes) get(ctx context.Context, in *assistantPath) (*knowledgeOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	st, err := knowledge.Load(ctx, r.Store, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	return &knowledgeOutput{Body: knowledgeDocOf(st)}, nil
}

type knowledgeSaveInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body knowledgeDoc
}

func (r *KnowledgeRoutes) save(ctx context.Context, in *knowledgeSaveInput) (*knowledgeOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.Store.GetAssistant(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	b := in.Body.Base
	b.Normalize(a.DefaultLanguage)
	if prob := knowledgeProblem("the knowledge base cannot be saved", b.Validate()); prob != nil {
		return nil, prob
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	k, err := r.Store.SaveKnowledge(ctx, p.WorkspaceID, a.ID, in.Body.Revision, raw, p.UserID)
	if err != nil {
		return nil, knowledgeError(err)
	}
	return &knowledgeOutput{Body: knowledgeDocOf(&knowledge.Stored{Base: b, Revision: k.Revision, UpdatedAt: k.UpdatedAt})}, nil
}

// knowledgeProblem is a 422 naming each fault under body.
func knowledgeProblem(detail string, faults []knowledge.FieldError) *Problem {
	if len(faults) == 0 {
		return nil
	}
	details := make([]*huma.ErrorDetail, 0, len(faults))
	for _, f := range faults {
		details = append(details, fieldError("body."+f.Path, f.Message, f.Value))
	}
	return invalid(detail, details...)
}

// knowledgeError is storeError, except that a lost compare-and-set reports
// the current revision as current.revision, as drafts do.
func knowledgeError(err error) error {
	var ce *storage.ConflictError
	if errors.As(err, &ce) {
		p := problem(http.StatusConflict, "conflict",
			fmt.Sprintf("the knowledge base was changed by someone else: it is at revision %d, not %d; reload it and apply your changes again", ce.Current, ce.Expected))
		p.Current = map[string]any{"revision": ce.Current}
		return p
	}
	return storeError(err, "assistant")
}

type knowledgeRestoreInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body *struct {
		Sections []string `json:"sections,omitempty" maxItems:"4" uniqueItems:"true" doc:"The sections to reset: bio (bio and tone), rules, pricing, faq. Absent or empty: all of them."`
		Language string   `json:"language,omitempty" maxLength:"16" doc:"The language of the guidance for the bio, tone and rules. Defaults to the assistant's default language."`
	} `required:"false"`
}

func (r *KnowledgeRoutes) restore(ctx context.Context, in *knowledgeRestoreInput) (*knowledgeOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.Store.GetAssistant(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	lang := a.DefaultLanguage
	var sections []string
	if in.Body != nil {
		var faults []*huma.ErrorDetail
		for i, s := range in.Body.Sections {
			if !slices.Contains(knowledge.Sections, s) {
				faults = append(faults, fieldError(fmt.Sprintf("body.sections[%d]", i), "expected one of "+strings.Join(knowledge.Sections, ", "), s))
			}
		}
		if l := strings.ToLower(in.Body.Language); l != "" {
			if !knowledge.ValidLanguage(l) {
				faults = append(faults, fieldError("body.language", "expected a language code such as en or pt-br", in.Body.Language))
			}
			lang = l
		}
		if len(faults) > 0 {
			return nil, invalid("the defaults cannot be restored", faults...)
		}
		sections = in.Body.Sections
	}
	cur, err := knowledge.Load(ctx, r.Store, p.WorkspaceID, a.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	b := knowledge.RestoreDefaults(cur.Base, lang, a.Languages, sections)
	if prob := knowledgeProblem("the restored knowledge base is not valid", b.Validate()); prob != nil {
		// The guidance is valid; only kept sections can be at fault, if
		// an older release stored them.
		return nil, prob
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	var k *storage.Knowledge
	if len(sections) == 0 {
		// Everything is replaced: nothing read can be stale.
		k, err = r.Store.ReplaceKnowledge(ctx, p.WorkspaceID, a.ID, raw, p.UserID)
	} else {
		// The other sections were read above; a save in between would be
		// overwritten with them, so this is a compare-and-set.
		k, err = r.Store.SaveKnowledge(ctx, p.WorkspaceID, a.ID, cur.Revision, raw, p.UserID)
	}
	if err != nil {
		return nil, knowledgeError(err)
	}
	return &knowledgeOutput{Body: knowledgeDocOf(&knowledge.Stored{Base: b, Revision: k.Revision, UpdatedAt: k.UpdatedAt})}, nil
}

type knowledgePreviewInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body struct {
		Question string `json:"question" minLength:"1" maxLength:"1000" doc:"The visitor's question."`
		Language string `json:"language,omitempty" maxLength:"16" doc:"The visitor's language. Defaults to the assistant's default language."`
		Mode     string `json:"mode,omitempty" enum:"faq,llm" doc:"Answer as a faq node (FAQ only) or as an llm_answer node with the built-in answerer (FAQ and passages). Defaults to faq."`
	}
}

// knowledgePreviewHit is one scored candidate, with what it is.
type knowledgePreviewHit struct {
	knowledge.Hit
	// Label is the FAQ entry's question, or the rule or passage matched.
	Label string `json:"label"`
}

type knowledgePreviewView struct {
	Revision  int64   `json:"revision" doc:"The knowledge base revision the answer comes from."`
	Threshold float64 `json:"threshold" doc:"The workspace's confidence threshold."`
	Matched   bool    `json:"matched"`
	Handover  bool    `json:"handover"`
	Text      string  `json:"text,omitempty" doc:"What the visitor would read."`
	// Reason is faq, passage, out_of_scope or low_confidence.
	Reason     string                `json:"reason" enum:"faq,passage,out_of_scope,low_confidence"`
	Confidence float64               `json:"confidence" doc:"The confidence of the hit the answer rests on; 0 when none."`
	Language   string                `json:"language,omitempty" doc:"The language of text."`
	Hits       []knowledgePreviewHit `json:"hits" doc:"Every scored candidate, best first."`
}

type knowledgePreviewOutput struct {
	Body knowledgePreviewView
}

func (r *KnowledgeRoutes) preview(ctx context.Context, in *knowledgePreviewInput) (*knowledgePreviewOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	a, err := r.Store.GetAssistant(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	lang := strings.ToLower(in.Body.Language)
	if lang == "" {
		lang = a.DefaultLanguage
	} else if !knowledge.ValidLanguage(lang) {
		return nil, invalid("the question cannot be answered", fieldError("body.language", "expected a language code such as en or pt-br", in.Body.Language))
	}
	mode := engine.AnswerFAQ
	if in.Body.Mode == string(engine.AnswerLLM) {
		mode = engine.AnswerLLM
	}
	head, err := r.Store.GetKnowledgeHead(ctx, p.WorkspaceID, a.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	ix, err := r.Answerer.Index(ctx, p.WorkspaceID, a.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	s, err := r.Answerer.Settings(ctx, p.WorkspaceID)
	if err != nil {
		return nil, storeError(err, "answerer settings")
	}
	d := ix.Decide(in.Body.Question, lang, mode, s.Threshold)
	v := knowledgePreviewView{
		Revision: head.Revision, Threshold: s.Threshold, Matched: d.Answer.Matched, Handover: d.Answer.Handover,
		Text: d.Answer.Text, Reason: string(d.Reason), Language: d.Language, Hits: []knowledgePreviewHit{},
	}
	if d.Hit != nil {
		v.Confidence = d.Hit.Confidence
	}
	base := ix.Base()
	for _, h := range d.Result.Hits {
		v.Hits = append(v.Hits, knowledgePreviewHit{Hit: h, Label: knowledgeHitLabel(base, h)})
	}
	return &knowledgePreviewOutput{Body: v}, nil
}

// knowledgeHitLabel names what a hit matched, for the builder to show.
func knowledgeHitLabel(b knowledge.Base, h knowledge.Hit) string {
	item := func(list []string) string {
		if h.Index >= 0 && h.Index < len(list) {
			return list[h.Index]
		}
		return ""
	}
	switch h.Kind {
	case knowledge.KindFAQ:
		if h.Index >= 0 && h.Index < len(b.FAQ) {
			return b.FAQ[h.Index].Question
		}
	case knowledge.KindOffer:
		return item(b.Rules.Offer)
	case knowledge.KindDontOffer:
		return item(b.Rules.DontOffer)
	case knowledge.KindCustomOffer:
		return "custom offer"
	case knowledge.KindBio:
		return "bio"
	}
	return ""
}

// knowledgeSettingsView is the answerer settings as the API shows them.
type knowledgeSettingsView struct {
	Mode    string `json:"mode" enum:"builtin,openai" doc:"builtin answers offline from the knowledge base; openai asks an OpenAI-compatible chat completions endpoint."`
	BaseURL string `json:"base_url" doc:"The endpoint's base URL, such as https://api.openai.com/v1 or http://127.0.0.1:11434/v1 (Ollama)."`
	Model   string `json:"model"`
	// APIKeyHint shows the end of the key; the key itself never leaves.
	APIKeyHint          string     `json:"api_key_hint" doc:"The last characters of the stored API key, masked; empty when there is none."`
	HasAPIKey           bool       `json:"has_api_key"`
	MaxTokens           int        `json:"max_tokens"`
	TimeoutMS           int        `json:"timeout_ms"`
	ConfidenceThreshold float64    `json:"confidence_threshold" doc:"The built-in answerer's confidence threshold, from 0 to 1."`
	Stream              bool       `json:"stream"`
	HandoverTool        bool       `json:"handover_tool"`
	UpdatedAt           *time.Time `json:"updated_at,omitempty"`
}

type knowledgeSettingsOutput struct {
	Body knowledgeSettingsView
}

func knowledgeSettings(s knowledge.Settings, updated time.Time) knowledgeSettingsView {
	v := knowledgeSettingsView{
		Mode: string(s.Mode), BaseURL: s.BaseURL, Model: s.Model, APIKeyHint: knowledge.MaskKey(s.APIKey), HasAPIKey: s.APIKey != "",
		MaxTokens: s.MaxTokens, TimeoutMS: int(s.Timeout.Milliseconds()), ConfidenceThreshold: s.Threshold,
		Stream: s.Stream, HandoverTool: s.HandoverTool,
	}
	if !updated.IsZero() {
		v.UpdatedAt = &updated
	}
	return v
}

func (r *KnowledgeRoutes) getSettings(ctx context.Context, _ *struct{}) (*knowledgeSettingsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	row, err := r.Store.GetAnswererSettings(ctx, p.WorkspaceID)
	if errors.Is(err, storage.ErrNotFound) {
		return &knowledgeSettingsOutput{Body: knowledgeSettings(knowledge.DefaultSettings(), time.Time{})}, nil
	}
	if err != nil {
		return nil, storeError(err, "answerer settings")
	}
	return &knowledgeSettingsOutput{Body: knowledgeSettings(knowledge.SettingsFromStore(row), row.UpdatedAt)}, nil
}

type knowledgeSaveSettingsInput struct {
	Body struct {
		Mode    string `json:"mode" enum:"builtin,openai"`
		BaseURL string `json:"base_url,omitempty" maxLength:"2048" doc:"Required with mode openai."`
		Model   string `json:"model,omitempty" maxLength:"200" doc:"Required with mode openai."`
		// APIKey is a pointer: absent keeps the stored key.
		APIKey              *string  `json:"api_key,omitempty" maxLength:"4096" writeOnly:"true" doc:"Absent: keep the stored key. Empty: remove it."`
		MaxTokens           int      `json:"max_tokens,omitempty" minimum:"0" maximum:"4096" doc:"Bounds a reply. Defaults to 400."`
		TimeoutMS           int      `json:"timeout_ms,omitempty" minimum:"0" maximum:"60000" doc:"Bounds one call. Defaults to 15000; conversations also stop waiting after 20000."`
		ConfidenceThreshold *float64 `json:"confidence_threshold,omitempty" minimum:"0" maximum:"1" doc:"Defaults to 0.5."`
		Stream              bool     `json:"stream,omitempty" doc:"Ask for a server-sent event stream."`
		HandoverTool        *bool    `json:"handover_tool,omitempty" doc:"Offer the model a handover tool. Defaults to true; turn it off for servers that refuse tools (the HANDOVER sentinel still works)."`
	}
}

func (r *KnowledgeRoutes) saveSettings(ctx context.Context, in *knowledgeSaveSettingsInput) (*knowledgeSettingsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	cur := knowledge.DefaultSettings()
	row, err := r.Store.GetAnswererSettings(ctx, p.WorkspaceID)
	switch {
	case err == nil:
		cur = knowledge.SettingsFromStore(row)
	case !errors.Is(err, storage.ErrNotFound):
		return nil, storeError(err, "answerer settings")
	}
	b := in.Body
	s := knowledge.DefaultSettings()
	s.Mode, s.BaseURL, s.Model, s.Stream = knowledge.Mode(b.Mode), strings.TrimSpace(b.BaseURL), strings.TrimSpace(b.Model), b.Stream
	if b.MaxTokens > 0 {
		s.MaxTokens = b.MaxTokens
	}
	if b.TimeoutMS > 0 {
		s.Timeout = time.Duration(b.TimeoutMS) * time.Millisecond
	}
	if b.ConfidenceThreshold != nil {
		s.Threshold = *b.ConfidenceThreshold
	}
	if b.HandoverTool != nil {
		s.HandoverTool = *b.HandoverTool
	}
	switch {
	case b.APIKey != nil:
		s.APIKey = strings.TrimSpace(*b.APIKey)
	case cur.APIKey != "" && s.BaseURL != cur.BaseURL:
		return nil, invalid("the answerer settings cannot be saved", fieldError("body.api_key",
			"the base URL changed: send the API key for the new endpoint again, or an empty one to remove it", nil))
	default:
		s.APIKey = cur.APIKey
	}
	if prob := knowledgeProblem("the answerer settings cannot be saved", s.Validate()); prob != nil {
		return nil, prob
	}
	next := s.Store()
	next.UpdatedBy = p.UserID
	saved, err := r.Store.SaveAnswererSettings(ctx, p.WorkspaceID, next)
	if err != nil {
		return nil, storeError(err, "answerer settings")
	}
	return &knowledgeSettingsOutput{Body: knowledgeSettings(knowledge.SettingsFromStore(saved), saved.UpdatedAt)}, nil
}
