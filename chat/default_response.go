package chat

import (
	"encoding/json"
	"sort"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/frontdesk/frontdesk/storage"
)

// DefaultResponse is what a channel answers until an assistant is published
// on it: a greeting, then either offline capture or the agents' queue.
type DefaultResponse struct {
	Greeting engine.Text `json:"greeting,omitempty"`
	// Then is "queue" (hand over to agents, capture when nobody claims)
	// or "capture" (take contact details at once). Defaults to "queue".
	Then string `json:"then,omitempty"`
}

// Built-in texts of the default response, in the languages it speaks.
var (
	defaultGreeting = engine.Text{
		"en": "Hi! How can we help you today?",
		"fr": "Bonjour ! Comment pouvons-nous vous aider ?",
		"es": "¡Hola! ¿En qué podemos ayudarte?",
		"de": "Hallo! Wie können wir Ihnen helfen?",
	}
	defaultOnline = engine.Text{
		"en": "Thanks! An agent will be with you shortly.",
		"fr": "Merci ! Un conseiller va vous répondre.",
		"es": "¡Gracias! Un agente te atenderá en breve.",
		"de": "Danke! Ein Mitarbeiter ist gleich für Sie da.",
	}
	defaultOffline = engine.Text{
		"en": "Nobody is available right now. Leave your details and we will get back to you.",
		"fr": "Personne n'est disponible pour le moment. Laissez vos coordonnées et nous vous répondrons.",
		"es": "No hay nadie disponible ahora. Déjanos tus datos y te responderemos.",
		"de": "Gerade ist niemand erreichbar. Hinterlassen Sie Ihre Daten, wir melden uns.",
	}
	defaultAskName = engine.Text{"en": "What is your name?", "fr": "Quel est votre nom ?", "es": "¿Cómo te llamas?", "de": "Wie heißen Sie?"}
	defaultAskMail = engine.Text{"en": "What is your email address?", "fr": "Quelle est votre adresse e-mail ?", "es": "¿Cuál es tu correo electrónico?", "de": "Wie lautet Ihre E-Mail-Adresse?"}
	defaultAskNote = engine.Text{"en": "How can we help?", "fr": "Comment pouvons-nous vous aider ?", "es": "¿Cómo podemos ayudarte?", "de": "Wie können wir helfen?"}
	defaultThanks  = engine.Text{"en": "Thanks, we will get back to you soon.", "fr": "Merci, nous revenons vers vous rapidement.", "es": "Gracias, te responderemos pronto.", "de": "Danke, wir melden uns bald."}
)

// DefaultResponseOf reads a channel's default response; a nil channel or an
// unreadable document gives the built-in one.
func DefaultResponseOf(ch *storage.Channel) DefaultResponse {
	var dr DefaultResponse
	if ch != nil && len(ch.DefaultResponse) > 0 {
		_ = json.Unmarshal(ch.DefaultResponse, &dr)
	}
	if dr.Then != "capture" {
		dr.Then = "queue"
	}
	return dr
}

// Graph builds the workflow of the default response. It speaks the
// languages the built-in texts have; the greeting falls back to English.
func (d DefaultResponse) Graph() *engine.Graph {
	greeting := engine.Text{}
	for lang, t := range defaultGreeting {
		greeting[lang] = t
		if custom := d.Greeting[lang]; custom != "" {
			greeting[lang] = custom
		} else if custom := d.Greeting["en"]; custom != "" {
			greeting[lang] = custom
		}
	}
	langs := make([]string, 0, len(defaultGreeting))
	for lang := range defaultGreeting {
		if lang != "en" {
			langs = append(langs, lang)
		}
	}
	sort.Strings(langs)
	capture := engine.Node{ID: "capture", Kind: engine.KindOfflineCapture, OfflineCapture: &engine.CaptureConfig{
		Fields: []engine.Field{
			{Var: "name", Type: engine.FieldText, Prompt: defaultAskName, Optional: true},
			{Var: "email", Type: engine.FieldEmail, Prompt: defaultAskMail},
			{Var: "note", Type: engine.FieldText, Prompt: defaultAskNote, Optional: true},
		},
		Confirm: defaultThanks,
	}}
	g := &engine.Graph{
		DefaultLanguage: "en",
		Languages:       langs,
		Start:           "greet",
		Nodes: []engine.Node{
			{ID: "greet", Kind: engine.KindGreet, Greet: &engine.GreetConfig{Text: greeting, AwaitReply: true}},
			{ID: "queue", Kind: engine.KindHandover, Handover: &engine.HandoverConfig{WaitSeconds: 300, OnlineText: defaultOnline, OfflineText: defaultOffline}},
			capture,
			{ID: "end", Kind: engine.KindEnd},
		},
		Edges: []engine.Edge{
			{ID: "queue-claimed", From: "queue", Port: engine.PortClaimed, To: "end"},
			{ID: "queue-timeout", From: "queue", Port: engine.PortTimedOut, To: "capture"},
			{ID: "capture-end", From: "capture", To: "end"},
		},
		LoopBreaker: &engine.LoopBreaker{To: "capture"},
	}
	if d.Then == "capture" {
		g.Edges = append(g.Edges, engine.Edge{ID: "greet-next", From: "greet", To: "capture"})
		// The queue is unused; leave it out so the graph has no unreachable node.
		g.Nodes = append(g.Nodes[:1], g.Nodes[2:]...)
		g.Edges = g.Edges[2:]
	} else {
		g.Edges = append(g.Edges, engine.Edge{ID: "greet-next", From: "greet", To: "queue"})
	}
	return g
}

// QueueGraph is the workflow of a chat that goes straight to the agents'
// queue (a returning visitor of a new-visitors-only assistant): the queue
// at once, then capture when nobody claims it.
func (d DefaultResponse) QueueGraph() *engine.Graph {
	g := DefaultResponse{Then: "queue"}.Graph()
	g.Start = "queue"
	g.Nodes = g.Nodes[1:] // no greeting
	kept := g.Edges[:0]
	for _, e := range g.Edges {
		if e.From != "greet" {
			kept = append(kept, e)
		}
	}
	g.Edges = kept
	return g
}
