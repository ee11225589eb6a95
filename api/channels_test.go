package api

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func (e *routesEnv) createChannel(token string, body map[string]any) channelView {
	e.t.Helper()
	var c channelView
	e.do(token, http.MethodPost, "/api/v1/channels", body).ok(http.StatusCreated, &c)
	return c
}

func TestCreateChannel(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		c := e.createChannel(tn.admin, map[string]any{
			"name":            " Shop ",
			"allowed_origins": []string{"https://Shop.Example", "https://shop.example:443/", "http://localhost:3000"},
			"default_response": map[string]any{
				"greeting": map[string]string{"en": "Hello <b>there</b>", "fr": "Bonjour"},
				"then":     "queue",
			},
		})
		require.Equal(t, "Shop", c.Name)
		require.Equal(t, "web", c.Kind)
		require.Equal(t, []string{"https://shop.example", "http://localhost:3000"}, c.AllowedOrigins)
		require.Equal(t, channelDefaultResponse{Greeting: map[string]string{"en": "Hello <b>there</b>", "fr": "Bonjour"}, Then: "queue"}, c.DefaultResponse)
		require.Nil(t, c.Assistant)
		require.Regexp(t, regexp.MustCompile(`^pk_[A-Za-z0-9_-]{24,}$`), c.PublicKey)
		require.Equal(t, `<script src="https://chat.example.test/widget.js" data-channel="`+c.PublicKey+`" async></script>`, c.EmbedSnippet)

		// Two channels never share a key.
		other := e.createChannel(tn.admin, map[string]any{"name": "Blog"})
		require.NotEqual(t, c.PublicKey, other.PublicKey)
		require.Equal(t, "capture", other.DefaultResponse.Then)
		require.NotEmpty(t, other.DefaultResponse.Greeting["en"])
		require.Equal(t, []string{}, other.AllowedOrigins)

		var list listChannelsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/channels", nil).ok(http.StatusOK, &list.Body)
		require.Len(t, list.Body.Channels, 2)
		var got channelView
		e.do(tn.agent, http.MethodGet, "/api/v1/channels/"+c.ID, nil).ok(http.StatusOK, &got)
		require.Equal(t, c, got)
	})
}

func TestChannelOriginValidation(t *testing.T) {
	t.Parallel()
	good := []struct{ in, want string }{
		{"https://shop.example", "https://shop.example"},
		{"HTTPS://Shop.Example/", "https://shop.example"},
		{"https://shop.example:443", "https://shop.example"},
		{"http://shop.example:80", "http://shop.example"},
		{"https://shop.example:8443", "https://shop.example:8443"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://[::1]:8080", "http://[::1]:8080"},
		{"https://bücher.example", "https://xn--bcher-kva.example"},
		{"  https://padded.example  ", "https://padded.example"},
	}
	for _, tt := range good {
		got, msg := channelOrigin(tt.in)
		require.Empty(t, msg, tt.in)
		require.Equal(t, tt.want, got, tt.in)
	}
	bad := []string{
		"", "*", "https://*.shop.example", "https://shop.example/path", "https://shop.example/?q=1",
		"https://shop.example#top", "ftp://shop.example", "javascript:alert(1)", "shop.example",
		"//shop.example", "https://user:pw@shop.example", "https://shop.example:0", "https://shop.example:99999",
		"https://shop.example:", "https://-bad-.example", "https://sh op.example", "https://shop..example",
		"data:text/html,<script>alert(1)</script>", "https://shop.exa\nmple", "https:shop.example",
		"https://" + string(make([]byte, 300)),
	}
	for _, in := range bad {
		got, msg := channelOrigin(in)
		require.NotEmpty(t, msg, "%q was accepted as %q", in, got)
	}

	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		p := e.do(tn.admin, http.MethodPost, "/api/v1/channels", map[string]any{
			"name": "Shop", "allowed_origins": []string{"https://shop.example", "*", "https://shop.example/cart"},
		}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.allowed_origins[1]", "body.allowed_origins[2]"}, p.locations())

		many := make([]string, 21)
		for i := range many {
			many[i] = fmt.Sprintf("https://s%d.example", i)
		}
		p = e.do(tn.admin, http.MethodPost, "/api/v1/channels", map[string]any{"name": "Shop", "allowed_origins": many}).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.allowed_origins"}, p.locations())

		p = e.do(tn.admin, http.MethodPost, "/api/v1/channels", map[string]any{
			"name": "Shop", "default_response": map[string]any{"greeting": map[string]string{"en": " ", "EN!": "x"}, "then": "capture"},
		}).problem(http.StatusUnprocessableEntity)
		require.ElementsMatch(t, []string{"body.default_response.greeting", "body.default_response.greeting.en"}, p.locations())

		p = e.do(tn.admin, http.MethodPost, "/api/v1/channels", map[string]any{
			"name": "Shop", "default_response": map[string]any{"greeting": map[string]string{"en": "Hi"}, "then": "shrug"},
		}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.default_response.then"}, p.locations())

		var list listChannelsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/channels", nil).ok(http.StatusOK, &list.Body)
		require.Empty(t, list.Body.Channels, "nothing stored")

		// The same rules apply to an update.
		c := e.createChannel(tn.admin, map[string]any{"name": "Shop"})
		p = e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"allowed_origins": []string{"https://ok.example", "nope"}}).
			problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.allowed_origins[1]"}, p.locations())
	})
}

func TestUpdateChannel(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		c := e.createChannel(tn.admin, map[string]any{"name": "Shop", "allowed_origins": []string{"https://a.example"}})

		var got channelView
		e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"name": "Store"}).ok(http.StatusOK, &got)
		require.Equal(t, "Store", got.Name)
		require.Equal(t, c.AllowedOrigins, got.AllowedOrigins, "untouched")
		require.Equal(t, c.PublicKey, got.PublicKey)

		got = channelView{} // decoding into a used value would merge maps
		e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{
			"allowed_origins":  []string{"https://b.example", "https://c.example"},
			"default_response": map[string]any{"greeting": map[string]string{"de": "Hallo"}, "then": "queue"},
		}).ok(http.StatusOK, &got)
		require.Equal(t, "Store", got.Name)
		require.Equal(t, []string{"https://b.example", "https://c.example"}, got.AllowedOrigins)
		require.Equal(t, channelDefaultResponse{Greeting: map[string]string{"de": "Hallo"}, Then: "queue"}, got.DefaultResponse)

		e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"allowed_origins": []string{}}).ok(http.StatusOK, &got)
		require.Equal(t, []string{}, got.AllowedOrigins)

		stored, err := s.GetChannel(t.Context(), tn.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, "Store", stored.Name)

		p := e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"name": "Shop\x00"}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.name"}, p.locations())
		p = e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"public_key": "pk_mine"}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.public_key"}, p.locations())
		e.do(tn.agent, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"name": "X"}).problem(http.StatusForbidden)
		e.do(tn.admin, http.MethodPatch, "/api/v1/channels/unknown", map[string]any{"name": "X"}).problem(http.StatusNotFound)
	})
}

func TestConnectReplacesTheAssistant(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		c := e.createChannel(tn.admin, map[string]any{"name": "Shop"})
		first := e.createAssistant(tn.builder, map[string]any{"name": "First"})
		second := e.createAssistant(tn.builder, map[string]any{"name": "Second"})
		e.publish(tn.builder, first.ID)

		var got channelView
		e.do(tn.admin, http.MethodPut, "/api/v1/channels/"+c.ID+"/assistant", map[string]any{"assistant_id": first.ID}).ok(http.StatusOK, &got)
		require.Equal(t, &channelAssistant{ID: first.ID, Name: "First"}, got.Assistant)
		statuses := func() map[string]assistantView {
			var list listAssistantsOutput
			e.do(tn.agent, http.MethodGet, "/api/v1/assistants", nil).ok(http.StatusOK, &list.Body)
			out := map[string]assistantView{}
			for _, a := range list.Body.Assistants {
				out[a.Name] = a
			}
			return out
		}
		st := statuses()
		require.Equal(t, "active", st["First"].Status)
		require.Equal(t, []assistantChannel{{ID: c.ID, Name: "Shop"}}, st["First"].Channels)

		e.do(tn.admin, http.MethodPut, "/api/v1/channels/"+c.ID+"/assistant", map[string]any{"assistant_id": second.ID}).ok(http.StatusOK, &got)
		require.Equal(t, &channelAssistant{ID: second.ID, Name: "Second"}, got.Assistant)
		st = statuses()
		require.Equal(t, "draft", st["First"].Status)
		require.Empty(t, st["First"].Channels)
		require.Equal(t, "draft", st["Second"].Status, "connected but never published")
		require.Equal(t, []assistantChannel{{ID: c.ID, Name: "Shop"}}, st["Second"].Channels)

		var list listChannelsOutput
		e.do(tn.agent, http.MethodGet, "/api/v1/channels", nil).ok(http.StatusOK, &list.Body)
		require.Equal(t, &channelAssistant{ID: second.ID, Name: "Second"}, list.Body.Channels[0].Assistant)

		e.do(tn.admin, http.MethodDelete, "/api/v1/channels/"+c.ID+"/assistant", nil).ok(http.StatusOK, &got)
		require.Nil(t, got.Assistant)
		require.Empty(t, statuses()["Second"].Channels)

		p := e.do(tn.admin, http.MethodPut, "/api/v1/channels/"+c.ID+"/assistant", map[string]any{"assistant_id": "missing"}).problem(http.StatusNotFound)
		require.Contains(t, p.Detail, "assistant")
		p = e.do(tn.admin, http.MethodPut, "/api/v1/channels/missing/assistant", map[string]any{"assistant_id": first.ID}).problem(http.StatusNotFound)
		require.Contains(t, p.Detail, "channel")
		e.do(tn.builder, http.MethodPut, "/api/v1/channels/"+c.ID+"/assistant", map[string]any{"assistant_id": first.ID}).problem(http.StatusForbidden)
	})
}
