package config

import (
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, rest, err := Load("serve", nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Empty(t, rest)
	require.Equal(t, "127.0.0.1:8080", c.Addr)
	require.Equal(t, "sqlite:frontdesk.db", c.DatabaseURL)
	require.Equal(t, "http://127.0.0.1:8080", c.PublicURL)
	require.False(t, c.Migrate)
}

func TestFlagsWinOverEnvironment(t *testing.T) {
	t.Parallel()
	c, rest, err := Load("serve", []string{"--addr", "127.0.0.1:9999", "--demo", "extra"},
		env(map[string]string{"FRONTDESK_ADDR": "127.0.0.1:7000", "FRONTDESK_SHUTDOWN_TIMEOUT": "3s"}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9999", c.Addr)
	require.True(t, c.Demo)
	require.True(t, c.Migrate, "demo implies migrate")
	require.Equal(t, 3*time.Second, c.ShutdownTimeout)
	require.Equal(t, []string{"extra"}, rest)
}

func TestBadSettingsAreNamed(t *testing.T) {
	t.Parallel()
	cases := map[string]map[string]string{
		"FRONTDESK_ADDR":             {"FRONTDESK_ADDR": "nope"},
		"FRONTDESK_DATABASE_URL":     {"FRONTDESK_DATABASE_URL": "mysql://x"},
		"FRONTDESK_REDIS_URL":        {"FRONTDESK_REDIS_URL": "http://x"},
		"FRONTDESK_SECRET":           {"FRONTDESK_SECRET": "short"},
		"FRONTDESK_MIGRATE":          {"FRONTDESK_MIGRATE": "perhaps"},
		"FRONTDESK_SHUTDOWN_TIMEOUT": {"FRONTDESK_SHUTDOWN_TIMEOUT": "soon"},
		"FRONTDESK_MAX_BODY_BYTES":   {"FRONTDESK_MAX_BODY_BYTES": "1"},
	}
	for name, e := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, _, err := Load("serve", nil, env(e), io.Discard)
			require.Error(t, err)
			require.Contains(t, err.Error(), name)
		})
	}
}
