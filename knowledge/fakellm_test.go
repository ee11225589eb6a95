package knowledge_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/knowledge"
)

// fakeLLM is a local chat completions server. No real model runs in the
// tests, so this stands in for one; it speaks the actual wire format
// (request JSON, JSON responses, server-sent event streams, error bodies),
// checks every request's shape, and records it.
type fakeLLM struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	requests []fakeRequest
	// reply answers a request; the tests set it.
	reply func(w http.ResponseWriter, r *http.Request, req fakeRequest)
}

// fakeRequest is one request as the server decoded it.
type fakeRequest struct {
	Path   string
	Query  string
	Header http.Header
	// Raw is the body as a generic document, to check absent fields.
	Raw  map[string]any
	Body struct {
		Model               string              `json:"model"`
		Messages            []knowledge.Message `json:"messages"`
		MaxTokens           int                 `json:"max_tokens"`
		MaxCompletionTokens int                 `json:"max_completion_tokens"`
		Temperature         *float64            `json:"temperature"`
		Stream              bool                `json:"stream"`
		Tools               []struct {
			Type     string `json:"type"`
			Function struct {
				Name       string         `json:"name"`
				Parameters map[string]any `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
		ToolChoice any `json:"tool_choice"`
	}
}

func newFakeLLM(t *testing.T) *fakeLLM {
	t.Helper()
	f := &fakeLLM{t: t}
	f.reply = func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeCompletion(w, "Hello from the fake model.", "stop")
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// url is the base URL to configure, as a user would: .../v1.
func (f *fakeLLM) url() string { return f.srv.URL + "/v1" }

func (f *fakeLLM) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/chat/completions") {
		http.Error(w, `{"error":{"message":"not found"}}`, http.StatusNotFound)
		return
	}
	var req fakeRequest
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(raw, &req.Body) != nil || json.Unmarshal(raw, &req.Raw) != nil {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":{"message":"invalid JSON body","type":"invalid_request_error"}}`)
		return
	}
	req.Path, req.Query, req.Header = r.URL.Path, r.URL.RawQuery, r.Header.Clone()
	f.mu.Lock()
	f.requests = append(f.requests, req)
	reply := f.reply
	f.mu.Unlock()
	reply(w, r, req)
}

func (f *fakeLLM) setReply(fn func(w http.ResponseWriter, r *http.Request, req fakeRequest)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reply = fn
}

func (f *fakeLLM) got() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.requests...)
}

func (f *fakeLLM) last() fakeRequest {
	f.t.Helper()
	reqs := f.got()
	require.NotEmpty(f.t, reqs, "no request reached the fake model")
	return reqs[len(reqs)-1]
}

// writeCompletion answers a non-streaming completion with content.
func writeCompletion(w http.ResponseWriter, content, finish string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion", "created": 1700000000, "model": "fake",
		"choices": []any{map[string]any{
			"index":         0,
			"message":       map[string]any{"role": "assistant", "content": content, "refusal": nil},
			"finish_reason": finish,
		}},
		"usage": map[string]any{"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
	})
}

// writeToolCall answers with a call of the tool, as OpenAI does: no
// content, finish_reason tool_calls.
func writeToolCall(w http.ResponseWriter, name, args string) {
	writeJSON(w, http.StatusOK, map[string]any{
		"id": "chatcmpl-2", "object": "chat.completion", "created": 1700000000, "model": "fake",
		"choices": []any{map[string]any{
			"index": 0,
			"message": map[string]any{"role": "assistant", "content": nil, "tool_calls": []any{map[string]any{
				"id": "call_1", "type": "function", "function": map[string]any{"name": name, "arguments": args},
			}}},
			"finish_reason": "tool_calls",
		}},
	})
}

// writeError answers an error status with OpenAI's error body.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"message": msg, "type": "invalid_request_error", "code": nil}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeStream answers with server-sent events: each chunk is one data:
// line, flushed, then data: [DONE] when done.
func writeStream(w http.ResponseWriter, chunks []string, done bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl := w.(http.Flusher)
	// A keep-alive comment, as some proxies and servers send.
	fmt.Fprint(w, ": keep-alive\n\n")
	for _, c := range chunks {
		fmt.Fprintf(w, "data: %s\n\n", c)
		fl.Flush()
	}
	if done {
		fmt.Fprint(w, "data: [DONE]\n\n")
	}
	fl.Flush()
}

// deltaChunk is one streamed chunk carrying a delta.
func deltaChunk(delta map[string]any, finish any) string {
	raw, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-3", "object": "chat.completion.chunk", "created": 1700000000, "model": "fake",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": finish}},
	})
	return string(raw)
}

// textChunks streams text in pieces of n bytes, with the role first and
// the finish reason last, as OpenAI does.
func textChunks(text string, n int) []string {
	out := []string{deltaChunk(map[string]any{"role": "assistant", "content": ""}, nil)}
	for len(text) > 0 {
		k := min(n, len(text))
		out = append(out, deltaChunk(map[string]any{"content": text[:k]}, nil))
		text = text[k:]
	}
	return append(out, deltaChunk(map[string]any{}, "stop"))
}
