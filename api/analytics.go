package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/analytics"
	"github.com/frontdesk/frontdesk/storage"
)

// AnalyticsRoutes serves an assistant's analytics under
// /api/v1/assistants/{id}/analytics: the figures of a period with their
// chart series, and the per-node visits and drop-offs the builder draws on
// its canvas. Both need a builder (AccessBuilder). docs/analytics.md
// defines every figure.
type AnalyticsRoutes struct {
	// Store is the database.
	Store *storage.Store
	// Now is the clock for the default period and for drop-offs. Defaults
	// to time.Now.
	Now func() time.Time
	// MaxConversations bounds a report; see analytics.Service. Defaults to
	// analytics.DefaultMaxConversations.
	MaxConversations int64
}

// Register adds the operations to api.
func (r *AnalyticsRoutes) Register(api huma.API) {
	op := analyticsOp("getAnalytics", "/api/v1/assistants/{id}/analytics", "Get an assistant's analytics")
	op.Description = "The figures of the conversations started in [from, to) (at most 366 days; by default the last 30 UTC days, today included) " +
		"on one version of the assistant (version=N) or on all of them: conversations, engaged, resolved by the bot, handed over, claimed and " +
		"claimed in time, median time to claim, response rate and median first response time, offline captures, leads and deals, deal value " +
		"per currency as exact decimal strings, conversion within the first hour, the share of new visitors, and a series per UTC day " +
		"(per ISO week beyond 92 days) for charts. Preview chats never count. Below 15 conversations not_enough_data is true and message " +
		"says so; the figures are still given. A selection of more conversations than the server reports on is refused with 422."
	huma.Register(api, op, r.report)

	op = analyticsOp("getNodeAnalytics", "/api/v1/assistants/{id}/analytics/nodes", "Get an assistant's per-node analytics")
	op.Description = "For the same selection as getAnalytics: per node, the visits (every node_entered), the conversations that entered it, " +
		"and the drop-offs: conversations whose last node it was, after which neither the visitor nor an agent did anything, that did not " +
		"end or close, and that have been silent for abandon_after_seconds."
	huma.Register(api, op, r.nodes)
}

func analyticsOp(id, path, summary string) huma.Operation {
	op := Operation(id, http.MethodGet, path, summary, AccessBuilder, "Analytics")
	op.Errors = append(op.Errors, http.StatusNotFound, http.StatusUnprocessableEntity)
	return op
}

type analyticsInput struct {
	ID      string `path:"id" maxLength:"64" doc:"The assistant's id."`
	From    string `query:"from" maxLength:"64" doc:"The period's start, inclusive: a date (2025-03-01, midnight UTC) or an RFC 3339 timestamp. Defaults to 30 days before to."`
	To      string `query:"to" maxLength:"64" doc:"The period's end, exclusive: a date (2025-04-01 ends with the last moment of March) or an RFC 3339 timestamp. Defaults to the end of today (UTC)."`
	Version int    `query:"version" minimum:"1" doc:"Report on this version number only; every version when absent."`
}

type analyticsOutput struct {
	Body *analytics.Report
}

type nodeAnalyticsOutput struct {
	Body *analytics.NodeReport
}

func (r *AnalyticsRoutes) report(ctx context.Context, in *analyticsInput) (*analyticsOutput, error) {
	svc, ws, sel, err := r.selection(ctx, in)
	if err != nil {
		return nil, err
	}
	rep, err := svc.Report(ctx, ws, sel)
	if err != nil {
		return nil, analyticsError(err, in)
	}
	return &analyticsOutput{Body: rep}, nil
}

func (r *AnalyticsRoutes) nodes(ctx context.Context, in *analyticsInput) (*nodeAnalyticsOutput, error) {
	svc, ws, sel, err := r.selection(ctx, in)
	if err != nil {
		return nil, err
	}
	rep, err := svc.Nodes(ctx, ws, sel)
	if err != nil {
		return nil, analyticsError(err, in)
	}
	return &nodeAnalyticsOutput{Body: rep}, nil
}

// selection checks the caller's input: the period first (it needs no
// database), then that the assistant, and the version, are the caller's
// workspace's.
func (r *AnalyticsRoutes) selection(ctx context.Context, in *analyticsInput) (*analytics.Service, string, analytics.Selection, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, "", analytics.Selection{}, err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	period, err := analytics.ParsePeriod(in.From, in.To, now())
	if err != nil {
		return nil, "", analytics.Selection{}, analyticsError(err, in)
	}
	if _, err := r.Store.GetAssistant(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, "", analytics.Selection{}, storeError(err, "assistant")
	}
	sel := analytics.Selection{AssistantID: in.ID, Period: period}
	if in.Version > 0 {
		v, err := r.Store.GetVersionByNumber(ctx, p.WorkspaceID, in.ID, in.Version)
		if err != nil {
			return nil, "", analytics.Selection{}, storeError(err, "version")
		}
		sel.VersionID, sel.VersionNumber = v.ID, v.Number
	}
	svc := &analytics.Service{Store: r.Store, Now: now, MaxConversations: r.MaxConversations}
	return svc, p.WorkspaceID, sel, nil
}

// analyticsError maps the analytics errors to problems naming the query
// parameter to change.
func analyticsError(err error, in *analyticsInput) error {
	var pe *analytics.PeriodError
	var tl *analytics.TooLargeError
	switch {
	case errors.As(err, &pe):
		return invalid("the period is not valid", fieldError("query."+pe.Param, pe.Reason, pe.Value))
	case errors.As(err, &tl):
		detail := fmt.Sprintf("the selection has %d conversations, more than the %d a report covers; choose a shorter period or one version", tl.Conversations, tl.Max)
		return invalid(detail, fieldError("query.from", "the selection is too large; choose a later from, or a version", in.From))
	}
	return storeError(err, "assistant")
}
