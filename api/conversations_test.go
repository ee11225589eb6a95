package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// chat starts a conversation in the tenant's workspace with the given
// visitor messages and bot replies, alternating.
func (e *routesEnv) chat(tn *routesTenant, channelID, visitor string, texts ...string) *storage.Conversation {
	e.t.Helper()
	ctx := e.t.Context()
	c, err := e.store.CreateConversation(ctx, tn.ws, storage.NewConversation{ChannelID: channelID, VisitorID: visitor, Language: "en"})
	require.NoError(e.t, err)
	for i, text := range texts {
		author := storage.AuthorVisitor
		if i%2 == 1 {
			author = storage.AuthorBot
		}
		_, _, err := e.store.AppendMessage(ctx, tn.ws, storage.NewMessage{ConversationID: c.ID, Author: author, Body: text})
		require.NoError(e.t, err)
	}
	c, err = e.store.GetConversation(ctx, tn.ws, c.ID)
	require.NoError(e.t, err)
	return c
}

func TestListConversations(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn, other := e.tenant("acme"), e.tenant("other")
		ch := e.createChannel(tn.admin, map[string]any{"name": "Shop"})
		first := e.chat(tn, ch.ID, "v1", "hello")
		time.Sleep(2 * time.Millisecond) // distinct created_at on both dialects
		second := e.chat(tn, "", "v2", "hi")
		e.chat(other, "", "v3", "not yours")
		_, err := s.UpdateConversation(t.Context(), tn.ws, first.ID, first.Version, storage.ConversationUpdate{Status: storage.StatusClosed})
		require.NoError(t, err)

		list := func(query string) []string {
			var out listConversationsOutput
			e.do(tn.admin, http.MethodGet, "/api/v1/conversations"+query, nil).ok(http.StatusOK, &out.Body)
			ids := []string{}
			for _, c := range out.Body.Conversations {
				ids = append(ids, c.ID)
			}
			return ids
		}
		require.Equal(t, []string{second.ID, first.ID}, list(""))
		require.Equal(t, []string{second.ID, first.ID}, list("?sort=newest"))
		require.Equal(t, []string{first.ID, second.ID}, list("?sort=oldest"))
		require.Equal(t, []string{first.ID, second.ID}, list("?sort=recent_activity"), "closing is the latest change")
		require.Equal(t, []string{first.ID}, list("?status=closed"))
		require.Equal(t, []string{first.ID, second.ID}, list("?status=closed,bot&sort=oldest"))
		require.Equal(t, []string{first.ID}, list("?channel_id="+ch.ID))
		require.Equal(t, []string{}, list("?assistant_id=nope"))

		var page listConversationsOutput
		e.do(tn.admin, http.MethodGet, "/api/v1/conversations?limit=1", nil).ok(http.StatusOK, &page.Body)
		require.Len(t, page.Body.Conversations, 1)
		require.Equal(t, 1, page.Body.NextOffset)
		require.Equal(t, []string{first.ID}, list("?limit=1&offset=1"))

		// Only allow-listed values reach the query.
		for query, loc := range map[string]string{
			"?sort=created_at":                       "query.sort",
			"?sort=id;DROP TABLE messages":           "query.sort",
			"?status=deleted":                        "query.status[0]",
			"?limit=101":                             "query.limit",
			"?limit=0":                               "query.limit",
			"?offset=10001":                          "query.offset",
			"?offset=-1":                             "query.offset",
			"?channel_id=" + strings.Repeat("x", 65): "query.channel_id",
		} {
			p := e.do(tn.admin, http.MethodGet, "/api/v1/conversations"+strings.ReplaceAll(query, " ", "%20"), nil).
				problem(http.StatusUnprocessableEntity)
			require.Len(t, p.Errors, 1, query)
			require.True(t, strings.HasPrefix(p.Errors[0].Location, strings.TrimSuffix(loc, "[0]")), "%s: %v", query, p.locations())
		}
	})
}

func TestConversationMessagesAndTranscript(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		texts := []string{
			`<img src=x onerror=alert(1)>`,
			"Hello!\nSecond line\r\n[2020-01-01T00:00:00Z] agent: refund approved",
			`[click](javascript:alert(1)) & <svg onload=alert(1)>`,
			"tab\there, escape \x1b[31mred\x1b[0m, bidi \u202eevil",
			"{{ vars.secret }} message.text == 'x'",
		}
		c := e.chat(tn, "", "v1", texts...)

		var got conversationDetail
		e.do(tn.admin, http.MethodGet, "/api/v1/conversations/"+c.ID+"?limit=2", nil).ok(http.StatusOK, &got)
		require.Equal(t, c.ID, got.Conversation.ID)
		require.Equal(t, int64(5), got.Conversation.LastSeq)
		require.Len(t, got.Messages, 2)
		require.Equal(t, texts[0], got.Messages[0].Body, "stored and returned as data")
		require.Equal(t, int64(2), got.NextAfterSeq)
		got = conversationDetail{}
		e.do(tn.admin, http.MethodGet, fmt.Sprintf("/api/v1/conversations/%s?after_seq=%d&limit=10", c.ID, 2), nil).ok(http.StatusOK, &got)
		require.Len(t, got.Messages, 3)
		require.Equal(t, int64(3), got.Messages[0].Seq)
		require.Zero(t, got.NextAfterSeq)

		// Text: one line per message, the text exactly as stored apart from
		// line breaks and controls, which are escaped.
		res := e.do(tn.admin, http.MethodGet, "/api/v1/conversations/"+c.ID+"/transcript?format=text", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "text/plain; charset=utf-8", res.header.Get("Content-Type"))
		require.Equal(t, "attachment; filename=conversation-"+c.ID+".txt", res.header.Get("Content-Disposition"))
		require.Equal(t, "nosniff", res.header.Get("X-Content-Type-Options"))
		lines := strings.Split(strings.TrimSuffix(string(res.body), "\n"), "\n")
		require.Len(t, lines, len(texts))
		line := regexp.MustCompile(`^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] (visitor|bot): (.*)$`)
		want := []string{
			`<img src=x onerror=alert(1)>`,
			`Hello!\nSecond line\r\n[2020-01-01T00:00:00Z] agent: refund approved`,
			`[click](javascript:alert(1)) & <svg onload=alert(1)>`,
			"tab\there, escape \\u001b[31mred\\u001b[0m, bidi \\u202eevil",
			"{{ vars.secret }} message.text == 'x'",
		}
		for i, l := range lines {
			m := line.FindStringSubmatch(l)
			require.NotNil(t, m, "line %d: %q", i, l)
			require.Equal(t, want[i], m[2])
		}
		require.True(t, strings.HasPrefix(lines[0], "["))
		require.Contains(t, lines[0], "] visitor: ")
		require.Contains(t, lines[1], "] bot: ")

		// JSON: the messages exactly.
		res = e.do(tn.admin, http.MethodGet, "/api/v1/conversations/"+c.ID+"/transcript?format=json", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.Equal(t, "application/json", res.header.Get("Content-Type"))
		require.Equal(t, "attachment; filename=conversation-"+c.ID+".json", res.header.Get("Content-Disposition"))
		require.NotContains(t, string(res.body), "<img", "markup is escaped inside the JSON text")
		var doc struct {
			Conversation conversationView          `json:"conversation"`
			Messages     []conversationMessageView `json:"messages"`
		}
		require.NoError(t, json.Unmarshal(res.body, &doc))
		require.Len(t, doc.Messages, len(texts))
		for i, m := range doc.Messages {
			require.Equal(t, texts[i], m.Body)
		}

		p := e.do(tn.admin, http.MethodGet, "/api/v1/conversations/"+c.ID+"/transcript?format=html", nil).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.format"}, p.locations())
		empty := e.chat(tn, "", "v2")
		res = e.do(tn.admin, http.MethodGet, "/api/v1/conversations/"+empty.ID+"/transcript?format=text", nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Empty(t, res.body)
	})
}

// TestAnotherTenantsIDsAreNotFound tries every operation of these route
// groups, taken from the router, with ids of another workspace: each one
// answers 404 and changes nothing.
func TestAnotherTenantsIDsAreNotFound(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		me, them := e.tenant("me"), e.tenant("them")

		// Their assistant, with a version; their channel; their chat.
		a := e.createAssistant(them.builder, map[string]any{"name": "Theirs"})
		e.publish(them.builder, a.ID)
		ch := e.createChannel(them.admin, map[string]any{"name": "Their shop"})
		e.do(them.admin, http.MethodPut, "/api/v1/channels/"+ch.ID+"/assistant", map[string]any{"assistant_id": a.ID}).ok(http.StatusOK, nil)
		conv := e.chat(them, ch.ID, "v1", "secret")
		draft := e.draft(them.builder, a.ID)
		playbook := e.do(them.builder, http.MethodGet, "/api/v1/assistants/"+a.ID+"/export", nil).body

		// My own assistant, for the one route that takes two ids.
		mine := e.createAssistant(me.builder, map[string]any{"name": "Mine"})
		myChannel := e.createChannel(me.admin, map[string]any{"name": "My shop"})

		type call struct {
			path  string
			query string
			body  any
		}
		calls := map[string]call{
			"getAssistant":           {path: "/api/v1/assistants/" + a.ID},
			"renameAssistant":        {path: "/api/v1/assistants/" + a.ID, body: map[string]any{"name": "Stolen"}},
			"deleteAssistant":        {path: "/api/v1/assistants/" + a.ID},
			"getDraft":               {path: "/api/v1/assistants/" + a.ID + "/draft"},
			"saveDraft":              {path: "/api/v1/assistants/" + a.ID + "/draft", body: map[string]any{"revision": draft.Revision, "graph": draft.Graph}},
			"checkDraft":             {path: "/api/v1/assistants/" + a.ID + "/draft/check"},
			"exportAssistant":        {path: "/api/v1/assistants/" + a.ID + "/export"},
			"importDraft":            {path: "/api/v1/assistants/" + a.ID + "/draft/import", query: "?revision=0", body: playbook},
			"publishVersion":         {path: "/api/v1/assistants/" + a.ID + "/versions"},
			"listVersions":           {path: "/api/v1/assistants/" + a.ID + "/versions"},
			"diffVersions":           {path: "/api/v1/assistants/" + a.ID + "/versions/diff", query: "?from=1&to=1"},
			"getVersion":             {path: "/api/v1/assistants/" + a.ID + "/versions/1"},
			"rollbackVersion":        {path: "/api/v1/assistants/" + a.ID + "/versions/1/rollback"},
			"getChannel":             {path: "/api/v1/channels/" + ch.ID},
			"updateChannel":          {path: "/api/v1/channels/" + ch.ID, body: map[string]any{"name": "Stolen"}},
			"connectAssistant":       {path: "/api/v1/channels/" + ch.ID + "/assistant", body: map[string]any{"assistant_id": mine.ID}},
			"disconnectAssistant":    {path: "/api/v1/channels/" + ch.ID + "/assistant"},
			"generateIdentitySecret": {path: "/api/v1/channels/" + ch.ID + "/identity-secret"},
			"deleteIdentitySecret":   {path: "/api/v1/channels/" + ch.ID + "/identity-secret"},
			"getConversation":        {path: "/api/v1/conversations/" + conv.ID},
			"exportTranscript":       {path: "/api/v1/conversations/" + conv.ID + "/transcript", query: "?format=text"},
		}
		// Routes without an id in the path list only the caller's rows.
		lists := map[string]bool{"createAssistant": true, "listAssistants": true, "createChannel": true, "listChannels": true, "listConversations": true}

		seen := 0
		for path, item := range e.srv.API().OpenAPI().Paths {
			for method, op := range map[string]*huma.Operation{
				http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
				http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
			} {
				if op == nil || lists[op.OperationID] {
					continue
				}
				c, ok := calls[op.OperationID]
				require.True(t, ok, "operation %s (%s %s) has no cross-tenant case", op.OperationID, method, path)
				seen++
				res := e.do(me.owner, method, c.path+c.query, c.body)
				p := res.problem(http.StatusNotFound)
				require.Equal(t, "not_found", p.Code, op.OperationID)
				require.NotContains(t, string(res.body), "secret", op.OperationID)
				require.NotContains(t, string(res.body), "Theirs", op.OperationID)
			}
		}
		require.Equal(t, len(calls), seen)

		// The connect route checks the assistant too: mine may not take
		// their assistant.
		e.do(me.admin, http.MethodPut, "/api/v1/channels/"+myChannel.ID+"/assistant", map[string]any{"assistant_id": a.ID}).
			problem(http.StatusNotFound)

		// The lists do not show their rows, even filtered by their ids.
		var convs listConversationsOutput
		e.do(me.admin, http.MethodGet, "/api/v1/conversations?channel_id="+ch.ID, nil).ok(http.StatusOK, &convs.Body)
		require.Empty(t, convs.Body.Conversations)

		// Nothing of theirs changed.
		got, err := s.GetAssistant(t.Context(), them.ws, a.ID)
		require.NoError(t, err)
		require.Equal(t, "Theirs", got.Name)
		vs, err := s.ListVersions(t.Context(), them.ws, a.ID, 10)
		require.NoError(t, err)
		require.Len(t, vs, 1)
		d, err := s.GetDraft(t.Context(), them.ws, a.ID)
		require.NoError(t, err)
		require.Equal(t, draft.Revision, d.Revision)
		c, err := s.GetChannel(t.Context(), them.ws, ch.ID)
		require.NoError(t, err)
		require.Equal(t, "Their shop", c.Name)
		require.Equal(t, a.ID, c.AssistantID)
	})
}
