package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
	"github.com/frontdesk/frontdesk/wire"
)

// signHex and signBase64 sign an identity's subject as a site's backend
// does: HMAC-SHA256 keyed with the secret string's bytes.
func signHex(secret, subject string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(subject))
	return hex.EncodeToString(m.Sum(nil))
}

func signBase64(secret, subject string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(subject))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// identityTenant is a widget tenant whose channel verifies identities,
// with one node serving it.
type identityTenant struct {
	*widgetTenant
	n      *widgetServer
	secret string
}

func newIdentityTenant(t *testing.T, s *storage.Store) *identityTenant {
	t.Helper()
	tn := newWidgetTenantOn(t, s)
	secret, ch, err := s.GenerateIdentitySecret(context.Background(), tn.ws, tn.channel.ID)
	require.NoError(t, err)
	tn.channel = ch
	return &identityTenant{widgetTenant: tn, n: serveWidget(t, tn, nil), secret: secret}
}

// ada is a logged-in visitor signed with secret (hex).
func ada(secret string) *wire.Identity {
	return &wire.Identity{ID: "user_829", Email: "ada@example.com", Name: "Ada Lovelace", Signature: signHex(secret, "user_829")}
}

func (tn *identityTenant) conversation(id string) *storage.Conversation {
	tn.t.Helper()
	c, err := tn.store.GetConversation(context.Background(), tn.ws, id)
	require.NoError(tn.t, err)
	return c
}

// identified reads visitor.identified from the conversation's state.
func (tn *identityTenant) identified(id string) bool {
	tn.t.Helper()
	var st struct {
		Visitor struct {
			Identified bool `json:"identified"`
		} `json:"visitor"`
	}
	require.NoError(tn.t, json.Unmarshal(tn.conversation(id).State, &st))
	return st.Visitor.Identified
}

// A verified visitor is identified, and finds their conversation and its
// history on another device, without a token.
func TestSignedIdentityFollowsThePerson(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		tn := newIdentityTenant(t, s)

		laptop := tn.n.visitor("", wire.Hello{Identity: ada(tn.secret)})
		laptop.next("event") // the greeting
		laptop.say("m-1", "Do you ship to Norway?")
		require.Equal(t, "ack", laptop.answer("m-1")["type"])
		conv := tn.conversation(laptop.conversation())
		require.True(t, strings.HasPrefix(conv.VisitorID, "id:"), conv.VisitorID)
		require.NotContains(t, conv.VisitorID, "user_829", "the raw id is not the visitor id")
		require.True(t, tn.identified(conv.ID), "visitor.identified")
		_ = laptop.conn.Close()

		// A phone: no token, the same person, signed in base64 this time.
		id := ada(tn.secret)
		id.Signature = signBase64(tn.secret, "user_829")
		phone := tn.n.visitor("", wire.Hello{Identity: id})
		require.Equal(t, conv.ID, phone.conversation(), "the same conversation")
		var texts []string
		for len(texts) < 2 {
			ev := phone.next("event")
			if m, ok := ev["message"].(map[string]any); ok {
				texts = append(texts, m["text"].(string))
			}
		}
		require.Equal(t, "Do you ship to Norway?", texts[1], "the history is replayed")
		require.Equal(t, int64(1), tn.conversations())

		// Its token resumes it too, with the identity.
		again := tn.n.visitor("", wire.Hello{Token: phone.token(), Identity: ada(tn.secret), LastSeq: conv.LastSeq})
		require.Equal(t, conv.ID, again.conversation())
		require.Equal(t, int64(1), tn.conversations())

		// Signed by email alone: another visitor id (an id and an email
		// are never the same person by accident).
		byEmail := tn.n.visitor("", wire.Hello{Identity: &wire.Identity{Email: "ada@example.com", Signature: signHex(tn.secret, "ada@example.com")}})
		require.NotEqual(t, conv.ID, byEmail.conversation())
		require.True(t, tn.identified(byEmail.conversation()))
		again = tn.n.visitor("", wire.Hello{Identity: &wire.Identity{Email: "ada@example.com", Signature: signBase64(tn.secret, "ada@example.com")}})
		require.Equal(t, byEmail.conversation(), again.conversation())
	})
}

// A signature that does not verify closes the socket with 4001, and
// nothing is created.
func TestSignedIdentityRefused(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		tn := newIdentityTenant(t, s)
		other, _, err := s.GenerateIdentitySecret(context.Background(), tn.ws, mustChannel(t, s, tn.ws).ID)
		require.NoError(t, err)
		good := signHex(tn.secret, "user_829")
		for name, id := range map[string]*wire.Identity{
			"wrong signature":          {ID: "user_829", Signature: strings.Repeat("0", 64)},
			"another channel's secret": {ID: "user_829", Signature: signHex(other, "user_829")},
			"another id's signature":   {ID: "user_830", Signature: good},
			"signed email, id given":   {ID: "user_829", Email: "ada@example.com", Signature: signHex(tn.secret, "ada@example.com")},
			"truncated":                {ID: "user_829", Signature: good[:62]},
			"not a MAC":                {ID: "user_829", Signature: "00ff"},
			"empty secret's MAC":       {ID: "user_829", Signature: signHex("", "user_829")},
		} {
			c := tn.n.hello("", wire.Hello{Identity: id})
			ce := c.closeError()
			require.Equal(t, wire.CloseUnauthorized, ce.Code, name)
			require.Contains(t, ce.Text, "identity", name)
		}
		// With a valid token too: the token does not excuse the identity.
		anon := tn.n.visitor("", wire.Hello{})
		before := tn.conversations()
		c := tn.n.hello("", wire.Hello{Token: anon.token(), Identity: &wire.Identity{ID: "user_829", Signature: strings.Repeat("ab", 32)}})
		require.Equal(t, wire.CloseUnauthorized, c.closeError().Code)
		require.Equal(t, before, tn.conversations(), "nothing created")
		require.Equal(t, int64(1), before)
	})
}

func mustChannel(t *testing.T, s *storage.Store, ws string) *storage.Channel {
	t.Helper()
	ch, err := s.CreateChannel(context.Background(), ws, storage.NewChannel{Name: "Blog", AllowedOrigins: []string{widgetOrigin}})
	require.NoError(t, err)
	return ch
}

// A rotated secret refuses the old signatures at once; the new ones find
// the same person. Without a secret, identities are ignored again.
func TestSignedIdentityRotateAndTurnOff(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		tn := newIdentityTenant(t, s)
		first := tn.n.visitor("", wire.Hello{Identity: ada(tn.secret)})
		old := tn.secret

		rotated, _, err := s.GenerateIdentitySecret(ctx, tn.ws, tn.channel.ID)
		require.NoError(t, err)
		c := tn.n.hello("", wire.Hello{Identity: ada(old)})
		require.Equal(t, wire.CloseUnauthorized, c.closeError().Code, "the old secret's signature")
		again := tn.n.visitor("", wire.Hello{Identity: ada(rotated)})
		require.Equal(t, first.conversation(), again.conversation(), "the same person under the new secret")

		// Turned off: the identity is ignored, even a valid one, and the
		// visitor starts anonymous.
		_, err = s.ClearIdentitySecret(ctx, tn.ws, tn.channel.ID)
		require.NoError(t, err)
		anon := tn.n.visitor("", wire.Hello{Identity: ada(rotated)})
		require.NotEqual(t, first.conversation(), anon.conversation())
		require.True(t, strings.HasPrefix(tn.conversation(anon.conversation()).VisitorID, "vis_"))
		require.False(t, tn.identified(anon.conversation()))
		forged := tn.n.visitor("", wire.Hello{Identity: &wire.Identity{ID: "user_829", Signature: "00ff"}})
		require.NotEqual(t, anon.conversation(), forged.conversation(), "every visitor is anonymous and on their own")
	})
}

// A channel without a secret ignores identities (the behaviour before
// verification existed): a signed-looking identity is anonymous and merges
// nothing.
func TestIdentityIgnoredWithoutSecret(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		tn := newWidgetTenantOn(t, s)
		n := serveWidget(t, tn, nil)
		a := n.visitor("", wire.Hello{Identity: ada("whatever")})
		b := n.visitor("", wire.Hello{Identity: ada("whatever")})
		require.NotEqual(t, a.conversation(), b.conversation())
		conv, err := s.GetConversation(context.Background(), tn.ws, a.conversation())
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(conv.VisitorID, "vis_"))
	})
}

// Tokens and identities: an anonymous conversation is never merged into an
// identity, and a token of one identity never claims another.
func TestSignedIdentityAndTokens(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		tn := newIdentityTenant(t, s)

		// Anonymous first, then the visitor logs in: the identity's
		// conversation, not the anonymous one.
		anon := tn.n.visitor("", wire.Hello{})
		anonConv := tn.conversation(anon.conversation())
		logged := tn.n.visitor("", wire.Hello{Token: anon.token(), Identity: ada(tn.secret)})
		require.NotEqual(t, anonConv.ID, logged.conversation())
		require.Equal(t, anonConv.VisitorID, tn.conversation(anonConv.ID).VisitorID, "the anonymous conversation is left alone")
		require.True(t, tn.identified(logged.conversation()))

		// Ada's token with Bob's valid identity: Bob's conversation.
		bob := &wire.Identity{ID: "user_900", Signature: signHex(tn.secret, "user_900")}
		asBob := tn.n.visitor("", wire.Hello{Token: logged.token(), Identity: bob})
		require.NotEqual(t, logged.conversation(), asBob.conversation())
		require.NotEqual(t, tn.conversation(logged.conversation()).VisitorID, tn.conversation(asBob.conversation()).VisitorID)

		// Ada's token alone resumes her open conversation (the token was
		// issued to this browser)...
		alone := tn.n.visitor("", wire.Hello{Token: logged.token()})
		require.Equal(t, logged.conversation(), alone.conversation())
		// ...but once it is closed, starts an anonymous one, never a
		// conversation as Ada.
		c := tn.conversation(logged.conversation())
		_, err := s.SetConversationStatus(ctx, tn.ws, c.ID, c.Version, storage.StatusClosed, "")
		require.NoError(t, err)
		after := tn.n.visitor("", wire.Hello{Token: logged.token()})
		require.NotEqual(t, c.ID, after.conversation())
		require.True(t, strings.HasPrefix(tn.conversation(after.conversation()).VisitorID, "vis_"))
		require.False(t, tn.identified(after.conversation()))

		// Ada again, signed: her conversation is closed, so a new one as
		// her, a returning visitor.
		back := tn.n.visitor("", wire.Hello{Identity: ada(tn.secret)})
		require.NotEqual(t, c.ID, back.conversation())
		require.Equal(t, c.VisitorID, tn.conversation(back.conversation()).VisitorID)
		var st struct {
			Visitor engine.VisitorEnv `json:"visitor"`
		}
		require.NoError(t, json.Unmarshal(tn.conversation(back.conversation()).State, &st))
		require.False(t, st.Visitor.IsNew)
		require.True(t, st.Visitor.Identified)
	})
}

// A verified identity sets the identity_* variables at the start of a
// chat; the page cannot set them.
func TestSignedIdentityVariables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tn := newIdentityTenant(t, storagetest.Open(t, storage.SQLite))
	f, err := playbooks.Template("lead-qualification")
	require.NoError(t, err)
	f.Graph.Variables = append(f.Graph.Variables,
		engine.VariableDecl{Name: "identity_id", Type: engine.VarString},
		engine.VariableDecl{Name: "identity_email", Type: engine.VarString},
		engine.VariableDecl{Name: "identity_name", Type: engine.VarString},
		engine.VariableDecl{Name: "plan", Type: engine.VarString})
	graph, err := json.Marshal(f.Graph)
	require.NoError(t, err)
	_, err = tn.store.PublishVersion(ctx, tn.ws, tn.channel.AssistantID, graph, "")
	require.NoError(t, err)
	vars := func(convID string) map[string]any {
		var st struct {
			Vars map[string]any `json:"vars"`
		}
		require.NoError(t, json.Unmarshal(tn.conversation(convID).State, &st))
		return st.Vars
	}

	signed := tn.n.visitor("", wire.Hello{Identity: ada(tn.secret), Vars: map[string]any{"plan": "pro", "identity_email": "mallory@example.com"}})
	v := vars(signed.conversation())
	require.Equal(t, "user_829", v["identity_id"])
	require.Equal(t, "ada@example.com", v["identity_email"], "the signed identity wins over the page's vars")
	require.Equal(t, "Ada Lovelace", v["identity_name"])
	require.Equal(t, "pro", v["plan"])

	spoof := tn.n.visitor("", wire.Hello{Vars: map[string]any{"identity_email": "mallory@example.com", "identity_id": "user_829"}})
	v = vars(spoof.conversation())
	require.Equal(t, "", v["identity_email"])
	require.Equal(t, "", v["identity_id"])
}

// The identity secret routes: admin only, the secret shown once, never in
// a channel view.
func TestIdentitySecretRoutes(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newRoutesEnv(t, s)
		tn := e.tenant("acme")
		c := e.createChannel(tn.admin, map[string]any{"name": "Shop"})
		require.False(t, c.IdentityVerification)
		require.Nil(t, c.IdentitySecretSetAt)

		path := "/api/v1/channels/" + c.ID + "/identity-secret"
		e.do(tn.agent, http.MethodPost, path, nil).problem(http.StatusForbidden)
		e.do(tn.builder, http.MethodPost, path, nil).problem(http.StatusForbidden)
		e.do(tn.agent, http.MethodDelete, path, nil).problem(http.StatusForbidden)

		var out struct {
			Secret  string      `json:"secret"`
			Channel channelView `json:"channel"`
		}
		res := e.do(tn.admin, http.MethodPost, path, nil).ok(http.StatusOK, &out)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		require.Regexp(t, `^fdid_[A-Za-z0-9_-]{43}$`, out.Secret)
		require.True(t, out.Channel.IdentityVerification)
		require.NotNil(t, out.Channel.IdentitySecretSetAt)
		stored, err := s.GetChannel(context.Background(), tn.ws, c.ID)
		require.NoError(t, err)
		require.Equal(t, out.Secret, stored.IdentitySecret)

		// Never again: not in the list, the channel, or an update.
		for _, r := range []*routesResponse{
			e.do(tn.agent, http.MethodGet, "/api/v1/channels", nil),
			e.do(tn.admin, http.MethodGet, "/api/v1/channels/"+c.ID, nil),
			e.do(tn.admin, http.MethodPatch, "/api/v1/channels/"+c.ID, map[string]any{"name": "Shop 2"}),
			e.do(tn.admin, http.MethodDelete, "/api/v1/channels/"+c.ID+"/assistant", nil),
		} {
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			require.NotContains(t, string(r.body), out.Secret)
			require.NotContains(t, string(r.body), "fdid_")
			require.Contains(t, string(r.body), `"identity_verification":true`)
		}

		// Rotating gives a new one.
		var rotated struct {
			Secret string `json:"secret"`
		}
		e.do(tn.owner, http.MethodPost, path, nil).ok(http.StatusOK, &rotated)
		require.NotEqual(t, out.Secret, rotated.Secret)

		// Turned off.
		var off channelView
		e.do(tn.admin, http.MethodDelete, path, nil).ok(http.StatusOK, &off)
		require.False(t, off.IdentityVerification)
		require.Nil(t, off.IdentitySecretSetAt)
		stored, err = s.GetChannel(context.Background(), tn.ws, c.ID)
		require.NoError(t, err)
		require.Empty(t, stored.IdentitySecret)

		// Another tenant's channel is not found.
		them := e.tenant("them")
		e.do(them.admin, http.MethodPost, path, nil).problem(http.StatusNotFound)
		e.do(them.admin, http.MethodDelete, path, nil).problem(http.StatusNotFound)
		e.do(tn.admin, http.MethodPost, "/api/v1/channels/nope/identity-secret", nil).problem(http.StatusNotFound)
	})
}
