package storage

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// ChannelKind is the kind of a channel. Only the web widget exists so far.
type ChannelKind string

// ChannelWeb is the embeddable website widget.
const ChannelWeb ChannelKind = "web"

// Channel is where visitors reach the workspace, e.g. a web widget.
type Channel struct {
	ID          string
	WorkspaceID string
	Name        string
	Kind        ChannelKind
	// PublicKey goes into the widget's script tag and identifies the
	// channel, and so the workspace. It is unguessable but not secret.
	PublicKey string
	// AllowedOrigins are the page origins the widget may run on.
	AllowedOrigins Strings
	// DefaultResponse applies until an assistant is published on the
	// channel.
	DefaultResponse JSON
	// AssistantID is the connected assistant, or "". A channel has at most
	// one.
	AssistantID string `gorm:"serializer:frontdesk_nullstring"`
	// IdentitySecret is the key the site's backend signs its logged-in
	// visitors with (HMAC-SHA256 of their id or email), or "" while
	// identity verification is off. It is a secret: the API shows it once,
	// when GenerateIdentitySecret makes it, and never returns it again.
	IdentitySecret string `gorm:"serializer:frontdesk_nullstring" json:"-"`
	// IdentitySecretSetAt is when the current secret was generated; nil
	// while verification is off.
	IdentitySecretSetAt *time.Time
	CreatedAt           time.Time
}

// IdentityVerification reports whether the channel verifies signed
// identities.
func (c *Channel) IdentityVerification() bool { return c.IdentitySecret != "" }

// TableName is the channels table.
func (Channel) TableName() string { return "channels" }

// NewChannel is the input of CreateChannel.
type NewChannel struct {
	Name string
	// Kind defaults to ChannelWeb.
	Kind            ChannelKind
	AllowedOrigins  []string
	DefaultResponse JSON
}

// publicKeyPrefix marks widget keys so they are recognisable in logs and
// support requests.
const publicKeyPrefix = "pk_"

func newPublicKey() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic("storage: crypto/rand failed: " + err.Error())
	}
	return publicKeyPrefix + hex.EncodeToString(b)
}

// identitySecretPrefix marks identity secrets so they are recognisable
// in a site's configuration, and in a leak scanner's rules.
const identitySecretPrefix = "fdid_"

// NewIdentitySecret returns a fresh identity secret: 32 random bytes,
// base64url without padding, after identitySecretPrefix.
func NewIdentitySecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("storage: crypto/rand failed: " + err.Error())
	}
	return identitySecretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// GenerateIdentitySecret gives the channel a new identity secret,
// replacing any old one at once (signatures made with it stop verifying),
// and returns the secret and the channel. A channel of another workspace
// is ErrNotFound.
func (s *Store) GenerateIdentitySecret(ctx context.Context, ws, channelID string) (string, *Channel, error) {
	secret := NewIdentitySecret()
	c, err := s.setIdentitySecret(ctx, ws, channelID, secret)
	if err != nil {
		return "", nil, err
	}
	return secret, c, nil
}

// ClearIdentitySecret turns identity verification off on the channel: its
// visitors are anonymous again, whatever identity they claim. Clearing a
// channel without a secret changes nothing.
func (s *Store) ClearIdentitySecret(ctx context.Context, ws, channelID string) (*Channel, error) {
	return s.setIdentitySecret(ctx, ws, channelID, "")
}

func (s *Store) setIdentitySecret(ctx context.Context, ws, channelID, secret string) (*Channel, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	if err := needID("channel id", channelID); err != nil {
		return nil, err
	}
	var setAt any
	if secret != "" {
		setAt = s.now()
	}
	var out *Channel
	err := s.InTx(ctx, func(tx *Store) error {
		res := tx.conn(ctx).Exec(`UPDATE channels SET identity_secret = ?, identity_secret_set_at = ? WHERE workspace_id = ? AND id = ?`,
			nullable(secret), setAt, ws, channelID)
		if res.Error != nil {
			return wrap("set identity secret", res.Error)
		}
		if res.RowsAffected == 0 {
			return notFound("channel " + channelID)
		}
		var err error
		out, err = tx.GetChannel(ctx, ws, channelID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// CreateChannel creates a channel with a fresh public key.
func (s *Store) CreateChannel(ctx context.Context, ws string, in NewChannel) (*Channel, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, invalidf("channel name is empty")
	}
	if err := checkText("channel name", name, MaxNameBytes); err != nil {
		return nil, err
	}
	if in.Kind == "" {
		in.Kind = ChannelWeb
	}
	if in.Kind != ChannelWeb {
		return nil, invalidf("channel kind %q: want web", in.Kind)
	}
	if err := checkStrings("allowed origins", in.AllowedOrigins, MaxStringListItems, MaxNameBytes); err != nil {
		return nil, err
	}
	resp, err := checkJSON("default response", in.DefaultResponse, "{}", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	origins := Strings(in.AllowedOrigins)
	if origins == nil {
		origins = Strings{}
	}
	c := &Channel{
		ID: newID(), WorkspaceID: ws, Name: name, Kind: in.Kind, PublicKey: newPublicKey(),
		AllowedOrigins: origins, DefaultResponse: resp, CreatedAt: s.now(),
	}
	if err := s.conn(ctx).Create(c).Error; err != nil {
		return nil, wrap("create channel", err)
	}
	return c, nil
}

// GetChannel returns the channel, or ErrNotFound.
func (s *Store) GetChannel(ctx context.Context, ws, id string) (*Channel, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var c Channel
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&c).Error; err != nil {
		return nil, wrap("get channel", err)
	}
	return &c, nil
}

// GetChannelByPublicKey finds a channel by its widget key. It is the one
// channel lookup without a workspace id: the key is what tells the widget
// endpoint which workspace it serves. The caller still checks the request's
// origin against AllowedOrigins.
func (s *Store) GetChannelByPublicKey(ctx context.Context, key string) (*Channel, error) {
	if !strings.HasPrefix(key, publicKeyPrefix) {
		return nil, notFound("channel key")
	}
	var c Channel
	if err := s.conn(ctx).Where("public_key = ?", key).Take(&c).Error; err != nil {
		return nil, wrap("get channel by key", err)
	}
	return &c, nil
}

// ListChannels returns the workspace's channels by name.
func (s *Store) ListChannels(ctx context.Context, ws string, limit int) ([]Channel, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var out []Channel
	err := s.conn(ctx).Where("workspace_id = ?", ws).Order("name, id").Limit(clampLimit(limit)).Find(&out).Error
	if err != nil {
		return nil, wrap("list channels", err)
	}
	return out, nil
}

// ConnectAssistant makes assistantID the channel's assistant, replacing any
// previous one. Both must belong to the workspace.
func (s *Store) ConnectAssistant(ctx context.Context, ws, channelID, assistantID string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	if err := needID("assistant id", assistantID); err != nil {
		return err
	}
	return s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "assistants", "assistant", ws, assistantID); err != nil {
			return err
		}
		return tx.setChannelAssistant(ctx, ws, channelID, assistantID)
	})
}

// DisconnectAssistant leaves the channel without an assistant, so its
// default response applies again.
func (s *Store) DisconnectAssistant(ctx context.Context, ws, channelID string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	return s.setChannelAssistant(ctx, ws, channelID, "")
}

func (s *Store) setChannelAssistant(ctx context.Context, ws, channelID, assistantID string) error {
	res := s.conn(ctx).Exec(`UPDATE channels SET assistant_id = ? WHERE workspace_id = ? AND id = ?`,
		nullable(assistantID), ws, channelID)
	if res.Error != nil {
		return wrap("set channel assistant", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("channel " + channelID)
	}
	return nil
}
