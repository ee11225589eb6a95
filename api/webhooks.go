package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/webhook"
)

// webhookBodyBytes bounds the body of a subscription's create and update:
// a URL of at most 2 KiB and a short list of event types.
const webhookBodyBytes = 16 << 10

// webhookEventEnum lists what a subscription's events may hold. The enum
// tags of the request bodies spell the same list (a tag cannot name a
// variable); a test keeps them equal.
var webhookEventEnum = strings.Join(append(slices.Clone(webhook.EventTypes), webhook.EventAll), ",")

// WebhookRoutes serves the outbound webhook subscriptions under
// /api/v1/webhooks: create (the signing secret is shown once), list, get,
// update, rotate the secret, delete, and each subscription's recent
// deliveries with redelivery of dead-lettered ones. The deliveries
// themselves are made by webhook.Dispatcher.
//
// Every route needs an admin, and every query is scoped by the caller's
// workspace: another workspace's ids are not found.
type WebhookRoutes struct {
	// Store is the database.
	Store *storage.Store
	// URLPolicy judges receiver URLs at save time (SSRF). The zero value
	// is the production policy with the system resolver; only tests set
	// AllowPrivate.
	URLPolicy webhook.URLPolicy
	// SecretGrace is how long a rotated-out secret keeps signing beside
	// the new one. Defaults to webhook.DefaultSecretGrace (24 hours).
	SecretGrace time.Duration
	// Now is the clock of rotations. Defaults to time.Now.
	Now func() time.Time
}

// Register adds the operations to api.
func (r *WebhookRoutes) Register(api huma.API) {
	events := strings.Join(webhook.EventTypes, ", ")

	op := webhookOp("createWebhook", http.MethodPost, "/api/v1/webhooks", "Create a webhook subscription", http.StatusCreated, webhookBodyBytes)
	op.Description = "Subscribes an https URL to event types (" + events + ", or * for all). " +
		"The response carries the signing secret, shown only here; deliveries are signed with it in the Standard Webhooks style. " +
		"The URL is refused (422 naming body.url) unless it is https, has no user info, and its host is public: " +
		"no loopback, private, link-local, CGNAT or metadata address, no localhost, no non-decimal IP form, " +
		"and every address the name resolves to must be public."
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity)
	huma.Register(api, op, r.create)

	huma.Register(api, webhookOp("listWebhooks", http.MethodGet, "/api/v1/webhooks", "List webhook subscriptions", 0, 0), r.list)
	huma.Register(api, webhookOp("getWebhook", http.MethodGet, "/api/v1/webhooks/{id}", "Get a webhook subscription", 0, 0), r.get)

	op = webhookOp("updateWebhook", http.MethodPatch, "/api/v1/webhooks/{id}", "Update a webhook subscription", 0, webhookBodyBytes)
	op.Description = "Changes the fields given: url (checked as on create), events (replaced as a whole), enabled. " +
		"A disabled subscription gets no new events, and its pending deliveries go to the dead letter."
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity)
	huma.Register(api, op, r.update)

	op = webhookOp("rotateWebhookSecret", http.MethodPost, "/api/v1/webhooks/{id}/rotate-secret", "Rotate a webhook signing secret", 0, 0)
	op.Description = "Makes a new signing secret, shown only in this response. The old one keeps signing beside it " +
		"(each delivery carries both signatures) until previous_secret_expires_at, 24 hours by default, so the receiver can switch without a gap. " +
		"Rotating again before then drops the oldest secret at once."
	huma.Register(api, op, r.rotate)

	op = webhookOp("deleteWebhook", http.MethodDelete, "/api/v1/webhooks/{id}", "Delete a webhook subscription", http.StatusNoContent, 0)
	op.Description = "Deletes the subscription and its deliveries; nothing more is sent to it."
	huma.Register(api, op, r.delete)

	op = webhookOp("listWebhookDeliveries", http.MethodGet, "/api/v1/webhooks/{id}/deliveries", "List a subscription's deliveries", 0, 0)
	op.Description = "The subscription's deliveries, newest first, with their attempts and last error. status=dead lists the dead letter."
	op.Errors = append(op.Errors, http.StatusUnprocessableEntity)
	huma.Register(api, op, r.deliveries)

	op = webhookOp("redeliverWebhookDelivery", http.MethodPost, "/api/v1/webhooks/{id}/deliveries/{delivery_id}/redeliver", "Redeliver a dead-lettered delivery", http.StatusAccepted, 0)
	op.Description = "Puts a dead-lettered delivery back in the queue with a fresh set of attempts. It keeps its event id (webhook-id), " +
		"so a receiver that did get it before can tell. Only dead deliveries of enabled subscriptions can be redelivered (409 otherwise)."
	op.Errors = append(op.Errors, http.StatusConflict)
	huma.Register(api, op, r.redeliver)
}

// webhookOp is an admin operation tagged Webhooks.
func webhookOp(id, method, path, summary string, status int, maxBody int64) huma.Operation {
	op := Operation(id, method, path, summary, AccessAdmin, "Webhooks")
	op.DefaultStatus = status
	if strings.Contains(path, "{id}") {
		op.Errors = append(op.Errors, http.StatusNotFound)
	}
	if maxBody > 0 {
		op.MaxBodyBytes = maxBody
		op.Errors = append(op.Errors, http.StatusRequestEntityTooLarge)
	}
	return op
}

func (r *WebhookRoutes) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// webhookView is a subscription as the API shows it. The secret is not in
// it: it is shown once, by create and rotate.
type webhookView struct {
	ID      string   `json:"id"`
	URL     string   `json:"url" doc:"Where deliveries are POSTed."`
	Events  []string `json:"events" doc:"The event types sent, or [\"*\"] for all."`
	Enabled bool     `json:"enabled"`
	// PreviousSecretExpiresAt is set while a rotated-out secret still
	// signs deliveries.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty" doc:"While a rotated-out secret still signs deliveries beside the new one: when it stops."`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
}

func (r *WebhookRoutes) view(s *storage.WebhookSubscription) webhookView {
	v := webhookView{
		ID: s.ID, URL: s.URL, Events: []string(s.Events), Enabled: s.Enabled,
		CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt,
	}
	if v.Events == nil {
		v.Events = []string{}
	}
	if s.PreviousSecret != "" && s.PreviousSecretExpiresAt != nil && r.now().Before(*s.PreviousSecretExpiresAt) {
		v.PreviousSecretExpiresAt = s.PreviousSecretExpiresAt
	}
	return v
}

// webhookSecretView is a subscription with its signing secret, in the
// responses of create and rotate only. It spells webhookView's fields out:
// huma's response transformer drops the fields of an embedded unexported
// struct.
type webhookSecretView struct {
	ID                      string     `json:"id"`
	URL                     string     `json:"url" doc:"Where deliveries are POSTed."`
	Events                  []string   `json:"events" doc:"The event types sent, or [\"*\"] for all."`
	Enabled                 bool       `json:"enabled"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty" doc:"While a rotated-out secret still signs deliveries beside the new one: when it stops."`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	Secret                  string     `json:"secret" doc:"The signing secret (whsec_ and base64), shown only in this response. Keep it on the receiver to verify webhook-signature."`
}

func withSecret(v webhookView, secret string) webhookSecretView {
	return webhookSecretView{
		ID: v.ID, URL: v.URL, Events: v.Events, Enabled: v.Enabled, PreviousSecretExpiresAt: v.PreviousSecretExpiresAt,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, Secret: secret,
	}
}

type webhookSecretOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         webhookSecretView
}

type webhookOutput struct {
	Body webhookView
}

type webhookPath struct {
	ID string `path:"id" maxLength:"64" doc:"The subscription's id."`
}

type createWebhookInput struct {
	Body struct {
		URL     string   `json:"url" minLength:"1" maxLength:"2048" doc:"An https URL with a public host."`
		Events  []string `json:"events" minItems:"1" maxItems:"16" enum:"conversation.created,conversation.handover_requested,conversation.assigned,conversation.closed,lead.created,deal.created,*" doc:"Event types, or * for all."`
		Enabled *bool    `json:"enabled,omitempty" doc:"Defaults to true."`
	}
}

func (r *WebhookRoutes) create(ctx context.Context, in *createWebhookInput) (*webhookSecretOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	var faults []*huma.ErrorDetail
	u, fault := r.checkURL(ctx, in.Body.URL)
	if fault != nil {
		faults = append(faults, fault)
	}
	events, more := webhookEvents(in.Body.Events)
	faults = append(faults, more...)
	if len(faults) > 0 {
		return nil, invalid("the webhook subscription cannot be created", faults...)
	}
	secret := webhook.NewSecret()
	sub, err := r.Store.CreateWebhookSubscription(ctx, p.WorkspaceID, storage.NewWebhookSubscription{
		URL: u, Events: events, Secret: secret, Disabled: in.Body.Enabled != nil && !*in.Body.Enabled,
	})
	if err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	return &webhookSecretOutput{CacheControl: "no-store", Body: withSecret(r.view(sub), secret)}, nil
}

type listWebhooksOutput struct {
	Body struct {
		Webhooks []webhookView `json:"webhooks"`
	}
}

func (r *WebhookRoutes) list(ctx context.Context, _ *struct{}) (*listWebhooksOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	subs, err := r.Store.ListWebhookSubscriptions(ctx, p.WorkspaceID, storage.MaxWebhookSubscriptions)
	if err != nil {
		return nil, storeError(err, "webhook subscriptions")
	}
	out := &listWebhooksOutput{}
	out.Body.Webhooks = make([]webhookView, 0, len(subs))
	for i := range subs {
		out.Body.Webhooks = append(out.Body.Webhooks, r.view(&subs[i]))
	}
	return out, nil
}

func (r *WebhookRoutes) get(ctx context.Context, in *webhookPath) (*webhookOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := r.Store.GetWebhookSubscription(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	return &webhookOutput{Body: r.view(sub)}, nil
}

type updateWebhookInput struct {
	ID   string `path:"id" maxLength:"64" doc:"The subscription's id."`
	Body struct {
		URL     *string  `json:"url,omitempty" minLength:"1" maxLength:"2048" doc:"An https URL with a public host."`
		Events  []string `json:"events,omitempty" minItems:"1" maxItems:"16" enum:"conversation.created,conversation.handover_requested,conversation.assigned,conversation.closed,lead.created,deal.created,*" doc:"Replaces the list."`
		Enabled *bool    `json:"enabled,omitempty"`
	}
}

func (r *WebhookRoutes) update(ctx context.Context, in *updateWebhookInput) (*webhookOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	// Not found before invalid: another workspace's id learns nothing from
	// the checks of its body.
	if _, err := r.Store.GetWebhookSubscription(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	upd := storage.WebhookSubscriptionUpdate{Enabled: in.Body.Enabled}
	var faults []*huma.ErrorDetail
	if in.Body.URL != nil {
		u, fault := r.checkURL(ctx, *in.Body.URL)
		if fault != nil {
			faults = append(faults, fault)
		}
		upd.URL = &u
	}
	if in.Body.Events != nil {
		events, more := webhookEvents(in.Body.Events)
		faults = append(faults, more...)
		upd.Events = events
	}
	if len(faults) > 0 {
		return nil, invalid("the webhook subscription cannot be updated", faults...)
	}
	sub, err := r.Store.UpdateWebhookSubscription(ctx, p.WorkspaceID, in.ID, upd)
	if err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	return &webhookOutput{Body: r.view(sub)}, nil
}

func (r *WebhookRoutes) rotate(ctx context.Context, in *webhookPath) (*webhookSecretOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	grace := r.SecretGrace
	if grace <= 0 {
		grace = webhook.DefaultSecretGrace
	}
	secret := webhook.NewSecret()
	sub, err := r.Store.RotateWebhookSecret(ctx, p.WorkspaceID, in.ID, secret, r.now().Add(grace))
	if err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	return &webhookSecretOutput{CacheControl: "no-store", Body: withSecret(r.view(sub), secret)}, nil
}

func (r *WebhookRoutes) delete(ctx context.Context, in *webhookPath) (*struct{}, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.Store.DeleteWebhookSubscription(ctx, p.WorkspaceID, in.ID); err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	return nil, nil
}

// webhookDeliveryView is a delivery as the API shows it.
type webhookDeliveryView struct {
	ID            string     `json:"id"`
	EventID       string     `json:"event_id" doc:"The webhook-id header: the same on every attempt and redelivery."`
	EventType     string     `json:"event_type"`
	Status        string     `json:"status" enum:"pending,delivered,dead" doc:"dead: given up on after the last attempt (the dead letter)."`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty" doc:"While pending: when the next attempt is due."`
	LastAttemptAt *time.Time `json:"last_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty" doc:"The receiver's HTTP status on the last attempt; absent when none came back."`
	LastError     string     `json:"last_error,omitempty" doc:"Why the last attempt failed."`
	CreatedAt     time.Time  `json:"created_at"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

func webhookDeliveryOf(d *storage.WebhookDelivery) webhookDeliveryView {
	v := webhookDeliveryView{
		ID: d.ID, EventID: d.EventID, EventType: d.EventType, Status: string(d.Status), Attempts: d.Attempts,
		LastAttemptAt: d.LastAttemptAt, LastStatus: d.LastStatus, LastError: d.LastError,
		CreatedAt: d.CreatedAt, DeliveredAt: d.DeliveredAt,
	}
	if d.Status == storage.OutboxPending {
		next := d.NextAttemptAt
		v.NextAttemptAt = &next
	}
	return v
}

type listWebhookDeliveriesInput struct {
	ID     string `path:"id" maxLength:"64" doc:"The subscription's id."`
	Status string `query:"status" enum:"pending,delivered,dead" doc:"Keep one status; dead is the dead letter."`
	Limit  int    `query:"limit" minimum:"1" maximum:"200" default:"50" doc:"The page size."`
}

type listWebhookDeliveriesOutput struct {
	Body struct {
		Deliveries []webhookDeliveryView `json:"deliveries"`
	}
}

func (r *WebhookRoutes) deliveries(ctx context.Context, in *listWebhookDeliveriesInput) (*listWebhookDeliveriesOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	ds, err := r.Store.ListWebhookDeliveries(ctx, p.WorkspaceID, in.ID, storage.WebhookDeliveryFilter{
		Status: storage.OutboxStatus(in.Status), Limit: in.Limit,
	})
	if err != nil {
		return nil, storeError(err, "webhook subscription")
	}
	out := &listWebhookDeliveriesOutput{}
	out.Body.Deliveries = make([]webhookDeliveryView, 0, len(ds))
	for i := range ds {
		out.Body.Deliveries = append(out.Body.Deliveries, webhookDeliveryOf(&ds[i]))
	}
	return out, nil
}

type redeliverInput struct {
	ID         string `path:"id" maxLength:"64" doc:"The subscription's id."`
	DeliveryID string `path:"delivery_id" maxLength:"64" doc:"The delivery's id."`
}

type webhookDeliveryOutput struct {
	Body webhookDeliveryView
}

func (r *WebhookRoutes) redeliver(ctx context.Context, in *redeliverInput) (*webhookDeliveryOutput, error) {
	p, err := workspaceCaller(ctx)
	if err != nil {
		return nil, err
	}
	sub, err := r.Store.GetWebhookSubscription(ctx, p.WorkspaceID, in.ID)
	if err != nil {
		return nil, storeError(err, "webhook delivery")
	}
	d, err := r.Store.GetWebhookDelivery(ctx, p.WorkspaceID, sub.ID, in.DeliveryID)
	if err != nil {
		return nil, storeError(err, "webhook delivery")
	}
	if !sub.Enabled {
		return nil, problem(http.StatusConflict, "conflict", "the subscription is disabled; enable it before redelivering")
	}
	d, err = r.Store.RedeliverWebhookDelivery(ctx, p.WorkspaceID, sub.ID, d.ID)
	if errors.Is(err, storage.ErrConflict) {
		return nil, problem(http.StatusConflict, "conflict", "only dead-lettered deliveries can be redelivered")
	}
	if err != nil {
		return nil, storeError(err, "webhook delivery")
	}
	return &webhookDeliveryOutput{Body: webhookDeliveryOf(d)}, nil
}

// checkURL applies the save-time SSRF rules and returns the normalized URL,
// or the field error naming body.url.
func (r *WebhookRoutes) checkURL(ctx context.Context, raw string) (string, *huma.ErrorDetail) {
	u, err := webhook.CheckURL(ctx, raw, r.URLPolicy)
	if err == nil {
		return u, nil
	}
	var value any = raw
	if len(raw) > 200 {
		value = nil // an oversized URL is not echoed back
	}
	return "", fieldError("body.url", err.Error(), value)
}

// webhookEvents checks a subscription's event types against the
// allow-list and removes duplicates; "*" alone stands for every type.
func webhookEvents(in []string) ([]string, []*huma.ErrorDetail) {
	var faults []*huma.ErrorDetail
	out := make([]string, 0, len(in))
	for i, e := range in {
		if !webhook.ValidEventFilter(e) {
			faults = append(faults, fieldError(fmt.Sprintf("body.events[%d]", i),
				"unknown event type; want one of "+strings.ReplaceAll(webhookEventEnum, ",", ", "), e))
			continue
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(in) == 0 {
		faults = append(faults, fieldError("body.events", "name at least one event type", nil))
	}
	if slices.Contains(out, webhook.EventAll) {
		out = []string{webhook.EventAll}
	}
	return out, routeCapFaults(faults)
}
