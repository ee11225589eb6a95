package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"

	"github.com/frontdesk/frontdesk/wire"
)

// Signed visitor identity (docs/websocket.md, "Signed identity"): a site
// whose visitors are logged in signs each one's id (or email, when it has
// no id) with the channel's identity secret, and the widget sends the
// identity in its hello.

// identityVisitorPrefix starts the visitor id of a verified identity.
// Anonymous visitors' ids start with "vis_", so the two never collide.
const identityVisitorPrefix = "id:"

// identityVars are the playbook variables a verified identity sets at the
// start of a chat. A hello's vars of these names are dropped, so a
// playbook can trust them as much as visitor.identified.
var identityVars = map[string]bool{"identity_id": true, "identity_email": true, "identity_name": true}

// identitySubject is what the signature covers: the id, or the email when
// there is no id.
func identitySubject(id *wire.Identity) string {
	if id.ID != "" {
		return id.ID
	}
	return id.Email
}

// identityVisitorID is the visitor id of a verified identity on a channel:
// a hash of the channel and the identity's subject, so the same person
// gets the same id on every device, the raw id or email is not copied
// into every conversation row, and an id never matches an email that
// happens to be spelled the same.
func identityVisitorID(channelID string, id *wire.Identity) string {
	kind := "id"
	if id.ID == "" {
		kind = "email"
	}
	sum := sha256.Sum256([]byte(channelID + ":" + kind + ":" + identitySubject(id)))
	return identityVisitorPrefix + hex.EncodeToString(sum[:])
}

// isIdentityVisitor reports whether a visitor id is a verified identity's.
func isIdentityVisitor(visitor string) bool { return strings.HasPrefix(visitor, identityVisitorPrefix) }

// verifyIdentity reports whether the identity's signature is the
// HMAC-SHA256 of its subject keyed with the secret string's bytes, in hex
// (either case) or base64 (standard or URL alphabet, padded or not). The
// MAC is compared in constant time.
func verifyIdentity(secret string, id *wire.Identity) bool {
	if secret == "" || id == nil || identitySubject(id) == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(identitySubject(id)))
	want := m.Sum(nil)
	got := decodeSignature(id.Signature)
	return len(got) == len(want) && hmac.Equal(got, want)
}

// decodeSignature reads a 32-byte MAC written in hex or base64, or
// returns nil.
func decodeSignature(sig string) []byte {
	if len(sig) == hex.EncodedLen(sha256.Size) {
		if b, err := hex.DecodeString(sig); err == nil {
			return b
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(sig); err == nil && len(b) == sha256.Size {
			return b
		}
	}
	return nil
}
