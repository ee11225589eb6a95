package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// VersionRoutes serves an assistant's published versions under
// /api/v1/assistants/{id}/versions: publish, list, get, diff and rollback.
//
// A version is immutable. Publishing or rolling back only adds a version;
// conversations in progress stay pinned to the version they started on, so
// nothing here touches them. Reads need any member (AccessAgent); publish
// and rollback need a builder.
type VersionRoutes struct {
	// Store is the database.
	Store *storage.Store
}

// Register adds the operations to api.
func (r *VersionRoutes) Register(api huma.API) {
	op := routeOp("publishVersion", http.MethodPost, "/api/v1/assistants/{id}/versions", "Publish the draft", AccessBuilder, http.StatusCreated, routeSmallBodyBytes)
	op.Description = "Checks the draft and freezes it as the next version, which goes live at once on the assistant's channels. " +
		"A draft with any error is refused with 422, code check_failed, and every diagnostic (errors and warnings, with positions). " +
		"Give revision to publish only the draft revision you reviewed (409 otherwise). Chats in progress stay on their version."
	op.Errors = append(op.Errors, http.StatusConflict)
	huma.Register(api, op, r.publish)

	huma.Register(api, routeOp("listVersions", http.MethodGet, "/api/v1/assistants/{id}/versions", "List versions", AccessAgent, 0, 0), r.list)

	// Registered before /versions/{number}: the router tries routes in
	// order, and "diff" would otherwise be read as a version number.
	op = routeOp("diffVersions", http.MethodGet, "/api/v1/assistants/{id}/versions/diff", "Diff two versions", AccessAgent, 0, 0)
	op.Description = "Lists the nodes, edges and global rules added, removed or changed from version `from` to version `to`, and the graph settings that changed. " +
		"Nodes whose position alone changed are listed as moved. Version 0 stands for the draft (builders only)."
	huma.Register(api, op, r.diff)

	huma.Register(api, routeOp("getVersion", http.MethodGet, "/api/v1/assistants/{id}/versions/{number}", "Get a version with its graph", AccessAgent, 0, 0), r.get)

	op = routeOp("rollbackVersion", http.MethodPost, "/api/v1/assistants/{id}/versions/{number}/rollback", "Roll back to a version", AccessBuilder, http.StatusCreated, 0)
	op.Description = "Publishes the graph of version `number` again, as a new version N+1 that goes live. The draft is left as it is: " +
		"it may hold work in progress, and the next publish would replace the rollback with it, so load the version into the draft first if that is not wanted."
	huma.Register(api, op, r.rollback)
}

// versionView is a version without its graph.
type versionView struct {
	ID          string    `json:"id"`
	Number      int       `json:"number"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by,omitempty" doc:"The user who published it."`
}

func newVersionView(v storage.Version) versionView {
	return versionView{ID: v.ID, Number: v.Number, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy}
}

// versionPublished is a new version as publish and rollback return it.
// Its fields repeat versionView's rather than embed it: huma documents
// only exported embedded types, and these stay unexported.
type versionPublished struct {
	ID          string    `json:"id"`
	Number      int       `json:"number"`
	PublishedAt time.Time `json:"published_at"`
	PublishedBy string    `json:"published_by,omitempty" doc:"The user who published it."`
	// DraftRevision is the draft revision that was published.
	DraftRevision int64 `json:"draft_revision,omitempty" doc:"The draft revision published; absent for a rollback."`
	// RolledBackFrom is the version whose graph a rollback republished.
	RolledBackFrom int                 `json:"rolled_back_from,omitempty" doc:"For a rollback, the version republished."`
	Warnings       []engine.Diagnostic `json:"warnings" doc:"The checks' warnings, which do not block publishing."`
}

type versionPublishedOutput struct {
	Body versionPublished
}

type versionPublishInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Body *struct {
		Revision *int64 `json:"revision,omitempty" minimum:"0" doc:"Publish only if the draft is still at this revision."`
	} `required:"false"`
}

func (r *VersionRoutes) publish(ctx context.Context, in *versionPublishInput) (*versionPublishedOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	d, g, err := draftLoad(ctx, r.Store, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, err
	}
	if in.Body != nil && in.Body.Revision != nil && *in.Body.Revision != d.Revision {
		return nil, draftError(&storage.ConflictError{Resource: "draft", Expected: *in.Body.Revision, Current: d.Revision})
	}
	c, err := versionCompile(g, "the draft")
	if err != nil {
		return nil, err
	}
	// The stored bytes are published as they are: the graph just compiled
	// is their decoding, and a version must read back byte for byte.
	v, err := r.Store.PublishVersion(ctx, p.WorkspaceID, in.ID, d.Graph, p.UserID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	return &versionPublishedOutput{Body: versionPublished{
		ID: v.ID, Number: v.Number, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy,
		DraftRevision: d.Revision, Warnings: versionWarnings(c),
	}}, nil
}

// versionCompile compiles g, or returns the 422 check_failed problem
// holding every diagnostic, errors and warnings, with their positions.
func versionCompile(g *engine.Graph, what string) (*engine.Compiled, error) {
	c, err := engine.Compile(g, engine.Options{})
	var ce *engine.CheckError
	if errors.As(err, &ce) {
		n := len(ce.Errors())
		noun := "errors"
		if n == 1 {
			noun = "error"
		}
		prob := problem(http.StatusUnprocessableEntity, "check_failed",
			fmt.Sprintf("%s has %d %s and cannot be published; see diagnostics", what, n, noun))
		prob.Diagnostics = ce.Diagnostics
		return nil, prob
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

func versionWarnings(c *engine.Compiled) []engine.Diagnostic {
	if w := c.Warnings(); w != nil {
		return w
	}
	return []engine.Diagnostic{}
}

type listVersionsInput struct {
	ID    string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Limit int    `query:"limit" minimum:"1" maximum:"500" default:"100" doc:"The page size, newest first."`
}

type listVersionsOutput struct {
	Body struct {
		Versions []versionView `json:"versions" doc:"Newest first."`
	}
}

func (r *VersionRoutes) list(ctx context.Context, in *listVersionsInput) (*listVersionsOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	vs, err := r.Store.ListVersions(ctx, p.WorkspaceID, in.ID, in.Limit)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	out := &listVersionsOutput{}
	out.Body.Versions = make([]versionView, 0, len(vs))
	for _, v := range vs {
		out.Body.Versions = append(out.Body.Versions, newVersionView(v))
	}
	return out, nil
}

type versionPath struct {
	ID     string `path:"id" maxLength:"64" doc:"The assistant's id."`
	Number int    `path:"number" minimum:"1" doc:"The version number."`
}

type versionDetail struct {
	ID          string       `json:"id"`
	Number      int          `json:"number"`
	PublishedAt time.Time    `json:"published_at"`
	PublishedBy string       `json:"published_by,omitempty" doc:"The user who published it."`
	Graph       engine.Graph `json:"graph"`
}

type versionOutput struct {
	Body versionDetail
}

func (r *VersionRoutes) get(ctx context.Context, in *versionPath) (*versionOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	v, g, err := r.load(ctx, p.WorkspaceID, in.ID, in.Number)
	if err != nil {
		return nil, err
	}
	return &versionOutput{Body: versionDetail{
		ID: v.ID, Number: v.Number, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy, Graph: *g,
	}}, nil
}

// load reads version n of the assistant and decodes its graph.
func (r *VersionRoutes) load(ctx context.Context, ws, assistantID string, n int) (*storage.Version, *engine.Graph, error) {
	v, err := r.Store.GetVersionByNumber(ctx, ws, assistantID, n)
	if err != nil {
		return nil, nil, storeError(err, "version")
	}
	g, err := graphFromStore(v.Graph)
	if err != nil {
		return nil, nil, err
	}
	return v, g, nil
}

type versionDiffInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The assistant's id."`
	From int    `query:"from" required:"true" minimum:"0" doc:"The old version's number; 0 for the draft."`
	To   int    `query:"to" required:"true" minimum:"0" doc:"The new version's number; 0 for the draft."`
}

type versionDiffOutput struct {
	Body struct {
		From int              `json:"from"`
		To   int              `json:"to"`
		Diff engine.GraphDiff `json:"diff"`
	}
}

func (r *VersionRoutes) diff(ctx context.Context, in *versionDiffInput) (*versionDiffOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	if (in.From == 0 || in.To == 0) && !p.CanBuild() {
		// Only builders see the draft; the versions are for everyone.
		return nil, problem(http.StatusForbidden, "forbidden", "only builders may diff the draft")
	}
	graphOf := func(n int) (*engine.Graph, error) {
		if n == 0 {
			_, g, err := draftLoad(ctx, r.Store, p.WorkspaceID, in.ID)
			return g, err
		}
		_, g, err := r.load(ctx, p.WorkspaceID, in.ID, n)
		return g, err
	}
	a, err := graphOf(in.From)
	if err != nil {
		return nil, err
	}
	b, err := graphOf(in.To)
	if err != nil {
		return nil, err
	}
	out := &versionDiffOutput{}
	out.Body.From, out.Body.To, out.Body.Diff = in.From, in.To, engine.Diff(a, b)
	return out, nil
}

func (r *VersionRoutes) rollback(ctx context.Context, in *versionPath) (*versionPublishedOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	old, g, err := r.load(ctx, p.WorkspaceID, in.ID, in.Number)
	if err != nil {
		return nil, err
	}
	// The version passed the checks when it was published, but the checks
	// may have grown stricter since; what goes live must pass today's.
	c, err := versionCompile(g, fmt.Sprintf("version %d", old.Number))
	if err != nil {
		return nil, err
	}
	v, err := r.Store.PublishVersion(ctx, p.WorkspaceID, in.ID, old.Graph, p.UserID)
	if err != nil {
		return nil, storeError(err, "assistant")
	}
	return &versionPublishedOutput{Body: versionPublished{
		ID: v.ID, Number: v.Number, PublishedAt: v.PublishedAt, PublishedBy: v.PublishedBy,
		RolledBackFrom: old.Number, Warnings: versionWarnings(c),
	}}, nil
}
