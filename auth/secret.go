package auth

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/frontdesk/frontdesk/storage"
)

// SigningSecretKey is the instance_settings key of the generated signing
// secret.
const SigningSecretKey = "signing_secret"

// MinSecretBytes is the shortest signing secret accepted, configured or
// generated: 256 bits, the size of an HMAC-SHA256 key.
const MinSecretBytes = 32

// SigningSecret returns the instance's secret for signing (visitor tokens
// and the like), at least MinSecretBytes long: the configured one
// (FRONTDESK_SECRET) when set, otherwise TokenBytes random bytes generated
// on first use and kept in the database, so every node of a cluster signs
// with the same key without any configuration. Call it once at start-up.
func SigningSecret(ctx context.Context, store *storage.Store, configured string) ([]byte, error) {
	if configured != "" {
		if len(configured) < MinSecretBytes {
			return nil, fmt.Errorf("auth: FRONTDESK_SECRET must be at least %d bytes", MinSecretBytes)
		}
		return []byte(configured), nil
	}
	v, err := store.GetOrCreateSecret(ctx, SigningSecretKey, NewToken)
	if err != nil {
		return nil, fmt.Errorf("auth: signing secret: %w", err)
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < MinSecretBytes {
		return nil, fmt.Errorf("auth: signing secret in instance_settings is malformed")
	}
	return b, nil
}
