package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// deactivateTestMember is a member with the deactivation fields, as the
// API shows them.
type deactivateTestMember struct {
	ID            string     `json:"id"`
	Email         string     `json:"email"`
	Role          string     `json:"role"`
	Active        *bool      `json:"active"`
	DeactivatedAt *time.Time `json:"deactivated_at"`
}

func TestPeopleDeactivationSignsTheMemberOutEverywhere(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		agent := e.member(owner, "agent@acme.test", "agent")
		phone := e.login("agent@acme.test", authTestPassword)
		var tok struct{ Token string }
		// An agent cannot make tokens; an admin can, and is deactivated
		// below with it.
		admin := e.member(owner, "admin@acme.test", "admin")
		e.do(admin.creds(), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "CRM sync"}).ok(http.StatusCreated, &tok)
		var ownerTok struct{ Token string }
		e.do(owner.creds(), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "owner's"}).ok(http.StatusCreated, &ownerTok)

		// Active members say so; deactivated_at is absent.
		var m deactivateTestMember
		res := e.do(agent.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil)
		var me struct{ User map[string]any }
		res.ok(http.StatusOK, &me)
		require.Equal(t, true, me.User["active"])
		require.NotContains(t, me.User, "deactivated_at")

		before := time.Now().Add(-time.Second)
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"active": false}).ok(http.StatusOK, &m)
		require.NotNil(t, m.Active)
		require.False(t, *m.Active)
		require.NotNil(t, m.DeactivatedAt)
		require.True(t, m.DeactivatedAt.After(before), "%v", m.DeactivatedAt)
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+admin.userID, map[string]any{"active": false}).ok(http.StatusOK, &m)

		// Both of the agent's sessions, and the admin's token and session,
		// get 401 on their next request, whatever the route.
		for _, c := range []authTestCreds{agent.noCSRF(), phone.noCSRF(), admin.noCSRF(), {bearer: tok.Token}} {
			p := e.do(c, http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
			require.Equal(t, "unauthorized", p.Code)
			e.do(c, http.MethodGet, "/api/v1/users", nil).problem(http.StatusUnauthorized)
		}
		e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+owner.userID, map[string]any{"name": "x"}).problem(http.StatusUnauthorized)
		// The owner's own credentials are untouched.
		e.do(owner.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
		e.do(authTestCreds{bearer: ownerTok.Token}, http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)

		// Login is refused exactly as a wrong password is.
		right := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "agent@acme.test", "password": authTestPassword}).problem(http.StatusUnauthorized)
		wrong := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "agent@acme.test", "password": "not the password"}).problem(http.StatusUnauthorized)
		unknown := e.do(authTestCreds{}, http.MethodPost, "/api/v1/auth/login",
			map[string]any{"email": "nobody@acme.test", "password": authTestPassword}).problem(http.StatusUnauthorized)
		require.Equal(t, "invalid_credentials", right.Code)
		require.Equal(t, wrong, right)
		require.Equal(t, unknown, right)

		// The list keeps them, marked.
		var list struct{ Users []deactivateTestMember }
		e.do(owner.noCSRF(), http.MethodGet, "/api/v1/users", nil).ok(http.StatusOK, &list)
		require.Len(t, list.Users, 3)
		for _, u := range list.Users {
			require.NotNil(t, u.Active, u.Email)
			require.Equal(t, u.ID == owner.userID, *u.Active, u.Email)
			require.Equal(t, u.ID != owner.userID, u.DeactivatedAt != nil, u.Email)
		}

		// Deactivating again keeps the first time.
		first := *list.Users[1].DeactivatedAt
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+list.Users[1].ID, map[string]any{"active": false}).ok(http.StatusOK, &m)
		require.Equal(t, first.UTC(), m.DeactivatedAt.UTC())

		// Reactivated: the password works again; what was revoked stays so.
		var raw map[string]any
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"active": true}).ok(http.StatusOK, &raw)
		require.Equal(t, true, raw["active"])
		require.NotContains(t, raw, "deactivated_at")
		back := e.login("agent@acme.test", authTestPassword)
		e.do(back.noCSRF(), http.MethodGet, "/api/v1/users", nil).ok(http.StatusOK, nil)
		e.do(agent.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+admin.userID, map[string]any{"active": true}).ok(http.StatusOK, nil)
		e.do(authTestCreds{bearer: tok.Token}, http.MethodGet, "/api/v1/auth/me", nil).problem(http.StatusUnauthorized)
	})
}

func TestPeopleDeactivationRefusals(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		admin := e.member(owner, "admin@acme.test", "admin")
		agent := e.member(owner, "agent@acme.test", "agent")
		other := e.member(owner, "other@acme.test", "agent")
		off := map[string]any{"active": false}

		// The owner, by anyone, and yourself: 403 with a code of its own
		// and the field named.
		for _, tc := range []struct {
			who    *authTestUser
			target string
			code   string
		}{
			{owner, owner.userID, "owner_cannot_be_deactivated"},
			{admin, owner.userID, "owner_cannot_be_deactivated"},
			{admin, admin.userID, "cannot_deactivate_self"},
		} {
			p := e.do(tc.who.creds(), http.MethodPatch, "/api/v1/users/"+tc.target, off).problem(http.StatusForbidden)
			require.Equal(t, tc.code, p.Code, "%s on %s", tc.who.email, tc.target)
			require.Equal(t, []string{"body.active"}, p.locations())
			require.NotEmpty(t, p.Detail)
		}
		// Asking for other changes in the same call changes nothing.
		e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+admin.userID,
			map[string]any{"active": false, "name": "Renamed"}).problem(http.StatusForbidden)

		// An agent may not, whoever the target; nor with a token's weaker
		// role.
		for _, target := range []string{other.userID, agent.userID, admin.userID} {
			p := e.do(agent.creds(), http.MethodPatch, "/api/v1/users/"+target, off).problem(http.StatusForbidden)
			require.Equal(t, "forbidden", p.Code)
		}
		// Without the CSRF header, a session may not either.
		p := e.do(admin.noCSRF(), http.MethodPatch, "/api/v1/users/"+agent.userID, off).problem(http.StatusForbidden)
		require.Equal(t, "csrf", p.Code)
		// active must be a boolean.
		p = e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"active": "no"}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.active"}, p.locations())

		// Another workspace's admin finds nobody, for either direction.
		intruder := e.otherTenant("Globex", "admin@globex.test")
		for _, body := range []map[string]any{off, {"active": true}} {
			for _, id := range []string{agent.userID, owner.userID} {
				p := e.do(intruder.creds(), http.MethodPatch, "/api/v1/users/"+id, body).problem(http.StatusNotFound)
				require.Equal(t, "not_found", p.Code)
			}
		}

		// Nobody moved: every session still works.
		users, err := s.ListUsers(ctx, owner.workspace, 0)
		require.NoError(t, err)
		for _, u := range users {
			require.Nil(t, u.DeactivatedAt, u.Email)
		}
		for _, u := range []*authTestUser{owner, admin, agent, other} {
			e.do(u.noCSRF(), http.MethodGet, "/api/v1/auth/me", nil).ok(http.StatusOK, nil)
		}
		got, err := s.GetUser(ctx, owner.workspace, admin.userID)
		require.NoError(t, err)
		require.Equal(t, "admin@acme.test", got.Name)
	})
}

// TestPeopleDeactivatedAgentGoesOfflineAndTheirChatsCanBeReassigned runs
// the server as main wires it for chats: the people routes with the
// presence table, and the inbox.
func TestPeopleDeactivatedAgentGoesOfflineAndTheirChatsCanBeReassigned(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		broker := realtime.NewMemoryBroker(realtime.MemoryConfig{})
		t.Cleanup(func() { _ = broker.Close() })
		presence := chat.NewGracefulPresence(nil, chat.GracePresenceConfig{Grace: -1})
		chatSvc := chat.New(chat.Config{Store: s, Publisher: broker, Presence: presence})
		svc := auth.NewService(s, auth.Options{Params: auth.FastParams(),
			IPRate: auth.Rate{Limit: 10_000, Window: time.Minute}, EmailRate: auth.Rate{Limit: 10_000, Window: time.Minute}})
		people := NewPeopleRoutes(svc, s)
		people.Presence = presence
		srv := New(Deps{Config: config.Default(), Store: s, Auth: NewAuthenticator(svc), Services: []Routes{
			NewAuthRoutes(svc, s, authTestPublicURL), people,
			&InboxRoutes{Store: s, Chat: chatSvc, Presence: presence},
		}})
		e := &authTestEnv{t: t, store: s, svc: svc, srv: srv, clock: &authTestClock{}}
		owner := e.setup()
		admin := e.member(owner, "admin@acme.test", "admin")
		agent := e.member(owner, "agent@acme.test", "agent")
		ws := owner.workspace

		// A published live chat on a channel; the agent is online, so the
		// handover queues the chat, and the agent claims it.
		f, err := playbooks.Template("live-chat")
		require.NoError(t, err)
		graph, err := json.Marshal(f.Graph)
		require.NoError(t, err)
		a, err := s.CreateAssistant(ctx, ws, storage.NewAssistant{Name: "Ava"})
		require.NoError(t, err)
		_, err = s.PublishVersion(ctx, ws, a.ID, graph, "")
		require.NoError(t, err)
		ch, err := s.CreateChannel(ctx, ws, storage.NewChannel{Name: "Website", AllowedOrigins: []string{"https://shop.example"}})
		require.NoError(t, err)
		require.NoError(t, s.ConnectAssistant(ctx, ws, ch.ID, a.ID))
		ch, err = s.GetChannel(ctx, ws, ch.ID)
		require.NoError(t, err)
		e.do(agent.creds(), http.MethodPut, "/api/v1/presence", map[string]any{"status": "online"}).ok(http.StatusOK, nil)
		require.Equal(t, chat.Online, presence.Status(ws, agent.userID))
		started, err := chatSvc.Start(ctx, chat.StartInput{Channel: ch, VisitorID: "v", IsNew: true})
		require.NoError(t, err)
		conv := started.Conversation.ID
		require.Equal(t, storage.StatusUnassigned, started.Conversation.Status)
		var c struct {
			Status     string `json:"status"`
			AssigneeID string `json:"assignee_id"`
		}
		e.do(agent.creds(), http.MethodPost, "/api/v1/conversations/"+conv+"/claim", map[string]any{}).ok(http.StatusOK, &c)
		require.Equal(t, agent.userID, c.AssigneeID)

		e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"active": false}).ok(http.StatusOK, nil)
		require.Equal(t, chat.Offline, presence.Status(ws, agent.userID), "offline at once")
		require.Zero(t, presence.OnlineAgents(ctx, ws), "the handover no longer counts them")
		e.do(agent.creds(), http.MethodPut, "/api/v1/presence", map[string]any{"status": "online"}).problem(http.StatusUnauthorized)

		// The chat stays theirs until an admin gives it to someone else.
		got, err := s.GetConversation(ctx, ws, conv)
		require.NoError(t, err)
		require.Equal(t, storage.StatusAssigned, got.Status)
		require.Equal(t, agent.userID, got.AssigneeID)
		e.do(admin.creds(), http.MethodPost, "/api/v1/conversations/"+conv+"/reassign",
			map[string]any{"assignee_id": admin.userID}).ok(http.StatusOK, &c)
		require.Equal(t, "assigned", c.Status)
		require.Equal(t, admin.userID, c.AssigneeID)
		// Not back to the deactivated member.
		pr := e.do(admin.creds(), http.MethodPost, "/api/v1/conversations/"+conv+"/reassign",
			map[string]any{"assignee_id": agent.userID}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.assignee_id"}, pr.locations())
		// Or back to the queue.
		e.do(owner.creds(), http.MethodPost, "/api/v1/conversations/"+conv+"/reassign",
			map[string]any{"assignee_id": nil}).ok(http.StatusOK, &c)
		require.Equal(t, "unassigned", c.Status)
	})
}
