package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// peopleTestMember is a member as the API shows them.
type peopleTestMember struct {
	ID               string `json:"id"`
	Email            string `json:"email"`
	Name             string `json:"name"`
	Role             string `json:"role"`
	ManageAssistants bool   `json:"manage_assistants"`
}

func TestPeopleAgentsListButOnlyAdminsManage(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		agent := e.member(owner, "agent@acme.test", "agent")
		var tok struct{ ID string }
		e.do(owner.creds(), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "owner's"}).ok(http.StatusCreated, &tok)

		var list struct{ Users []peopleTestMember }
		e.do(agent.noCSRF(), http.MethodGet, "/api/v1/users", nil).ok(http.StatusOK, &list)
		require.Len(t, list.Users, 2)

		// With a valid CSRF token, so the role is what refuses.
		for _, r := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/api/v1/users", map[string]any{"email": "x@acme.test", "role": "agent", "password": authTestPassword}},
			{http.MethodPatch, "/api/v1/users/" + agent.userID, map[string]any{"role": "admin"}},
			{http.MethodPatch, "/api/v1/users/" + agent.userID, map[string]any{"manage_assistants": true}},
			{http.MethodPost, "/api/v1/tokens", map[string]any{"name": "mine"}},
			{http.MethodGet, "/api/v1/tokens", nil},
			{http.MethodDelete, "/api/v1/tokens/" + tok.ID, nil},
		} {
			p := e.do(agent.creds(), r.method, r.path, r.body).problem(http.StatusForbidden)
			require.Equal(t, "forbidden", p.Code, "%s %s", r.method, r.path)
		}
		u, err := s.GetUser(context.Background(), agent.workspace, agent.userID)
		require.NoError(t, err)
		require.Equal(t, storage.RoleAgent, u.Role)
		require.False(t, u.ManageAssistants)
		toks, err := s.ListAPITokens(context.Background(), owner.workspace, 0)
		require.NoError(t, err)
		require.Len(t, toks, 1)
	})
}

func TestPeopleAdminsManageMembers(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		admin := e.member(owner, "admin@acme.test", "admin")

		var m peopleTestMember
		res := e.do(admin.creds(), http.MethodPost, "/api/v1/users", map[string]any{
			"email": "New.Agent@Acme.test", "name": " Nia ", "role": "agent", "password": authTestPassword,
		})
		res.ok(http.StatusCreated, &m)
		require.Equal(t, "new.agent@acme.test", m.Email)
		require.Equal(t, "Nia", m.Name)
		require.NotContains(t, string(res.body), "argon2")
		require.NotContains(t, string(res.body), authTestPassword)
		agent := e.login("new.agent@acme.test", authTestPassword)

		p := e.do(admin.creds(), http.MethodPost, "/api/v1/users", map[string]any{
			"email": "new.agent@acme.test", "role": "agent", "password": authTestPassword,
		}).problem(http.StatusConflict)
		require.Equal(t, "duplicate", p.Code)
		p = e.do(admin.creds(), http.MethodPost, "/api/v1/users", map[string]any{
			"email": "weak@acme.test", "role": "agent", "password": "short",
		}).problem(http.StatusUnprocessableEntity)
		require.Equal(t, []string{"body.password"}, p.locations())
		e.do(admin.creds(), http.MethodPost, "/api/v1/users", map[string]any{
			"email": "Eve <eve@acme.test>", "role": "agent", "password": authTestPassword,
		}).problem(http.StatusUnprocessableEntity)

		e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID,
			map[string]any{"manage_assistants": true, "name": "Nia B."}).ok(http.StatusOK, &m)
		require.True(t, m.ManageAssistants)
		require.Equal(t, "Nia B.", m.Name)
		require.Equal(t, "agent", m.Role)
		e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"role": "admin"}).ok(http.StatusOK, &m)
		require.Equal(t, "admin", m.Role)
		// The new role holds at once, on the session already open.
		e.do(agent.creds(), http.MethodGet, "/api/v1/tokens", nil).ok(http.StatusOK, nil)
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"role": "agent"}).ok(http.StatusOK, nil)
		e.do(agent.creds(), http.MethodGet, "/api/v1/tokens", nil).problem(http.StatusForbidden)
		e.do(admin.creds(), http.MethodPatch, "/api/v1/users/no-such-user", map[string]any{"name": "x"}).problem(http.StatusNotFound)
	})
}

func TestPeopleNobodyGrantsOwnerAndAdminsCannotTouchTheOwner(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		admin := e.member(owner, "admin@acme.test", "admin")
		agent := e.member(owner, "agent@acme.test", "agent")

		for _, who := range []*authTestUser{owner, admin} {
			p := e.do(who.creds(), http.MethodPost, "/api/v1/users", map[string]any{
				"email": "second.owner@acme.test", "role": "owner", "password": authTestPassword,
			}).problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.role"}, p.locations(), who.role)
			p = e.do(who.creds(), http.MethodPatch, "/api/v1/users/"+agent.userID, map[string]any{"role": "owner"}).
				problem(http.StatusUnprocessableEntity)
			require.Equal(t, []string{"body.role"}, p.locations(), who.role)
		}
		// An admin may not change the owner in any way.
		for _, body := range []map[string]any{{"role": "agent"}, {"role": "admin"}, {"name": "Demoted"}, {"manage_assistants": true}} {
			p := e.do(admin.creds(), http.MethodPatch, "/api/v1/users/"+owner.userID, body).problem(http.StatusForbidden)
			require.Equal(t, "forbidden", p.Code)
		}
		// The owner keeps the role, even when asking to lose it.
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+owner.userID, map[string]any{"role": "admin"}).
			problem(http.StatusForbidden)
		var m peopleTestMember
		e.do(owner.creds(), http.MethodPatch, "/api/v1/users/"+owner.userID, map[string]any{"name": "Olive O."}).ok(http.StatusOK, &m)
		require.Equal(t, "owner", m.Role)

		users, err := s.ListUsers(ctx, owner.workspace, 0)
		require.NoError(t, err)
		owners := 0
		for _, u := range users {
			if u.Role == storage.RoleOwner {
				owners++
				require.Equal(t, owner.userID, u.ID)
				require.Equal(t, "Olive O.", u.Name)
			}
		}
		require.Equal(t, 1, owners)
	})
}

func TestPeopleAnotherTenantsIDsAreNotFound(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		agent := e.member(owner, "agent@acme.test", "agent")
		var tok struct{ ID, Token string }
		e.do(owner.creds(), http.MethodPost, "/api/v1/tokens", map[string]any{"name": "acme"}).ok(http.StatusCreated, &tok)

		intruder := e.otherTenant("Globex", "admin@globex.test")
		for _, id := range []string{agent.userID, owner.userID} {
			p := e.do(intruder.creds(), http.MethodPatch, "/api/v1/users/"+id, map[string]any{"role": "admin", "name": "pwned"}).
				problem(http.StatusNotFound)
			require.Equal(t, "not_found", p.Code)
		}
		e.do(intruder.creds(), http.MethodDelete, "/api/v1/tokens/"+tok.ID, nil).problem(http.StatusNotFound)

		var list struct{ Users []peopleTestMember }
		e.do(intruder.noCSRF(), http.MethodGet, "/api/v1/users", nil).ok(http.StatusOK, &list)
		require.Len(t, list.Users, 1)
		require.Equal(t, "admin@globex.test", list.Users[0].Email)
		var toks struct{ Tokens []struct{ ID string } }
		e.do(intruder.noCSRF(), http.MethodGet, "/api/v1/tokens", nil).ok(http.StatusOK, &toks)
		require.Empty(t, toks.Tokens)

		u, err := s.GetUser(ctx, owner.workspace, agent.userID)
		require.NoError(t, err)
		require.Equal(t, storage.RoleAgent, u.Role)
		require.Equal(t, "agent@acme.test", u.Name)
		e.do(authTestCreds{bearer: tok.Token}, http.MethodGet, "/api/v1/users", nil).ok(http.StatusOK, nil)
	})
}

func TestPeopleMassAssignmentIsRefused(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		e := newAuthTestEnv(t, s, auth.Options{})
		owner := e.setup()
		agent := e.member(owner, "agent@acme.test", "agent")
		other := e.otherTenant("Globex", "admin@globex.test")
		newMember := func(extra map[string]any) map[string]any {
			b := map[string]any{"email": "smuggler@acme.test", "role": "agent", "password": authTestPassword}
			for k, v := range extra {
				b[k] = v
			}
			return b
		}

		// Refused with 422 naming the field, never ignored: a client that
		// thinks it chose a tenant, an id or a role learns it did not.
		for _, r := range []struct {
			method, path string
			body         map[string]any
			field        string
		}{
			{http.MethodPost, "/api/v1/users", newMember(map[string]any{"workspace_id": other.workspace}), "body.workspace_id"},
			{http.MethodPost, "/api/v1/users", newMember(map[string]any{"workspace_id": ""}), "body.workspace_id"},
			{http.MethodPost, "/api/v1/users", newMember(map[string]any{"id": agent.userID}), "body.id"},
			{http.MethodPost, "/api/v1/users", newMember(map[string]any{"role": "owner"}), "body.role"},
			{http.MethodPost, "/api/v1/users", newMember(map[string]any{"password_hash": "$argon2id$"}), "body.password_hash"},
			{http.MethodPatch, "/api/v1/users/" + agent.userID, map[string]any{"workspace_id": other.workspace}, "body.workspace_id"},
			{http.MethodPatch, "/api/v1/users/" + agent.userID, map[string]any{"id": other.userID}, "body.id"},
			{http.MethodPatch, "/api/v1/users/" + agent.userID, map[string]any{"email": "owner@acme.test"}, "body.email"},
			{http.MethodPatch, "/api/v1/users/" + agent.userID, map[string]any{"role": "owner"}, "body.role"},
			{http.MethodPost, "/api/v1/tokens", map[string]any{"name": "x", "user_id": agent.userID}, "body.user_id"},
			{http.MethodPost, "/api/v1/tokens", map[string]any{"name": "x", "workspace_id": other.workspace}, "body.workspace_id"},
			{http.MethodPost, "/api/v1/auth/password", map[string]any{
				"current_password": authTestPassword, "new_password": "another fine passphrase", "user_id": agent.userID,
			}, "body.user_id"},
		} {
			p := e.do(owner.creds(), r.method, r.path, r.body).problem(http.StatusUnprocessableEntity)
			require.Contains(t, p.locations(), r.field, "%s %s %v", r.method, r.path, r.body)
		}

		// Nothing moved: no member was made anywhere, the agent is as it
		// was, no token exists, and the owner's password stands.
		for ws, want := range map[string]int{owner.workspace: 2, other.workspace: 1} {
			users, err := s.ListUsers(ctx, ws, 0)
			require.NoError(t, err)
			require.Len(t, users, want)
			toks, err := s.ListAPITokens(ctx, ws, 0)
			require.NoError(t, err)
			require.Empty(t, toks)
		}
		_, err := s.GetUserByEmail(ctx, other.workspace, "smuggler@acme.test")
		require.ErrorIs(t, err, storage.ErrNotFound)
		u, err := s.GetUser(ctx, owner.workspace, agent.userID)
		require.NoError(t, err)
		require.Equal(t, storage.RoleAgent, u.Role)
		require.Equal(t, "agent@acme.test", u.Email)
		e.login("owner@acme.test", authTestPassword)
	})
}
