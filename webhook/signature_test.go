package webhook_test

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/webhook"
)

// signed builds the headers of a delivery signed with secrets at ts.
func signed(t *testing.T, id string, ts time.Time, body []byte, secrets ...string) http.Header {
	t.Helper()
	sig, err := webhook.SignatureHeader(secrets, id, ts, body)
	require.NoError(t, err)
	h := http.Header{}
	h.Set(webhook.HeaderID, id)
	h.Set(webhook.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(webhook.HeaderSignature, sig)
	return h
}

func TestNewSecret(t *testing.T) {
	t.Parallel()
	a, b := webhook.NewSecret(), webhook.NewSecret()
	require.NotEqual(t, a, b)
	for _, s := range []string{a, b} {
		require.True(t, strings.HasPrefix(s, "whsec_"), s)
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "whsec_"))
		require.NoError(t, err)
		require.Len(t, key, 32)
	}
}

// The example of the Standard Webhooks specification, so receivers using
// its libraries verify what Frontdesk signs.
func TestSignMatchesTheStandardWebhooksExample(t *testing.T) {
	t.Parallel()
	sig, err := webhook.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
		time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	require.NoError(t, err)
	require.Equal(t, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", sig)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	secret, other := webhook.NewSecret(), webhook.NewSecret()
	now := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"lead.created","timestamp":"2023-11-14T22:13:20Z","data":{}}`)
	good := signed(t, "evt_1", now, body, secret)

	require.NoError(t, webhook.Verify(secret, good, body, now, 0))
	require.NoError(t, webhook.Verify(secret, good, body, now.Add(4*time.Minute), 0), "within the tolerance")
	require.NoError(t, webhook.Verify(secret, good, body, now.Add(-4*time.Minute), 0), "a receiver clock behind")

	cases := map[string]struct {
		secret string
		header func() http.Header
		body   []byte
		now    time.Time
		want   error
	}{
		"tampered body":   {secret, func() http.Header { return good }, []byte(`{"type":"lead.created"}`), now, webhook.ErrBadSignature},
		"other secret":    {other, func() http.Header { return good }, body, now, webhook.ErrBadSignature},
		"stale":           {secret, func() http.Header { return good }, body, now.Add(5*time.Minute + time.Second), webhook.ErrStaleTimestamp},
		"from the future": {secret, func() http.Header { return good }, body, now.Add(-6 * time.Minute), webhook.ErrStaleTimestamp},
		"replaced id": {secret, func() http.Header {
			h := good.Clone()
			h.Set(webhook.HeaderID, "evt_2")
			return h
		}, body, now, webhook.ErrBadSignature},
		"replaced timestamp": {secret, func() http.Header {
			h := good.Clone()
			h.Set(webhook.HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10))
			return h
		}, body, now, webhook.ErrBadSignature},
		"no signature": {secret, func() http.Header {
			h := good.Clone()
			h.Del(webhook.HeaderSignature)
			return h
		}, body, now, webhook.ErrMissingHeaders},
		"no id": {secret, func() http.Header {
			h := good.Clone()
			h.Del(webhook.HeaderID)
			return h
		}, body, now, webhook.ErrMissingHeaders},
		"timestamp not a number": {secret, func() http.Header {
			h := good.Clone()
			h.Set(webhook.HeaderTimestamp, "yesterday")
			return h
		}, body, now, webhook.ErrInvalidTimestamp},
		"huge timestamp": {secret, func() http.Header {
			h := good.Clone()
			h.Set(webhook.HeaderTimestamp, "9223372036854775807")
			return h
		}, body, now, webhook.ErrStaleTimestamp},
		"other versions only": {secret, func() http.Header {
			h := good.Clone()
			h.Set(webhook.HeaderSignature, strings.Replace(good.Get(webhook.HeaderSignature), "v1,", "v1a,", 1))
			return h
		}, body, now, webhook.ErrBadSignature},
		"garbage signatures": {secret, func() http.Header {
			h := good.Clone()
			h.Set(webhook.HeaderSignature, "v1 v1, v1,!!! ,,,")
			return h
		}, body, now, webhook.ErrBadSignature},
		"bad secret": {"whsec_%%%", func() http.Header { return good }, body, now, webhook.ErrInvalidSecret},
	}
	for name, c := range cases {
		require.ErrorIs(t, webhook.Verify(c.secret, c.header(), c.body, c.now, 0), c.want, name)
	}
}

func TestVerifyDuringRotation(t *testing.T) {
	t.Parallel()
	old, next := webhook.NewSecret(), webhook.NewSecret()
	now := time.Now()
	body := []byte(`{}`)
	h := signed(t, "evt_r", now, body, next, old)
	require.Len(t, strings.Fields(h.Get(webhook.HeaderSignature)), 2)
	require.NoError(t, webhook.Verify(old, h, body, now, 0), "a receiver still on the old secret")
	require.NoError(t, webhook.Verify(next, h, body, now, 0), "a receiver already on the new one")
	require.ErrorIs(t, webhook.Verify(webhook.NewSecret(), h, body, now, 0), webhook.ErrBadSignature)
}
