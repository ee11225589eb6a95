package chat

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// VisitorTokenTTL is how long a visitor token lets a visitor resume.
const VisitorTokenTTL = 90 * 24 * time.Hour

// VisitorClaims is what a visitor token vouches for: which visitor of
// which channel, and their current conversation.
type VisitorClaims struct {
	Workspace    string `json:"w"`
	Channel      string `json:"c"`
	Visitor      string `json:"v"`
	Conversation string `json:"cv,omitempty"`
	IssuedAt     int64  `json:"iat"`
}

// ErrBadToken is returned for a token that is malformed, forged, expired or
// for another channel.
var ErrBadToken = errors.New("chat: invalid visitor token")

// TokenSigner signs and checks visitor tokens with HMAC-SHA256. The token
// is not secret from the visitor; it only cannot be forged, so a visitor
// can resume their own conversation and no one else's.
type TokenSigner struct {
	key []byte
}

// NewTokenSigner returns a signer for a secret of at least 32 bytes.
func NewTokenSigner(secret []byte) (*TokenSigner, error) {
	if len(secret) < 32 {
		return nil, errors.New("chat: token secret must be at least 32 bytes")
	}
	// Derive a key for this purpose so the instance secret can sign other
	// things without tokens of one kind passing for another.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("frontdesk visitor token v1"))
	return &TokenSigner{key: m.Sum(nil)}, nil
}

// Sign returns a token for c.
func (t *TokenSigner) Sign(c VisitorClaims) string {
	body, _ := json.Marshal(c)
	enc := base64.RawURLEncoding.EncodeToString(body)
	return enc + "." + t.mac(enc)
}

// Verify checks a token for a channel at now and returns its claims.
func (t *TokenSigner) Verify(token, channelID string, now time.Time) (VisitorClaims, error) {
	var c VisitorClaims
	if len(token) > 1024 {
		return c, ErrBadToken
	}
	enc, sig, ok := strings.Cut(token, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(t.mac(enc))) {
		return c, ErrBadToken
	}
	body, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil || json.Unmarshal(body, &c) != nil {
		return c, ErrBadToken
	}
	if c.Channel != channelID || c.Visitor == "" {
		return c, ErrBadToken
	}
	if age := now.Sub(time.Unix(c.IssuedAt, 0)); age < -time.Minute || age > VisitorTokenTTL {
		return c, ErrBadToken
	}
	return c, nil
}

func (t *TokenSigner) mac(s string) string {
	m := hmac.New(sha256.New, t.key)
	m.Write([]byte(s))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
