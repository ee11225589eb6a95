package cli

import (
	"encoding/json"
	"fmt"

	"github.com/frontdesk/frontdesk/api"
	"github.com/frontdesk/frontdesk/config"
)

// APIRoutes returns every route group of the HTTP API with no services
// behind them: enough to describe the API, not to serve it.
func APIRoutes(cfg config.Config) []api.Routes {
	return []api.Routes{
		api.NewAuthRoutes(nil, nil, cfg.PublicURL),
		api.NewPeopleRoutes(nil, nil),
		&api.AssistantRoutes{},
		&api.VersionRoutes{},
		&api.ChannelRoutes{PublicURL: cfg.PublicURL},
		&api.ConversationRoutes{},
		&api.InboxRoutes{},
		&api.PreviewRoutes{},
		&api.LeadRoutes{},
		&api.AttachmentRoutes{},
		&api.AnalyticsRoutes{},
		&api.WebhookRoutes{},
		&api.KnowledgeRoutes{},
		&api.NotificationRoutes{},
	}
}

// OpenAPI prints the OpenAPI 3.1 document of the HTTP API, the same one
// the server serves at /api/v1/openapi.json.
func OpenAPI(args []string, env Env) int {
	cfg := config.Default()
	cfg.PublicURL = "http://" + cfg.Addr
	s := api.New(api.Deps{Config: cfg, Services: APIRoutes(cfg)})
	out, err := json.MarshalIndent(s.API().OpenAPI(), "", "  ")
	if err != nil {
		fmt.Fprintf(env.Stderr, "frontdesk: %v\n", err)
		return ExitError
	}
	fmt.Fprintln(env.Stdout, string(out))
	return ExitOK
}
