package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/playbooks"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/web"
)

// Demo credentials. The demo is for trying Frontdesk on one's own machine;
// its password is public on purpose.
const (
	DemoEmail    = "admin@demo.frontdesk.test"
	DemoPassword = "frontdesk-demo"
	// DemoTemplate is the playbook the demo assistant runs.
	DemoTemplate = "lead-qualification"
)

// Instance settings that remember the demo, so a restart reuses it.
const (
	demoWorkspaceKey = "demo_workspace"
	demoChannelKey   = "demo_channel"
)

// SeedDemo creates, once, a demo workspace with an admin, a channel whose
// allowed origin is the server itself, and a published assistant on it;
// and prints how to use it.
func SeedDemo(ctx context.Context, store *storage.Store, cfg config.Config, env Env) (*web.Demo, error) {
	demo := &web.Demo{PublicURL: cfg.PublicURL, Email: DemoEmail}
	wsID, err := store.GetSetting(ctx, demoWorkspaceKey)
	switch {
	case err == nil:
		chID, err := store.GetSetting(ctx, demoChannelKey)
		if err != nil {
			return nil, err
		}
		ch, err := store.GetChannel(ctx, wsID, chID)
		if err != nil {
			return nil, err
		}
		demo.ChannelKey = ch.PublicKey
		demo.Assistant = "Ava"
		if ch.AssistantID != "" {
			if a, err := store.GetAssistant(ctx, wsID, ch.AssistantID); err == nil {
				demo.Assistant = a.Name
			}
		}
	case errors.Is(err, storage.ErrNotFound):
		if err := seed(ctx, store, cfg, demo); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	fmt.Fprintf(env.Stdout, `
Frontdesk demo
  Chat as a visitor:  %s/
  Build and answer:   %s/app/
  API and its docs:   %s/api/v1/docs
  Sign in:            %s / %s
    curl -c jar -H 'Content-Type: application/json' \
      -d '{"email":"%s","password":"%s"}' %s/api/v1/auth/login
  Widget snippet:     %s

`, cfg.PublicURL, cfg.PublicURL, cfg.PublicURL, DemoEmail, DemoPassword, DemoEmail, DemoPassword, cfg.PublicURL, web.Snippet(cfg.PublicURL, demo.ChannelKey))
	return demo, nil
}

func seed(ctx context.Context, store *storage.Store, cfg config.Config, demo *web.Demo) error {
	hash, err := auth.NewHasher(auth.DefaultParams(), 1).Hash(ctx, DemoPassword)
	if err != nil {
		return err
	}
	f, err := playbooks.Template(DemoTemplate)
	if err != nil {
		return err
	}
	graph, err := json.Marshal(f.Graph)
	if err != nil {
		return err
	}
	origins := []string{cfg.PublicURL}
	if u, err := url.Parse(cfg.PublicURL); err == nil && u.Hostname() == "127.0.0.1" {
		origins = append(origins, "http://localhost:"+u.Port())
	}
	return store.InTx(ctx, func(tx *storage.Store) error {
		w, err := tx.CreateWorkspace(ctx, "Demo")
		if err != nil {
			return err
		}
		if _, err := tx.CreateUser(ctx, w.ID, storage.NewUser{Email: DemoEmail, Name: "Demo Admin", Role: storage.RoleOwner, PasswordHash: hash}); err != nil {
			return err
		}
		a, err := tx.CreateAssistant(ctx, w.ID, storage.NewAssistant{Name: "Ava", Languages: f.Graph.Languages, Graph: graph})
		if err != nil {
			return err
		}
		if _, err := tx.PublishVersion(ctx, w.ID, a.ID, graph, ""); err != nil {
			return err
		}
		greeting, _ := json.Marshal(map[string]any{"then": "queue"})
		ch, err := tx.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Demo website", AllowedOrigins: origins, DefaultResponse: greeting})
		if err != nil {
			return err
		}
		if err := tx.ConnectAssistant(ctx, w.ID, ch.ID, a.ID); err != nil {
			return err
		}
		if err := tx.InsertSetting(ctx, demoWorkspaceKey, w.ID); err != nil {
			return err
		}
		if err := tx.InsertSetting(ctx, demoChannelKey, ch.ID); err != nil {
			return err
		}
		demo.ChannelKey, demo.Assistant = ch.PublicKey, a.Name
		return nil
	})
}
