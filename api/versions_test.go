package api

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// publish publishes the draft and returns the new version.
func (e *routesEnv) publish(token, assistantID string) versionPublished {
	e.t.Helper()
	var v versionPublished
	e.do(token, http.MethodPost, "/api/v1/assistants/"+assistantID+"/versions", nil).ok(http.StatusCreated, &v)
	return v
}

func (e *routesEnv) version(token, assistantID string, n int) versionDetail {
	e.t.Helper()
	var v versionDetail
	e.do(token, http.MethodGet, "/api/v1/assistants/"+assistantID+"/versions/"+strconv.Itoa(n), nil).ok(http.StatusOK, &v)
	return v
}

// secondGraph is the starter graph grown by a message node, with the
// greeting moved and the old edge replaced.
func secondGraph(g engine.Graph) engine.Graph {
	g.Nodes = append([]engine.Node{}, g.Nodes...)
	g.Nodes[0].Position = &engine.Position{X: 40, Y: 0}
	g.Nodes = append(g.Nodes, engine.Node{ID: "info", Kind: engine.KindMessage, Position: &engine.Position{X: 0, Y: 80},
		Message: &engine.MessageConfig{Text: engine.Text{"en": "We answer within a day."}}})
	end := g.Nodes[1]
	end.End = &engine.EndConfig{Text: engine.Text{"en": "Bye!"}}
	g.Nodes[1] = end
	g.Edges = []engine.Edge{
		{ID: "greet-info", From: "greet", To: "info"},
		{ID: "info-end", From: "info", To: "end"},
	}
	return g
}

func TestPublishAndRollback(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		v1 := e.publish(tn.builder, a.ID)
		require.Equal(t, 1, v1.Number)

		changed := secondGraph(e.draft(tn.builder, a.ID).Graph)
		saved := e.saveDraft(tn.builder, a.ID, changed)
		v2 := e.publish(tn.builder, a.ID)
		require.Equal(t, 2, v2.Number)
		require.Equal(t, saved.Revision, v2.DraftRevision)

		var back versionPublished
		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions/1/rollback", nil).ok(http.StatusCreated, &back)
		require.Equal(t, 3, back.Number)
		require.Equal(t, 1, back.RolledBackFrom)
		require.Zero(t, back.DraftRevision)

		// Version 3 is version 1's graph; the draft still holds the edits.
		require.Equal(t, e.version(tn.agent, a.ID, 1).Graph, e.version(tn.agent, a.ID, 3).Graph)
		require.NotEqual(t, e.version(tn.agent, a.ID, 2).Graph, e.version(tn.agent, a.ID, 3).Graph)
		d := e.draft(tn.builder, a.ID)
		require.Equal(t, saved.Revision, d.Revision)
		require.Len(t, d.Graph.Nodes, 3)
		stored1, err := s.GetVersionByNumber(t.Context(), tn.ws, a.ID, 1)
		require.NoError(t, err)
		stored3, err := s.GetVersionByNumber(t.Context(), tn.ws, a.ID, 3)
		require.NoError(t, err)
		require.Equal(t, string(stored1.Graph), string(stored3.Graph), "byte for byte")

		var list listVersionsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions", nil).ok(http.StatusOK, &list.Body)
		require.Len(t, list.Body.Versions, 3)
		require.Equal(t, []int{3, 2, 1}, []int{list.Body.Versions[0].Number, list.Body.Versions[1].Number, list.Body.Versions[2].Number})

		var got assistantView
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID, nil).ok(http.StatusOK, &got)
		require.Equal(t, 3, got.LatestVersion)

		e.do(tn.builder, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions/9/rollback", nil).problem(http.StatusNotFound)
		e.do(tn.agent, http.MethodPost, "/api/v1/assistants/"+a.ID+"/versions/1/rollback", nil).problem(http.StatusForbidden)
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/9", nil).problem(http.StatusNotFound)
		p := e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/first", nil).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"path.number"}, p.locations())
	})
}

// A conversation pinned to a version keeps it when another is published.
func TestPublishingDoesNotMoveChatsInProgress(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		v1 := e.publish(tn.builder, a.ID)
		c, err := s.CreateConversation(t.Context(), tn.ws, storage.NewConversation{VersionID: v1.ID, VisitorID: "v1"})
		require.NoError(t, err)
		e.saveDraft(tn.builder, a.ID, secondGraph(e.draft(tn.builder, a.ID).Graph))
		e.publish(tn.builder, a.ID)
		got, err := s.GetConversation(t.Context(), tn.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, v1.ID, got.VersionID)
	})
}

func TestDiffVersions(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		a := e.createAssistant(tn.builder, map[string]any{"name": "Ada"})
		e.publish(tn.builder, a.ID)
		e.saveDraft(tn.builder, a.ID, secondGraph(e.draft(tn.builder, a.ID).Graph))
		e.publish(tn.builder, a.ID)

		var out versionDiffOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=1&to=2", nil).ok(http.StatusOK, &out.Body)
		require.Equal(t, 1, out.Body.From)
		require.Equal(t, 2, out.Body.To)
		d := out.Body.Diff
		require.Equal(t, []string{"info"}, d.NodesAdded)
		require.Empty(t, d.NodesRemoved)
		require.Equal(t, []engine.Change{{ID: "end", Fields: []string{"end.text"}}}, d.NodesChanged)
		require.Equal(t, []string{"greet"}, d.NodesMoved)
		require.Equal(t, []string{"greet-info", "info-end"}, d.EdgesAdded)
		require.Equal(t, []string{"greet-end"}, d.EdgesRemoved)
		require.Empty(t, d.EdgesChanged)

		// Backwards, and against the draft (builders only).
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=2&to=1", nil).ok(http.StatusOK, &out.Body)
		require.Equal(t, []string{"info"}, out.Body.Diff.NodesRemoved)
		e.do(tn.builder, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=2&to=0", nil).ok(http.StatusOK, &out.Body)
		require.True(t, out.Body.Diff.Empty())
		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=2&to=0", nil).problem(http.StatusForbidden)

		e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=1&to=7", nil).problem(http.StatusNotFound)
		p := e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=1", nil).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.to"}, p.locations())
		p = e.do(tn.agent, http.MethodGet, "/api/v1/assistants/"+a.ID+"/versions/diff?from=-1&to=2", nil).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"query.from"}, p.locations())
	})
}
