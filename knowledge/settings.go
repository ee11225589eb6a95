package knowledge

import (
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/frontdesk/frontdesk/storage"
)

// Mode says which answerer llm_answer nodes use. faq nodes always use the
// built-in one: they match the FAQ, they do not write.
type Mode string

// The modes.
const (
	// ModeBuiltin answers offline from the index. The default.
	ModeBuiltin Mode = storage.AnswererBuiltin
	// ModeOpenAI asks an OpenAI-compatible chat completions endpoint.
	ModeOpenAI Mode = storage.AnswererOpenAI
)

// Defaults and bounds of Settings.
const (
	// DefaultThreshold is the confidence the built-in answerer needs to
	// answer. Calibrated on the test fixtures (docs/knowledge.md): right
	// answers to paraphrased questions score 0.55–1, unrelated questions
	// below 0.45.
	DefaultThreshold = 0.5
	// DefaultMaxTokens bounds a model's reply: a chat answer of a few
	// sentences, with room for languages that take more tokens.
	DefaultMaxTokens = 400
	// MaxMaxTokens is the largest MaxTokens accepted.
	MaxMaxTokens = 4096
	// DefaultTimeout bounds one model call, below chat.AnswerTimeout (20s)
	// so that the answerer, not the runtime, decides to hand over.
	DefaultTimeout = 15 * time.Second
	// MinTimeout and MaxTimeout bound Timeout. The runtime's own bound
	// (chat.AnswerTimeout) still applies to conversations.
	MinTimeout = time.Second
	MaxTimeout = 60 * time.Second
	// MaxModelChars bounds a model name.
	MaxModelChars = 200
)

// Settings configures a workspace's answerer.
type Settings struct {
	Mode Mode
	// BaseURL is the endpoint's base, such as https://api.openai.com/v1 or
	// http://127.0.0.1:11434/v1; /chat/completions is appended (its query
	// string, such as Azure's api-version, is kept).
	BaseURL string
	Model   string
	// APIKey is sent as a bearer token (and as api-key to Azure). Empty
	// for local servers that need none.
	APIKey string
	// MaxTokens bounds the reply. Defaults to DefaultMaxTokens.
	MaxTokens int
	// Timeout bounds one call. Defaults to DefaultTimeout.
	Timeout time.Duration
	// Threshold is the built-in answerer's confidence threshold in [0, 1].
	// Defaults to DefaultThreshold.
	Threshold float64
	// Stream asks for server-sent events rather than one JSON response.
	Stream bool
	// HandoverTool offers the model a handover(reason) tool. Turn it off
	// for servers that refuse tools; the HANDOVER sentinel still works.
	HandoverTool bool
}

// DefaultSettings are a workspace's settings until it saves its own: the
// built-in answerer.
func DefaultSettings() Settings {
	return Settings{
		Mode: ModeBuiltin, MaxTokens: DefaultMaxTokens, Timeout: DefaultTimeout,
		Threshold: DefaultThreshold, HandoverTool: true,
	}
}

// SettingsFromStore converts a stored row, filling defaults for zero
// fields.
func SettingsFromStore(r *storage.AnswererSettings) Settings {
	s := DefaultSettings()
	if r == nil {
		return s
	}
	s.Mode = Mode(r.Mode)
	s.BaseURL, s.Model, s.APIKey = r.BaseURL, r.Model, r.APIKey
	if r.MaxTokens > 0 {
		s.MaxTokens = r.MaxTokens
	}
	if r.TimeoutMS > 0 {
		s.Timeout = time.Duration(r.TimeoutMS) * time.Millisecond
	}
	s.Threshold = r.Threshold
	s.Stream, s.HandoverTool = r.Stream, r.HandoverTool
	return s
}

// Store converts the settings to a row for storage.
func (s Settings) Store() storage.AnswererSettings {
	return storage.AnswererSettings{
		Mode: string(s.Mode), BaseURL: s.BaseURL, Model: s.Model, APIKey: s.APIKey,
		MaxTokens: s.MaxTokens, TimeoutMS: int(s.Timeout / time.Millisecond), Threshold: s.Threshold,
		Stream: s.Stream, HandoverTool: s.HandoverTool,
	}
}

// Validate checks the settings and names each faulty field by its API
// name (base_url, timeout_ms, ...).
func (s Settings) Validate() []FieldError {
	v := &validator{}
	switch s.Mode {
	case ModeBuiltin, ModeOpenAI:
	default:
		v.add("mode", "expected builtin or openai", string(s.Mode))
	}
	if s.BaseURL != "" || s.Mode == ModeOpenAI {
		if msg := checkBaseURL(s.BaseURL); msg != "" {
			v.add("base_url", msg, nil)
		}
	}
	switch {
	case s.Mode == ModeOpenAI && strings.TrimSpace(s.Model) == "":
		v.add("model", "required with mode openai", nil)
	case utf8.RuneCountInString(s.Model) > MaxModelChars:
		v.add("model", fmt.Sprintf("longer than %d characters", MaxModelChars), nil)
	case strings.ContainsFunc(s.Model, badControl):
		v.add("model", "contains a control character", nil)
	}
	if len(s.APIKey) > storage.MaxSecretBytes || strings.ContainsFunc(s.APIKey, func(r rune) bool { return r < 0x21 || r == 0x7f }) {
		// Never echo a key, even a bad one.
		v.add("api_key", fmt.Sprintf("expected at most %d bytes of printable characters without spaces", storage.MaxSecretBytes), nil)
	}
	if s.MaxTokens < 1 || s.MaxTokens > MaxMaxTokens {
		v.add("max_tokens", fmt.Sprintf("expected 1 to %d", MaxMaxTokens), s.MaxTokens)
	}
	if s.Timeout < MinTimeout || s.Timeout > MaxTimeout {
		v.add("timeout_ms", fmt.Sprintf("expected %d to %d", MinTimeout.Milliseconds(), MaxTimeout.Milliseconds()), s.Timeout.Milliseconds())
	}
	if math.IsNaN(s.Threshold) || s.Threshold < 0 || s.Threshold > 1 {
		v.add("confidence_threshold", "expected a number from 0 to 1", nil)
	}
	return v.errs
}

// checkBaseURL accepts an absolute http(s) URL without credentials or
// fragment. Internal addresses are allowed on purpose: a local model
// server (Ollama on 127.0.0.1) is the common self-hosted case, and only
// admins may set the URL.
func checkBaseURL(raw string) string {
	if raw == "" {
		return "required with mode openai"
	}
	if len(raw) > storage.MaxURLBytes {
		return fmt.Sprintf("longer than %d bytes", storage.MaxURLBytes)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "":
		return "expected an absolute URL such as https://api.openai.com/v1"
	case u.Scheme != "http" && u.Scheme != "https":
		return "expected an http or https URL"
	case u.User != nil:
		return "put credentials in api_key, not in the URL"
	case u.Fragment != "":
		return "a URL fragment is not allowed"
	}
	return ""
}

// MaskKey shows enough of an API key to recognize it and never enough to
// use it: the last four characters of a long key, nothing of a short one.
func MaskKey(key string) string {
	switch {
	case key == "":
		return ""
	case len(key) < 16:
		return "••••"
	default:
		return "••••" + key[len(key)-4:]
	}
}
