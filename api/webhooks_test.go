package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/webhook"
	"github.com/frontdesk/frontdesk/webhook/webhooktest"
)

// newWebhookEnv serves the webhook routes over s, with host names resolved
// by a test DNS server (public.example.com is public, the others internal)
// instead of the system's.
func newWebhookEnv(t *testing.T, s *storage.Store, policy webhook.URLPolicy) *routesEnv {
	t.Helper()
	if policy.Resolver == nil && !policy.AllowPrivate {
		policy.Resolver, _ = webhooktest.DNS(t, map[string][]netip.Addr{
			"public.example.com":   {netip.MustParseAddr("93.184.216.34")},
			"internal.example.com": {netip.MustParseAddr("10.1.2.3")},
			"rebind.example.com":   {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("127.0.0.1")},
			"metadata.example.com": {netip.MustParseAddr("169.254.169.254")},
		})
	}
	a := &bearerAuth{byToken: map[string]Principal{}}
	srv := New(Deps{
		Config:   config.Default(),
		Store:    s,
		Auth:     a,
		Services: []Routes{&WebhookRoutes{Store: s, URLPolicy: policy}},
	})
	return &routesEnv{t: t, store: s, srv: srv, auth: a}
}

type webhookSecretBody = webhookSecretView

func (e *routesEnv) createWebhook(token string, body map[string]any) webhookSecretBody {
	e.t.Helper()
	var w webhookSecretBody
	res := e.do(token, http.MethodPost, "/api/v1/webhooks", body).ok(http.StatusCreated, &w)
	require.Equal(e.t, "no-store", res.header.Get("Cache-Control"), "the secret is not cached")
	return w
}

func TestWebhookSubscriptionRoutes(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newWebhookEnv(t, s, webhook.URLPolicy{})
		tn := e.tenant("acme")
		w := e.createWebhook(tn.admin, map[string]any{
			"url":    "HTTPS://Public.Example.com/hooks?src=frontdesk",
			"events": []string{"lead.created", "conversation.closed", "lead.created"},
		})
		require.Equal(t, "https://public.example.com/hooks?src=frontdesk", w.URL, "normalized")
		require.Equal(t, []string{"lead.created", "conversation.closed"}, w.Events, "duplicates dropped")
		require.True(t, w.Enabled)
		require.True(t, strings.HasPrefix(w.Secret, "whsec_"), w.Secret)
		require.Nil(t, w.PreviousSecretExpiresAt)

		// The secret is shown once: never by get or list.
		res := e.do(tn.owner, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil).ok(http.StatusOK, nil)
		require.NotContains(t, string(res.body), w.Secret)
		require.NotContains(t, string(res.body), `"secret"`)
		var list listWebhooksOutput
		res = e.do(tn.admin, http.MethodGet, "/api/v1/webhooks", nil).ok(http.StatusOK, &list.Body)
		require.Len(t, list.Body.Webhooks, 1)
		require.NotContains(t, string(res.body), w.Secret)

		var upd webhookView
		e.do(tn.admin, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{
			"url": "https://public.example.com/v2", "events": []string{"*", "lead.created"}, "enabled": false,
		}).ok(http.StatusOK, &upd)
		require.Equal(t, "https://public.example.com/v2", upd.URL)
		require.Equal(t, []string{"*"}, upd.Events, "* stands for every type")
		require.False(t, upd.Enabled)
		e.do(tn.admin, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"enabled": true}).ok(http.StatusOK, &upd)
		require.True(t, upd.Enabled)
		require.Equal(t, "https://public.example.com/v2", upd.URL, "fields not given are kept")

		before := time.Now()
		var rot webhookSecretBody
		res = e.do(tn.admin, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/rotate-secret", nil).ok(http.StatusOK, &rot)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		require.NotEqual(t, w.Secret, rot.Secret)
		require.True(t, strings.HasPrefix(rot.Secret, "whsec_"))
		require.NotNil(t, rot.PreviousSecretExpiresAt)
		require.WithinDuration(t, before.Add(24*time.Hour), *rot.PreviousSecretExpiresAt, time.Minute)
		stored, err := s.GetWebhookSubscription(t.Context(), tn.ws, w.ID)
		require.NoError(t, err)
		require.Equal(t, []string{rot.Secret, w.Secret}, stored.SigningSecrets(time.Now()), "both sign during the grace period")

		e.do(tn.admin, http.MethodDelete, "/api/v1/webhooks/"+w.ID, nil).ok(http.StatusNoContent, nil)
		e.do(tn.admin, http.MethodGet, "/api/v1/webhooks/"+w.ID, nil).problem(http.StatusNotFound)
		e.do(tn.admin, http.MethodDelete, "/api/v1/webhooks/"+w.ID, nil).problem(http.StatusNotFound)
	})
}

func TestWebhookURLRefusedAtSave(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newWebhookEnv(t, s, webhook.URLPolicy{})
		tn := e.tenant("acme")
		w := e.createWebhook(tn.admin, map[string]any{"url": "https://public.example.com/", "events": []string{"*"}})
		refused := []string{
			"http://public.example.com/",
			"ftp://public.example.com/",
			"file:///etc/passwd",
			"https://user:secret@public.example.com/",
			"https://127.0.0.1/",
			"https://10.0.0.1/",
			"https://192.168.1.1/",
			"https://172.31.255.255/",
			"https://169.254.169.254/latest/meta-data/",
			"https://100.64.0.1/",
			"https://[::1]/",
			"https://[fe80::1]/",
			"https://[::ffff:127.0.0.1]/",
			"https://[::ffff:169.254.169.254]/",
			"https://2130706433/",
			"https://0x7f000001/",
			"https://0177.0.0.1/",
			"https://127.1/",
			"https://localhost/",
			"https://localhost./",
			"https://internal.example.com/",
			"https://rebind.example.com/",
			"https://metadata.example.com/",
			"https://unknown.example.com/",
			"https://public.example.com/" + strings.Repeat("a", 2048),
		}
		for _, u := range refused {
			p := e.do(tn.admin, http.MethodPost, "/api/v1/webhooks", map[string]any{"url": u, "events": []string{"*"}}).
				problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.url"}, p.locations(), "create %s: %+v", u, p)
			p = e.do(tn.admin, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"url": u}).
				problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.url"}, p.locations(), "update %s", u)
		}
		list, err := s.ListWebhookSubscriptions(t.Context(), tn.ws, 0)
		require.NoError(t, err)
		require.Len(t, list, 1, "nothing refused was stored")
		require.Equal(t, "https://public.example.com/", list[0].URL, "nor changed")
	})
}

func TestWebhookBodyValidation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newWebhookEnv(t, s, webhook.URLPolicy{})
		tn := e.tenant("acme")
		for name, c := range map[string]struct {
			body  string
			field string
		}{
			"unknown event":   {`{"url":"https://public.example.com/","events":["lead.deleted"]}`, "body.events[0]"},
			"no events":       {`{"url":"https://public.example.com/","events":[]}`, "body.events"},
			"mass assignment": {`{"url":"https://public.example.com/","events":["*"],"workspace_id":"other"}`, "body.workspace_id"},
			"chosen secret":   {`{"url":"https://public.example.com/","events":["*"],"secret":"whsec_mine"}`, "body.secret"},
			// huma names the body for a missing property, and the property in
			// the message.
			"missing events": {`{"url":"https://public.example.com/"}`, "body"},
			"missing url":    {`{"events":["*"]}`, "body"},
		} {
			p := e.do(tn.admin, http.MethodPost, "/api/v1/webhooks", c.body).problem(http.StatusUnprocessableEntity)
			require.Contains(t, p.locations(), c.field, name)
		}
		e.do(tn.admin, http.MethodPost, "/api/v1/webhooks", strings.Repeat("x", webhookBodyBytes+1)).
			problem(http.StatusRequestEntityTooLarge)
		for range storage.MaxWebhookSubscriptions {
			e.createWebhook(tn.admin, map[string]any{"url": "https://public.example.com/", "events": []string{"*"}})
		}
		p := e.do(tn.admin, http.MethodPost, "/api/v1/webhooks", map[string]any{"url": "https://public.example.com/", "events": []string{"*"}}).
			problem(http.StatusUnprocessableEntity)
		require.Contains(t, p.Detail, "limit")
	})
}

// TestWebhookEnumMatchesTheAllowList keeps the schema's enum tags in step
// with webhook.EventTypes.
func TestWebhookEnumMatchesTheAllowList(t *testing.T) {
	t.Parallel()
	e := newWebhookEnv(t, nil, webhook.URLPolicy{AllowPrivate: true})
	oapi := e.srv.API().OpenAPI()
	want := append(slices.Clone(webhook.EventTypes), webhook.EventAll)
	for path, method := range map[string]string{"/api/v1/webhooks": http.MethodPost, "/api/v1/webhooks/{id}": http.MethodPatch} {
		op := authTestOperations(oapi.Paths[path])[method]
		schema := op.RequestBody.Content["application/json"].Schema
		if schema.Ref != "" {
			schema = oapi.Components.Schemas.SchemaFromRef(schema.Ref)
		}
		var got []string
		for _, v := range schema.Properties["events"].Items.Enum {
			got = append(got, v.(string))
		}
		require.Equal(t, want, got, path)
	}
}

// TestWebhookRoutesNeedAnAdmin walks the webhook routes the router has: no
// credentials get 401, members below admin 403.
func TestWebhookRoutesNeedAnAdmin(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newWebhookEnv(t, s, webhook.URLPolicy{})
		tn := e.tenant("acme")
		w := e.createWebhook(tn.admin, map[string]any{"url": "https://public.example.com/", "events": []string{"*"}})
		n := 0
		for path, item := range e.srv.API().OpenAPI().Paths {
			for method, op := range authTestOperations(item) {
				n++
				require.Equal(t, AccessAdmin, AccessOf(op), "%s %s", method, path)
				url := strings.NewReplacer("{id}", w.ID, "{delivery_id}", "d1").Replace(path)
				e.do("", method, url, map[string]any{}).problem(http.StatusUnauthorized)
				for _, who := range []string{tn.agent, tn.builder} {
					e.do(who, method, url, map[string]any{}).problem(http.StatusForbidden)
				}
			}
		}
		require.Equal(t, 8, n)
		got, err := s.GetWebhookSubscription(t.Context(), tn.ws, w.ID)
		require.NoError(t, err)
		require.Equal(t, w.Secret, got.Secret, "nothing changed")
	})
}

func TestWebhookTenantIsolation(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newWebhookEnv(t, s, webhook.URLPolicy{})
		them := e.tenant("globex")
		me := e.tenant("acme")
		theirs := e.createWebhook(them.admin, map[string]any{"url": "https://public.example.com/theirs", "events": []string{"*"}})
		_, err := s.InsertOutbox(t.Context(), them.ws, storage.NewOutboxEntry{EventType: "lead.created", Payload: storage.JSON(`{}`)})
		require.NoError(t, err)
		es, err := s.ClaimOutbox(t.Context(), time.Now().Add(time.Second), 10, time.Minute)
		require.NoError(t, err)
		_, err = s.FanOutWebhookEvent(t.Context(), &es[0])
		require.NoError(t, err)
		ds, err := s.ListWebhookDeliveries(t.Context(), them.ws, theirs.ID, storage.WebhookDeliveryFilter{})
		require.NoError(t, err)
		require.Len(t, ds, 1)

		calls := map[string]struct {
			method, path string
			body         any
		}{
			"getWebhook":               {http.MethodGet, "/api/v1/webhooks/" + theirs.ID, nil},
			"updateWebhook":            {http.MethodPatch, "/api/v1/webhooks/" + theirs.ID, map[string]any{"url": "https://public.example.com/mine"}},
			"updateWebhookBadBody":     {http.MethodPatch, "/api/v1/webhooks/" + theirs.ID, map[string]any{"url": "https://localhost/"}},
			"rotateWebhookSecret":      {http.MethodPost, "/api/v1/webhooks/" + theirs.ID + "/rotate-secret", nil},
			"deleteWebhook":            {http.MethodDelete, "/api/v1/webhooks/" + theirs.ID, nil},
			"listWebhookDeliveries":    {http.MethodGet, "/api/v1/webhooks/" + theirs.ID + "/deliveries", nil},
			"redeliverWebhookDelivery": {http.MethodPost, "/api/v1/webhooks/" + theirs.ID + "/deliveries/" + ds[0].ID + "/redeliver", nil},
		}
		for name, c := range calls {
			res := e.do(me.owner, c.method, c.path, c.body)
			p := res.problem(http.StatusNotFound)
			require.Equal(t, "not_found", p.Code, name)
			require.NotContains(t, string(res.body), "theirs", name)
		}
		var list listWebhooksOutput
		e.do(me.admin, http.MethodGet, "/api/v1/webhooks", nil).ok(http.StatusOK, &list.Body)
		require.Empty(t, list.Body.Webhooks)

		got, err := s.GetWebhookSubscription(t.Context(), them.ws, theirs.ID)
		require.NoError(t, err)
		require.Equal(t, theirs.URL, got.URL)
		require.Equal(t, theirs.Secret, got.Secret)
	})
}

// TestWebhookDeliveriesAndRedelivery runs a real dispatcher against a real
// receiver: a failing receiver's delivery is dead-lettered, listed, and
// redelivered under the same event id.
func TestWebhookDeliveriesAndRedelivery(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		rc := webhooktest.NewReceiver(t)
		rc.Handle(func(w http.ResponseWriter, _ *http.Request, _ int) { w.WriteHeader(http.StatusServiceUnavailable) })
		e := newWebhookEnv(t, s, webhook.URLPolicy{AllowPrivate: true}) // the receiver is on 127.0.0.1
		tn := e.tenant("acme")
		w := e.createWebhook(tn.admin, map[string]any{"url": rc.URL + "/hook", "events": []string{"lead.created"}})
		d, err := webhook.NewDispatcher(webhook.Config{
			Store:      s,
			Logger:     slog.New(slog.DiscardHandler),
			AllowAddrs: []netip.AddrPort{rc.AddrPort()},
			Retry:      webhook.RetryPolicy{Delays: []time.Duration{time.Second}, MaxAttempts: 1},
		})
		require.NoError(t, err)
		ev, err := s.InsertOutbox(ctx, tn.ws, storage.NewOutboxEntry{EventType: "lead.created", Payload: storage.JSON(`{"lead_id":"l1"}`)})
		require.NoError(t, err)
		require.Equal(t, 1, d.Drain(ctx).Dead)

		var out listWebhookDeliveriesOutput
		e.do(tn.admin, http.MethodGet, "/api/v1/webhooks/"+w.ID+"/deliveries?status=dead", nil).ok(http.StatusOK, &out.Body)
		require.Len(t, out.Body.Deliveries, 1)
		dead := out.Body.Deliveries[0]
		require.Equal(t, ev.EventID, dead.EventID)
		require.Equal(t, "dead", dead.Status)
		require.Equal(t, 1, dead.Attempts)
		require.Equal(t, http.StatusServiceUnavailable, dead.LastStatus)
		require.Equal(t, "gave up after 1 attempts: HTTP 503", dead.LastError)
		require.Nil(t, dead.NextAttemptAt)
		e.do(tn.admin, http.MethodGet, "/api/v1/webhooks/"+w.ID+"/deliveries?status=pending", nil).ok(http.StatusOK, &out.Body)
		require.Empty(t, out.Body.Deliveries)
		e.do(tn.admin, http.MethodGet, "/api/v1/webhooks/"+w.ID+"/deliveries?status=lost", nil).problem(http.StatusUnprocessableEntity)

		redeliver := "/api/v1/webhooks/" + w.ID + "/deliveries/" + dead.ID + "/redeliver"
		e.do(tn.admin, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"enabled": false}).ok(http.StatusOK, nil)
		e.do(tn.admin, http.MethodPost, redeliver, nil).problem(http.StatusConflict)
		e.do(tn.admin, http.MethodPatch, "/api/v1/webhooks/"+w.ID, map[string]any{"enabled": true}).ok(http.StatusOK, nil)

		var queued webhookDeliveryView
		e.do(tn.admin, http.MethodPost, redeliver, nil).ok(http.StatusAccepted, &queued)
		require.Equal(t, "pending", queued.Status)
		require.Zero(t, queued.Attempts)
		require.NotNil(t, queued.NextAttemptAt)
		p := e.do(tn.admin, http.MethodPost, redeliver, nil).problem(http.StatusConflict)
		require.Contains(t, p.Detail, "dead-lettered")

		rc.Handle(nil)
		require.Equal(t, 1, d.Drain(ctx).Delivered)
		reqs := rc.Requests()
		require.Len(t, reqs, 2)
		require.Equal(t, reqs[0].Header.Get(webhook.HeaderID), reqs[1].Header.Get(webhook.HeaderID), "a redelivery keeps the event id")
		require.NoError(t, webhook.Verify(w.Secret, reqs[1].Header, reqs[1].Body, time.Now(), 0))
		e.do(tn.admin, http.MethodGet, "/api/v1/webhooks/"+w.ID+"/deliveries", nil).ok(http.StatusOK, &out.Body)
		require.Equal(t, "delivered", out.Body.Deliveries[0].Status)
		e.do(tn.admin, http.MethodPost, "/api/v1/webhooks/"+w.ID+"/deliveries/missing/redeliver", nil).problem(http.StatusNotFound)
	})
}
