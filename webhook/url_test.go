package webhook_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/webhook"
	"github.com/frontdesk/frontdesk/webhook/webhooktest"
)

// testDNS answers for the names the URL tests use.
func testDNS(t *testing.T) webhook.URLPolicy {
	t.Helper()
	r, _ := webhooktest.DNS(t, map[string][]netip.Addr{
		"hooks.example.com":     {netip.MustParseAddr("93.184.216.34")},
		"v6.example.com":        {netip.MustParseAddr("2606:2800:220:1:248:1893:25c8:1946")},
		"internal.example.com":  {netip.MustParseAddr("10.0.0.5")},
		"loopback.example.com":  {netip.MustParseAddr("127.0.0.1")},
		"metadata.example.com":  {netip.MustParseAddr("169.254.169.254")},
		"cgnat.example.com":     {netip.MustParseAddr("100.64.1.1")},
		"ula.example.com":       {netip.MustParseAddr("fd00::1")},
		"mixed.example.com":     {netip.MustParseAddr("93.184.216.34"), netip.MustParseAddr("192.168.1.10")},
		"mapped.example.com":    {netip.MustParseAddr("::ffff:127.0.0.1")},
		"bücher.example.com":    {netip.MustParseAddr("93.184.216.34")},
		"xn--bcher-kva.example": {netip.MustParseAddr("93.184.216.34")},
	})
	return webhook.URLPolicy{Resolver: r}
}

func TestCheckURLAccepts(t *testing.T) {
	t.Parallel()
	p := testDNS(t)
	for in, want := range map[string]string{
		"https://hooks.example.com/frontdesk?x=1":       "https://hooks.example.com/frontdesk?x=1",
		"HTTPS://Hooks.Example.COM/A":                   "https://hooks.example.com/A",
		"https://hooks.example.com.:8443/":              "https://hooks.example.com:8443/",
		"https://v6.example.com/":                       "https://v6.example.com/",
		"https://93.184.216.34/hook":                    "https://93.184.216.34/hook",
		"https://[2606:2800:220:1:248:1893:25c8:1946]/": "https://[2606:2800:220:1:248:1893:25c8:1946]/",
		"https://bücher.example/":                       "https://xn--bcher-kva.example/",
	} {
		got, err := webhook.CheckURL(context.Background(), in, p)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
}

func TestCheckURLRefusesInternalTargets(t *testing.T) {
	t.Parallel()
	p := testDNS(t)
	refused := map[string]string{
		"http://hooks.example.com/":            "https",
		"ftp://hooks.example.com/":             "scheme",
		"file:///etc/passwd":                   "scheme",
		"gopher://hooks.example.com/":          "scheme",
		"javascript:alert(1)":                  "absolute",
		"//hooks.example.com/":                 "absolute",
		"hooks.example.com/path":               "absolute",
		"https://user:pw@hooks.example.com/":   "user info",
		"https://user@hooks.example.com/":      "user info",
		"https://hooks.example.com/#frag":      "fragment",
		"https://127.0.0.1/":                   "not a public address",
		"https://127.1.2.3/":                   "not a public address",
		"https://10.0.0.1/":                    "not a public address",
		"https://172.16.0.1/":                  "not a public address",
		"https://192.168.0.1/":                 "not a public address",
		"https://169.254.169.254/latest/meta":  "not a public address",
		"https://100.64.0.1/":                  "not a public address",
		"https://0.0.0.0/":                     "not a public address",
		"https://[::1]/":                       "not a public address",
		"https://[::]/":                        "not a public address",
		"https://[fe80::1]/":                   "not a public address",
		"https://[fd12:3456::1]/":              "not a public address",
		"https://[::ffff:127.0.0.1]/":          "not a public address",
		"https://[::ffff:a9fe:a9fe]/":          "not a public address",
		"https://[64:ff9b::7f00:1]/":           "not a public address",
		"https://[fe80::1%25eth0]/":            "zone",
		"http://2130706433/":                   "https",
		"https://2130706433/":                  "dotted decimal",
		"https://0x7f000001/":                  "dotted decimal",
		"https://0x7f.0.0.1/":                  "dotted decimal",
		"https://0177.0.0.1/":                  "dotted decimal",
		"https://017700000001/":                "dotted decimal",
		"https://127.1/":                       "dotted decimal",
		"https://3232235777/":                  "dotted decimal",
		"https://localhost/":                   "localhost",
		"https://localhost./":                  "localhost",
		"https://LOCALHOST:8443/":              "localhost",
		"https://api.localhost/":               "localhost",
		"https://intranet/":                    "single label",
		"https://%31%32%37.0.0.1/":             "not a valid URL",
		"https://hooks.example.com:0/":         "port",
		"https://hooks.example.com:99999/":     "port",
		"https://internal.example.com/":        "internal address",
		"https://loopback.example.com/":        "internal address",
		"https://metadata.example.com/":        "internal address",
		"https://cgnat.example.com/":           "internal address",
		"https://ula.example.com/":             "internal address",
		"https://mixed.example.com/":           "internal address",
		"https://mapped.example.com/":          "internal address",
		"https://nowhere.example.com/":         "does not resolve",
		"https://exa mple.com/":                "not a valid URL",
		"https://hooks.example.com/\n":         "not a valid URL",
		"https:///path":                        "no host",
		"https://" + strings.Repeat("a", 2100): "over the limit",
		"https://bad_host.example.com/":        "host name",
	}
	for in, reason := range refused {
		_, err := webhook.CheckURL(context.Background(), in, p)
		require.ErrorIs(t, err, webhook.ErrURLRefused, in)
		require.Contains(t, err.Error(), reason, in)
	}
}

func TestCheckURLAllowPrivateIsForTests(t *testing.T) {
	t.Parallel()
	p := webhook.URLPolicy{AllowPrivate: true}
	got, err := webhook.CheckURL(context.Background(), "http://127.0.0.1:8080/hook", p)
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8080/hook", got)
	for _, in := range []string{"http://localhost:8080/", "http://2130706433/", "https://u:p@127.0.0.1/", "ftp://127.0.0.1/"} {
		_, err := webhook.CheckURL(context.Background(), in, p)
		require.ErrorIs(t, err, webhook.ErrURLRefused, "still refused with AllowPrivate: %s", in)
	}
}
