package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// TokenBytes is the entropy of sessions, CSRF tokens and API tokens.
const TokenBytes = 32

// APITokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners, logs) and cannot be mistaken for a session.
const APITokenPrefix = "fdt_"

// tokenLen is the length of NewToken's output: 32 bytes in unpadded base64.
var tokenLen = base64.RawURLEncoding.EncodedLen(TokenBytes)

// NewToken returns TokenBytes random bytes from crypto/rand, base64url
// encoded without padding.
func NewToken() string {
	b := make([]byte, TokenBytes)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewAPIToken returns a new API token: APITokenPrefix and a NewToken.
func NewAPIToken() string { return APITokenPrefix + NewToken() }

// HashToken returns the sha256 hex digest under which a token is stored. A
// fast hash is enough: the token has 256 bits of entropy, so unlike a
// password it cannot be guessed offline.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// EqualTokens compares two secrets in constant time. An empty secret never
// matches, so a missing header cannot equal a missing value.
func EqualTokens(a, b string) bool {
	if a == "" || b == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// wellFormedToken reports whether s has NewToken's shape, so garbage is
// refused before a database lookup.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// wellFormedAPIToken reports whether s has NewAPIToken's shape.
func wellFormedAPIToken(s string) bool {
	rest, ok := strings.CutPrefix(s, APITokenPrefix)
	return ok && wellFormedToken(rest)
}
