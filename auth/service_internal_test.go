package auth

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// An unknown email costs a password verification, against the dummy hash,
// so it cannot be told from a wrong password by the time it takes.
func TestUnknownEmailSpendsAHash(t *testing.T) {
	t.Parallel()
	s := storagetest.Open(t, storage.SQLite)
	svc := NewService(s, Options{Params: FastParams()})
	require.Empty(t, svc.dummyHash)
	_, err := svc.Login(context.Background(), LoginInput{
		Email: "nobody@acme.test", Password: "some password", ClientIP: netip.MustParseAddr("192.0.2.1"),
	})
	require.ErrorIs(t, err, ErrInvalidCredentials)
	require.NotEmpty(t, svc.dummyHash, "the dummy hash was made and verified against")
	require.False(t, svc.hasher.NeedsRehash(svc.dummyHash), "with the service's own parameters, so it costs the same")
}
