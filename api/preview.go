package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
)

// PreviewRoutes are the builder's test bench: preview chats on the draft,
// transcript tests saved from them and replayed before publishing, and the
// assistant's runtime settings.
type PreviewRoutes struct {
	Store *storage.Store
	Chat  *chat.Service
}

var _ Routes = (*PreviewRoutes)(nil)

// PreviewWait bounds how long a preview request waits for the bot's slow
// work (an answer, an HTTP call) to come back, so the response shows it.
const PreviewWait = 5 * time.Second

// PreviewView is a preview chat as the builder shows it: the messages, and
// the node path and variables as they go.
type PreviewView struct {
	ConversationID string                    `json:"conversation_id"`
	DraftRevision  int64                     `json:"draft_revision"`
	Status         string                    `json:"status"`
	Node           string                    `json:"node,omitempty"`
	Waiting        string                    `json:"waiting,omitempty"`
	Path           []string                  `json:"path"`
	Vars           map[string]any            `json:"vars"`
	Language       string                    `json:"language,omitempty"`
	Messages       []conversationMessageView `json:"messages" doc:"Every message so far, oldest first."`
}

type previewStartInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body struct {
		Locale  string         `json:"locale,omitempty" maxLength:"35"`
		IsNew   *bool          `json:"is_new,omitempty" doc:"Play a new visitor (default) or a returning one."`
		PageURL string         `json:"page_url,omitempty" maxLength:"2048"`
		Vars    map[string]any `json:"vars,omitempty" maxProperties:"32"`
	}
}

type previewOutput struct {
	Body PreviewView
}

type previewPath struct {
	ID             string `path:"id" maxLength:"64"`
	ConversationID string `path:"conversation" maxLength:"64"`
}

type previewSayInput struct {
	ID             string `path:"id" maxLength:"64"`
	ConversationID string `path:"conversation" maxLength:"64"`
	Body           struct {
		Text string `json:"text" minLength:"1" maxLength:"4000"`
	}
}

type saveTranscriptInput struct {
	ID             string `path:"id" maxLength:"64"`
	ConversationID string `path:"conversation" maxLength:"64"`
	Body           struct {
		Name string `json:"name" minLength:"1" maxLength:"200"`
	}
}

// TranscriptView is a saved transcript test.
type TranscriptView struct {
	ID         string                `json:"id"`
	Name       string                `json:"name"`
	CreatedAt  time.Time             `json:"created_at"`
	Transcript *playbooks.Transcript `json:"transcript,omitempty"`
}

type transcriptOutput struct {
	Body TranscriptView
}

type transcriptsOutput struct {
	Body struct {
		Transcripts []TranscriptView `json:"transcripts"`
	}
}

type transcriptPath struct {
	ID           string `path:"id" maxLength:"64"`
	TranscriptID string `path:"transcript" maxLength:"64"`
}

// ReplayResult is one transcript test replayed against the draft.
type ReplayResult struct {
	ID          string                 `json:"id"`
	Name        string                 `json:"name"`
	OK          bool                   `json:"ok"`
	Differences []playbooks.Difference `json:"differences,omitempty"`
	Error       string                 `json:"error,omitempty"`
}

type replayOutput struct {
	Body struct {
		DraftRevision int64          `json:"draft_revision"`
		Changed       int            `json:"changed" doc:"How many transcripts' messages or path changed."`
		Results       []ReplayResult `json:"results"`
	}
}

type settingsInput struct {
	ID   string `path:"id" maxLength:"64"`
	Body chat.AssistantSettings
}

type settingsOutput struct {
	Body chat.AssistantSettings
}

// Register adds the operations to api.
func (r *PreviewRoutes) Register(api huma.API) {
	op := Operation("startPreview", http.MethodPost, "/api/v1/assistants/{id}/preview", "Start a preview chat on the draft", AccessBuilder, "preview")
	op.Description = "Runs the draft (never a published version) on the real runtime. Only its owner sees it; it never counts in analytics. When the draft is saved, the preview must restart (409 preview_restart)."
	op.MaxBodyBytes = 64 << 10
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.start)

	op = Operation("getPreview", http.MethodGet, "/api/v1/assistants/{id}/preview/{conversation}", "Get a preview chat", AccessBuilder, "preview")
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.get)
	op = Operation("sayInPreview", http.MethodPost, "/api/v1/assistants/{id}/preview/{conversation}/messages", "Say something in a preview chat", AccessBuilder, "preview")
	op.MaxBodyBytes = 16 << 10
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusConflict)
	huma.Register(api, op, r.say)
	op = Operation("skipPreviewTimers", http.MethodPost, "/api/v1/assistants/{id}/preview/{conversation}/skip", "Skip a preview's timers", AccessBuilder, "preview")
	op.Description = "Fires the pending timers now: a handover wait ends at once."
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusConflict)
	huma.Register(api, op, r.skip)

	op = Operation("saveTranscriptTest", http.MethodPost, "/api/v1/assistants/{id}/preview/{conversation}/transcript", "Save a preview chat as a transcript test", AccessBuilder, "preview")
	op.MaxBodyBytes = 4 << 10
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusConflict)
	huma.Register(api, op, r.saveTranscript)
	op = Operation("listTranscriptTests", http.MethodGet, "/api/v1/assistants/{id}/transcripts", "List the transcript tests", AccessBuilder, "preview")
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.listTranscripts)
	op = Operation("deleteTranscriptTest", http.MethodDelete, "/api/v1/assistants/{id}/transcripts/{transcript}", "Delete a transcript test", AccessBuilder, "preview")
	op.DefaultStatus = http.StatusNoContent
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.deleteTranscript)
	op = Operation("replayTranscriptTests", http.MethodPost, "/api/v1/assistants/{id}/draft/replay", "Replay every transcript test on the draft", AccessBuilder, "preview")
	op.Description = "Run before publishing: lists the transcripts whose messages or path changed on the current draft."
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.replay)

	op = Operation("getAssistantSettings", http.MethodGet, "/api/v1/assistants/{id}/settings", "Get the assistant's settings", AccessAgent, "assistants")
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.getSettings)
	op = Operation("putAssistantSettings", http.MethodPut, "/api/v1/assistants/{id}/settings", "Set the assistant's availability and audience", AccessBuilder, "assistants")
	op.Description = "Availability: always, only when no agent is online, or a weekly schedule in a time zone (which also defines business_hours for conditions). Audience: everyone, or new visitors only (returning visitors go straight to the agents' queue). When the assistant is off, the channel's default response applies."
	op.MaxBodyBytes = 16 << 10
	op.Errors = append(op.Errors, http.StatusNotFound)
	huma.Register(api, op, r.putSettings)
}

func (r *PreviewRoutes) assistant(ctx context.Context, id string) (*Principal, *storage.Assistant, error) {
	p := PrincipalFrom(ctx)
	a, err := r.Store.GetAssistant(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, nil, storeError(err, "assistant")
	}
	return p, a, nil
}

// preview loads a preview chat of the assistant that the caller owns.
func (r *PreviewRoutes) preview(ctx context.Context, assistantID, conversationID string) (*Principal, *storage.Conversation, error) {
	p, a, err := r.assistant(ctx, assistantID)
	if err != nil {
		return nil, nil, err
	}
	c, err := r.Store.GetConversation(ctx, p.WorkspaceID, conversationID)
	if err != nil {
		return nil, nil, storeError(err, "preview")
	}
	if !c.Preview || c.AssistantID != a.ID || c.VisitorID != p.UserID {
		return nil, nil, notFound("preview")
	}
	return p, c, nil
}

func (r *PreviewRoutes) view(ctx context.Context, ws, id string) (*previewOutput, error) {
	// Wait briefly for slow work the bot started, so the builder sees its
	// outcome in this response.
	deadline := time.Now().Add(PreviewWait)
	var c *storage.Conversation
	var st engine.State
	for {
		var err error
		if c, err = r.Store.GetConversation(ctx, ws, id); err != nil {
			return nil, storeError(err, "preview")
		}
		st = engine.State{}
		_ = json.Unmarshal(c.State, &st)
		if (st.Waiting != engine.WaitingAnswer && st.Waiting != engine.WaitingHTTP) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	msgs, err := r.Store.ListMessages(ctx, ws, id, storage.MaxListLimit)
	if err != nil {
		return nil, storeError(err, "preview")
	}
	v := PreviewView{ConversationID: c.ID, DraftRevision: c.DraftRevision, Status: string(st.Status), Node: st.Node,
		Waiting: string(st.Waiting), Path: st.Path, Vars: st.Vars, Language: st.Language, Messages: make([]conversationMessageView, 0, len(msgs))}
	if v.Path == nil {
		v.Path = []string{}
	}
	if v.Vars == nil {
		v.Vars = map[string]any{}
	}
	for i := range msgs {
		v.Messages = append(v.Messages, newConversationMessageView(&msgs[i]))
	}
	return &previewOutput{Body: v}, nil
}

func previewError(err error) error {
	switch {
	case errors.Is(err, chat.ErrPreviewStale):
		return problem(http.StatusConflict, "preview_restart", "the draft was saved since this preview started: start a new preview")
	case errors.Is(err, engine.ErrEnded), errors.Is(err, chat.ErrClosed):
		return problem(http.StatusConflict, "conversation_closed", "the preview chat has ended: start a new one")
	}
	var ce *engine.CheckError
	if errors.As(err, &ce) {
		p := problem(http.StatusUnprocessableEntity, "check_failed", "the draft does not pass the checks; fix it to preview")
		p.Diagnostics = ce.Diagnostics
		return p
	}
	return chatError(err)
}

func (r *PreviewRoutes) start(ctx context.Context, in *previewStartInput) (*previewOutput, error) {
	p, a, err := r.assistant(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	isNew := in.Body.IsNew == nil || *in.Body.IsNew
	res, err := r.Chat.StartPreview(ctx, p.WorkspaceID, chat.PreviewInput{AssistantID: a.ID, OwnerID: p.UserID,
		Locale: in.Body.Locale, IsNew: isNew, PageURL: in.Body.PageURL, Vars: in.Body.Vars})
	if err != nil {
		return nil, previewError(err)
	}
	return r.view(ctx, p.WorkspaceID, res.Conversation.ID)
}

func (r *PreviewRoutes) get(ctx context.Context, in *previewPath) (*previewOutput, error) {
	p, c, err := r.preview(ctx, in.ID, in.ConversationID)
	if err != nil {
		return nil, err
	}
	return r.view(ctx, p.WorkspaceID, c.ID)
}

func (r *PreviewRoutes) say(ctx context.Context, in *previewSayInput) (*previewOutput, error) {
	p, c, err := r.preview(ctx, in.ID, in.ConversationID)
	if err != nil {
		return nil, err
	}
	if err := chat.CheckText(in.Body.Text); err != nil {
		return nil, invalid("bad text", fieldError("body.text", err.Error(), nil))
	}
	if _, err := r.Chat.VisitorMessage(ctx, p.WorkspaceID, c.ID, "", in.Body.Text); err != nil {
		return nil, previewError(err)
	}
	return r.view(ctx, p.WorkspaceID, c.ID)
}

func (r *PreviewRoutes) skip(ctx context.Context, in *previewPath) (*previewOutput, error) {
	p, c, err := r.preview(ctx, in.ID, in.ConversationID)
	if err != nil {
		return nil, err
	}
	if _, err := r.Chat.SkipTimers(ctx, p.WorkspaceID, c.ID); err != nil {
		return nil, previewError(err)
	}
	return r.view(ctx, p.WorkspaceID, c.ID)
}

// compiledDraft compiles the assistant's draft at its current revision.
func (r *PreviewRoutes) compiledDraft(ctx context.Context, ws, assistantID string) (*engine.Compiled, *storage.Draft, error) {
	d, err := r.Store.GetDraft(ctx, ws, assistantID)
	if err != nil {
		return nil, nil, storeError(err, "assistant")
	}
	var g engine.Graph
	if err := json.Unmarshal(d.Graph, &g); err != nil {
		return nil, nil, invalid("the draft is not a graph")
	}
	c, err := engine.Compile(&g, engine.Options{})
	if err != nil {
		return nil, nil, previewError(err)
	}
	return c, d, nil
}

func (r *PreviewRoutes) saveTranscript(ctx context.Context, in *saveTranscriptInput) (*transcriptOutput, error) {
	p, c, err := r.preview(ctx, in.ID, in.ConversationID)
	if err != nil {
		return nil, err
	}
	compiled, d, err := r.compiledDraft(ctx, p.WorkspaceID, c.AssistantID)
	if err != nil {
		return nil, err
	}
	if d.Revision != c.DraftRevision {
		return nil, previewError(chat.ErrPreviewStale)
	}
	t, err := chat.BuildTranscript(ctx, r.Store, compiled, p.WorkspaceID, c, in.Body.Name)
	if err != nil {
		return nil, storeError(err, "preview")
	}
	body, err := playbooks.EncodeTranscript(t)
	if err != nil {
		return nil, problem(http.StatusInternalServerError, "internal", "could not encode the transcript")
	}
	saved, err := r.Store.SaveTranscriptTest(ctx, p.WorkspaceID, c.AssistantID, t.Name, body, p.UserID)
	if err != nil {
		if errors.Is(err, storage.ErrDuplicate) {
			return nil, problem(http.StatusConflict, "duplicate", "a transcript test with this name exists", fieldError("body.name", "taken", in.Body.Name))
		}
		return nil, storeError(err, "transcript test")
	}
	return &transcriptOutput{Body: TranscriptView{ID: saved.ID, Name: saved.Name, CreatedAt: saved.CreatedAt, Transcript: t}}, nil
}

func (r *PreviewRoutes) listTranscripts(ctx context.Context, in *assistantPath) (*transcriptsOutput, error) {
	p, a, err := r.assistant(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	ts, err := r.Store.ListTranscriptTests(ctx, p.WorkspaceID, a.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	out := &transcriptsOutput{}
	out.Body.Transcripts = make([]TranscriptView, 0, len(ts))
	for _, t := range ts {
		tr, _ := playbooks.DecodeTranscript(t.Body)
		out.Body.Transcripts = append(out.Body.Transcripts, TranscriptView{ID: t.ID, Name: t.Name, CreatedAt: t.CreatedAt, Transcript: tr})
	}
	return out, nil
}

func (r *PreviewRoutes) deleteTranscript(ctx context.Context, in *transcriptPath) (*struct{}, error) {
	p, a, err := r.assistant(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if err := r.Store.DeleteTranscriptTest(ctx, p.WorkspaceID, a.ID, in.TranscriptID); err != nil {
		return nil, storeError(err, "transcript test")
	}
	return nil, nil
}

func (r *PreviewRoutes) replay(ctx context.Context, in *assistantPath) (*replayOutput, error) {
	p, a, err := r.assistant(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	compiled, d, err := r.compiledDraft(ctx, p.WorkspaceID, a.ID)
	if err != nil {
		return nil, err
	}
	ts, err := r.Store.ListTranscriptTests(ctx, p.WorkspaceID, a.ID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	out := &replayOutput{}
	out.Body.DraftRevision = d.Revision
	out.Body.Results = make([]ReplayResult, 0, len(ts))
	for _, t := range ts {
		rr := ReplayResult{ID: t.ID, Name: t.Name}
		tr, err := playbooks.DecodeTranscript(t.Body)
		if err == nil {
			var res *playbooks.Result
			if res, err = playbooks.Replay(compiled, tr); err == nil {
				rr.OK, rr.Differences = res.OK(), res.Differences
			}
		}
		if err != nil {
			rr.Error = err.Error()
		}
		if !rr.OK {
			out.Body.Changed++
		}
		out.Body.Results = append(out.Body.Results, rr)
	}
	return out, nil
}

func (r *PreviewRoutes) getSettings(ctx context.Context, in *assistantPath) (*settingsOutput, error) {
	_, a, err := r.assistant(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	st, _ := chat.ParseSettings(a.Settings)
	if st.Availability.Mode == "" {
		st.Availability.Mode = chat.AvailabilityAlways
	}
	if st.Audience == "" {
		st.Audience = chat.AudienceEveryone
	}
	return &settingsOutput{Body: st}, nil
}

func (r *PreviewRoutes) putSettings(ctx context.Context, in *settingsInput) (*settingsOutput, error) {
	p, a, err := r.assistant(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if err := in.Body.Validate(); err != nil {
		var se *chat.SettingsError
		if errors.As(err, &se) {
			return nil, invalid("bad settings", fieldError("body."+se.Field, se.Message, nil))
		}
		return nil, invalid(err.Error())
	}
	raw, _ := json.Marshal(in.Body)
	if err := r.Store.UpdateAssistantSettings(ctx, p.WorkspaceID, a.ID, storage.AssistantSettings{Settings: raw}); err != nil {
		return nil, storeError(err, "assistant")
	}
	return &settingsOutput{Body: in.Body}, nil
}
