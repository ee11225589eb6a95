package auth_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

func TestDeactivateMemberPolicy(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		setup, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws := setup.Workspace.ID
		owner := setup.User
		admin, err := svc.CreateMember(ctx, ws, auth.NewMember{Email: "a@acme.test", Role: storage.RoleAdmin, Password: testPassword})
		require.NoError(t, err)
		agent, err := svc.CreateMember(ctx, ws, auth.NewMember{Email: "g@acme.test", Role: storage.RoleAgent, Password: testPassword})
		require.NoError(t, err)
		off, on := false, true

		for _, tc := range []struct {
			actor  storage.User
			target string
			want   error
		}{
			{owner, owner.ID, auth.ErrOwnerDeactivation},
			{*admin, owner.ID, auth.ErrOwnerDeactivation},
			{*admin, admin.ID, auth.ErrSelfDeactivation},
			{*agent, agent.ID, auth.ErrForbidden},
			{*agent, admin.ID, auth.ErrForbidden},
		} {
			_, err := svc.UpdateMember(ctx, tc.actor, tc.target, auth.MemberUpdate{Active: &off})
			require.ErrorIs(t, err, tc.want, "%s on %s", tc.actor.Email, tc.target)
			require.ErrorIs(t, err, auth.ErrForbidden, "every refusal is a forbidden")
		}
		for _, u := range []*storage.User{&owner, admin, agent} {
			got, err := s.GetUser(ctx, ws, u.ID)
			require.NoError(t, err)
			require.True(t, got.Active(), u.Email)
		}

		// Another workspace's admin finds nobody.
		ws2, err := s.CreateWorkspace(ctx, "Globex")
		require.NoError(t, err)
		stranger, err := svc.CreateMember(ctx, ws2.ID, auth.NewMember{Email: "s@globex.test", Role: storage.RoleAdmin, Password: testPassword})
		require.NoError(t, err)
		_, err = svc.UpdateMember(ctx, *stranger, agent.ID, auth.MemberUpdate{Active: &off})
		require.ErrorIs(t, err, storage.ErrNotFound)

		// An admin deactivates another admin, and the owner reactivates
		// them; other fields change in the same call.
		name := "Ada (left)"
		got, err := svc.UpdateMember(ctx, *admin, agent.ID, auth.MemberUpdate{Active: &off, Name: &name})
		require.NoError(t, err)
		require.False(t, got.Active())
		require.Equal(t, "Ada (left)", got.Name)
		require.Empty(t, got.PasswordHash)
		got, err = svc.UpdateMember(ctx, owner, agent.ID, auth.MemberUpdate{Active: &on})
		require.NoError(t, err)
		require.True(t, got.Active())
		got, err = svc.UpdateMember(ctx, owner, admin.ID, auth.MemberUpdate{Active: &off})
		require.NoError(t, err)
		require.False(t, got.Active())
		// Reactivating yourself is no change and allowed.
		got, err = svc.UpdateMember(ctx, owner, owner.ID, auth.MemberUpdate{Active: &on})
		require.NoError(t, err)
		require.True(t, got.Active())
	})
}

func TestDeactivationEndsSessionsTokensAndLogin(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		setup, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws := setup.Workspace.ID
		owner := setup.User
		agent, err := svc.CreateMember(ctx, ws, auth.NewMember{Email: "g@acme.test", Role: storage.RoleAgent, Password: testPassword})
		require.NoError(t, err)
		login := func() (*auth.SignIn, error) {
			return svc.Login(ctx, auth.LoginInput{Email: "g@acme.test", Password: testPassword, ClientIP: peer})
		}
		laptop, err := login()
		require.NoError(t, err)
		phone, err := login()
		require.NoError(t, err)
		token, _, err := svc.CreateAPIToken(ctx, ws, agent.ID, "CRM sync")
		require.NoError(t, err)
		ownerToken, _, err := svc.CreateAPIToken(ctx, ws, owner.ID, "owner's")
		require.NoError(t, err)

		off, on := false, true
		_, err = svc.UpdateMember(ctx, owner, agent.ID, auth.MemberUpdate{Active: &off})
		require.NoError(t, err)

		for _, tok := range []string{laptop.Token, phone.Token} {
			_, err = svc.SessionCaller(ctx, tok)
			require.ErrorIs(t, err, auth.ErrUnauthenticated)
			sess, err := s.GetSessionByHash(ctx, auth.HashToken(tok))
			require.NoError(t, err)
			require.NotNil(t, sess.RevokedAt, "revoked, not only refused")
		}
		_, err = svc.TokenCaller(ctx, token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)
		rec, err := s.GetAPITokenByHash(ctx, auth.HashToken(token))
		require.NoError(t, err)
		require.NotNil(t, rec.RevokedAt)
		// Nobody else's credentials moved.
		_, err = svc.TokenCaller(ctx, ownerToken)
		require.NoError(t, err)

		// The right password gets the same answer as a wrong one, and an
		// unknown email: no way to tell a deactivated account apart.
		_, err = login()
		require.ErrorIs(t, err, auth.ErrInvalidCredentials)
		_, wrong := svc.Login(ctx, auth.LoginInput{Email: "g@acme.test", Password: "wrong password", ClientIP: peer})
		_, unknown := svc.Login(ctx, auth.LoginInput{Email: "nobody@acme.test", Password: testPassword, ClientIP: peer})
		require.Equal(t, wrong.Error(), err.Error())
		require.Equal(t, unknown.Error(), err.Error())

		// A session that a login racing the deactivation made is refused
		// too: the member is checked on every request.
		racedToken := auth.NewToken()
		raced, err := s.CreateSession(ctx, ws, storage.NewSession{
			ID: auth.HashToken(racedToken), UserID: agent.ID, CSRFToken: "x",
			ExpiresAt: laptop.Session.ExpiresAt,
		})
		require.NoError(t, err)
		require.Nil(t, raced.RevokedAt)
		_, err = svc.SessionCaller(ctx, racedToken)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)

		// Reactivated: the password works again; the old sessions and
		// tokens stay revoked.
		_, err = svc.UpdateMember(ctx, owner, agent.ID, auth.MemberUpdate{Active: &on})
		require.NoError(t, err)
		again, err := login()
		require.NoError(t, err)
		c, err := svc.SessionCaller(ctx, again.Token)
		require.NoError(t, err)
		require.Equal(t, agent.ID, c.User.ID)
		_, err = svc.SessionCaller(ctx, laptop.Token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)
		_, err = svc.TokenCaller(ctx, token)
		require.ErrorIs(t, err, auth.ErrUnauthenticated)
	})
}

// TestDeactivatedAccountDoesNotMakeLoginAmbiguous: the same email and
// password in two workspaces, one deactivated, signs in to the other
// without asking which.
func TestDeactivatedAccountDoesNotMakeLoginAmbiguous(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, s *storage.Store) {
		ctx := context.Background()
		svc := newService(s, auth.Options{})
		setup, err := svc.Setup(ctx, auth.SetupInput{WorkspaceName: "Acme", Email: "o@acme.test", Password: testPassword})
		require.NoError(t, err)
		ws2, err := s.CreateWorkspace(ctx, "Globex")
		require.NoError(t, err)
		inAcme, err := svc.CreateMember(ctx, setup.Workspace.ID, auth.NewMember{Email: "pat@acme.test", Role: storage.RoleAgent, Password: testPassword})
		require.NoError(t, err)
		_, err = svc.CreateMember(ctx, ws2.ID, auth.NewMember{Email: "pat@acme.test", Role: storage.RoleAgent, Password: testPassword})
		require.NoError(t, err)

		_, err = svc.Login(ctx, auth.LoginInput{Email: "pat@acme.test", Password: testPassword, ClientIP: peer})
		var amb *auth.AmbiguousError
		require.ErrorAs(t, err, &amb)

		off := false
		_, err = svc.UpdateMember(ctx, setup.User, inAcme.ID, auth.MemberUpdate{Active: &off})
		require.NoError(t, err)
		in, err := svc.Login(ctx, auth.LoginInput{Email: "pat@acme.test", Password: testPassword, ClientIP: peer})
		require.NoError(t, err)
		require.Equal(t, ws2.ID, in.Workspace.ID)
		_, err = svc.Login(ctx, auth.LoginInput{Email: "pat@acme.test", Password: testPassword, WorkspaceID: setup.Workspace.ID, ClientIP: peer})
		require.ErrorIs(t, err, auth.ErrInvalidCredentials, "naming the workspace does not help")
	})
}
