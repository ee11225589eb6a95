package auth_test

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/auth"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	proxies, err := auth.ParseTrustedProxies("10.0.0.0/8, 192.0.2.7")
	require.NoError(t, err)
	for _, tc := range []struct {
		name, remote, xff string
		trusted           []netip.Prefix
		want              string
	}{
		{"no proxies: the socket", "203.0.113.9:5555", "1.2.3.4", nil, "203.0.113.9"},
		{"no proxies: a forged header changes nothing", "203.0.113.9:5555", "127.0.0.1, 10.0.0.1", nil, "203.0.113.9"},
		{"untrusted peer: header ignored", "203.0.113.9:5555", "1.2.3.4", proxies, "203.0.113.9"},
		{"trusted peer: the hop it saw", "10.1.2.3:443", "1.2.3.4", proxies, "1.2.3.4"},
		{"trusted chain: right-most untrusted", "10.1.2.3:443", "6.6.6.6, 1.2.3.4, 192.0.2.7", proxies, "1.2.3.4"},
		{"trusted peer, no header", "10.1.2.3:443", "", proxies, "10.1.2.3"},
		{"trusted peer, garbage header", "10.1.2.3:443", "not-an-ip", proxies, "10.1.2.3"},
		{"ipv6 socket", "[2001:db8::1]:80", "", nil, "2001:db8::1"},
		{"ipv4-mapped ipv6 is ipv4", "[::ffff:203.0.113.9]:80", "", nil, "203.0.113.9"},
		{"bare address", "203.0.113.9", "", nil, "203.0.113.9"},
	} {
		got := auth.ClientIP(tc.remote, tc.xff, tc.trusted)
		require.Equal(t, tc.want, got.String(), tc.name)
	}
	require.False(t, auth.ClientIP("garbage", "", nil).IsValid())

	_, err = auth.ParseTrustedProxies("10.0.0.0/33")
	require.Error(t, err)
	_, err = auth.ParseTrustedProxies("proxy.local")
	require.Error(t, err)
	none, err := auth.ParseTrustedProxies("")
	require.NoError(t, err)
	require.Empty(t, none)
}
