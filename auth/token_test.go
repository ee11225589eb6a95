package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
)

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := auth.NewToken(), auth.NewToken()
	require.Len(t, a, 43, "32 bytes, base64url without padding")
	require.NotEqual(t, a, b)
	require.NotContains(t, a, "=")
	require.NotContains(t, a, "+")
	require.NotContains(t, a, "/")

	api := auth.NewAPIToken()
	require.True(t, strings.HasPrefix(api, auth.APITokenPrefix))

	require.Len(t, auth.HashToken(a), 64)
	require.Equal(t, auth.HashToken(a), auth.HashToken(a))
	require.NotEqual(t, auth.HashToken(a), auth.HashToken(b))

	require.True(t, auth.EqualTokens(a, a))
	require.False(t, auth.EqualTokens(a, b))
	require.False(t, auth.EqualTokens("", ""), "two missing values never match")
	require.False(t, auth.EqualTokens(a, ""))
}
