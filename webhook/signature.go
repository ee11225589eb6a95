package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	// HeaderID carries the event id: the same on every retry and
	// redelivery of one event, and at every subscription.
	HeaderID = "webhook-id"
	// HeaderTimestamp carries the attempt's time in Unix seconds.
	HeaderTimestamp = "webhook-timestamp"
	// HeaderSignature carries "v1,<base64 signature>" for each signing
	// secret, separated by spaces (two during a secret rotation).
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every signing secret; the rest is the standard
// base64 of the HMAC key.
const SecretPrefix = "whsec_"

// secretKeyBytes is the HMAC key size: as long as SHA-256's output.
const secretKeyBytes = 32

// DefaultTolerance is how far a delivery's timestamp may be from the
// receiver's clock before Verify rejects it as stale (or from the future).
const DefaultTolerance = 5 * time.Minute

// The errors of Verify. Test them with errors.Is.
var (
	// ErrInvalidSecret: the secret is not "whsec_" and base64.
	ErrInvalidSecret = errors.New("webhook: invalid secret")
	// ErrMissingHeaders: a webhook-* header is missing or empty.
	ErrMissingHeaders = errors.New("webhook: missing webhook-id, webhook-timestamp or webhook-signature")
	// ErrInvalidTimestamp: webhook-timestamp is not Unix seconds.
	ErrInvalidTimestamp = errors.New("webhook: invalid timestamp")
	// ErrStaleTimestamp: webhook-timestamp is outside the tolerance.
	ErrStaleTimestamp = errors.New("webhook: timestamp outside the tolerance")
	// ErrBadSignature: no v1 signature matches the secret.
	ErrBadSignature = errors.New("webhook: no matching signature")
)

// NewSecret returns a fresh signing secret: "whsec_" and the base64 of 32
// random bytes.
func NewSecret() string {
	b := make([]byte, secretKeyBytes)
	if _, err := rand.Read(b); err != nil {
		// crypto/rand does not fail on supported platforms; a weak secret
		// would be worse than stopping.
		panic("webhook: crypto/rand failed: " + err.Error())
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// secretKey decodes a secret into its HMAC key. The prefix is optional on
// input, as in the Standard Webhooks libraries.
func secretKey(secret string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	if err != nil || len(key) == 0 {
		return nil, ErrInvalidSecret
	}
	return key, nil
}

// Sign returns the v1 signature of one delivery: "v1," and the base64 of
// HMAC-SHA256(key, id + "." + unix seconds + "." + body).
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, strconv.FormatInt(ts.Unix(), 10), body)), nil
}

// SignatureHeader returns the webhook-signature value for several secrets:
// one signature each, separated by spaces.
func SignatureHeader(secrets []string, id string, ts time.Time, body []byte) (string, error) {
	if len(secrets) == 0 {
		return "", fmt.Errorf("%w: no secret", ErrInvalidSecret)
	}
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		sig, err := Sign(s, id, ts, body)
		if err != nil {
			return "", err
		}
		sigs = append(sigs, sig)
	}
	return strings.Join(sigs, " "), nil
}

func mac(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify is the reference check of a delivery for receivers: the headers
// must be present, webhook-timestamp within tolerance of now (zero or less
// means DefaultTolerance), and one of the v1 signatures in
// webhook-signature must match secret over the exact body bytes. It
// compares in constant time.
//
// Verify does not remember ids: pair it with a ReplayGuard to refuse a
// captured delivery replayed within the tolerance.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return ErrMissingHeaders
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	// Compare in seconds: time.Unix far from now would overflow a Duration.
	skew := now.Unix() - ts
	if skew > int64(tolerance/time.Second) || -skew > int64(tolerance/time.Second) {
		return ErrStaleTimestamp
	}
	want := mac(key, id, tsText, body)
	for _, sig := range strings.Fields(sigs) {
		version, value, ok := strings.Cut(sig, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(value)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return ErrBadSignature
}
