package config

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVisitorLimits(t *testing.T) {
	t.Parallel()
	c, _, err := Load("serve", nil, env(nil), io.Discard)
	require.NoError(t, err)
	require.Equal(t, DefaultVisitorStartsPerMinute, c.VisitorStartsPerMinute)
	require.Equal(t, DefaultVisitorMessagesPerMinute, c.VisitorMessagesPerMinute)

	c, _, err = Load("serve", []string{"--visitor-messages-per-minute", "30"}, env(map[string]string{
		"FRONTDESK_VISITOR_STARTS_PER_MINUTE":   "600",
		"FRONTDESK_VISITOR_MESSAGES_PER_MINUTE": "240",
	}), io.Discard)
	require.NoError(t, err)
	require.Equal(t, 600, c.VisitorStartsPerMinute)
	require.Equal(t, 30, c.VisitorMessagesPerMinute, "the flag wins")

	for name, value := range map[string]string{
		"FRONTDESK_VISITOR_STARTS_PER_MINUTE":   "0",
		"FRONTDESK_VISITOR_MESSAGES_PER_MINUTE": "many",
	} {
		_, _, err := Load("serve", nil, env(map[string]string{name: value}), io.Discard)
		require.ErrorContains(t, err, name)
	}
	_, _, err = Load("serve", []string{"--visitor-starts-per-minute", "1000001"}, env(nil), io.Discard)
	require.ErrorContains(t, err, "FRONTDESK_VISITOR_STARTS_PER_MINUTE")
}
