package knowledge_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/knowledge"
)

const testKey = "sk-test-0123456789abcdef"

func llmSettings(f *fakeLLM) knowledge.Settings {
	s := knowledge.DefaultSettings()
	s.Mode, s.BaseURL, s.Model, s.APIKey = knowledge.ModeOpenAI, f.url(), "llama3.2", testKey
	s.MaxTokens = 256
	s.Timeout = 2 * time.Second
	return s
}

func newClient(t *testing.T, s knowledge.Settings, opts knowledge.OpenAIOptions) *knowledge.OpenAI {
	t.Helper()
	c, err := knowledge.NewOpenAI(s, opts)
	require.NoError(t, err)
	return c
}

var testMessages = []knowledge.Message{
	{Role: "system", Content: "You are a test."},
	{Role: "user", Content: "What are your prices?"},
}

func TestOpenAIRequestShapeAndJSONReply(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	c := newClient(t, llmSettings(f), knowledge.OpenAIOptions{})
	reply, err := c.Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Equal(t, knowledge.Reply{Text: "Hello from the fake model.", FinishReason: "stop"}, reply)

	req := f.last()
	require.Equal(t, "/v1/chat/completions", req.Path)
	require.Equal(t, "Bearer "+testKey, req.Header.Get("Authorization"))
	require.Empty(t, req.Header.Get("api-key"), "only Azure gets the api-key header")
	require.Equal(t, "application/json", req.Header.Get("Accept"))
	require.Equal(t, "llama3.2", req.Body.Model)
	require.Equal(t, testMessages, req.Body.Messages)
	require.Equal(t, 256, req.Body.MaxTokens)
	require.NotContains(t, req.Raw, "max_completion_tokens")
	require.NotNil(t, req.Body.Temperature)
	require.InDelta(t, 0.2, *req.Body.Temperature, 1e-9)
	require.False(t, req.Body.Stream)
	require.NotContains(t, req.Raw, "stream", "non-streaming requests leave stream out")
	require.Len(t, req.Body.Tools, 1)
	require.Equal(t, "function", req.Body.Tools[0].Type)
	require.Equal(t, "handover", req.Body.Tools[0].Function.Name)
	require.Equal(t, "object", req.Body.Tools[0].Function.Parameters["type"])
	require.Equal(t, "auto", req.Body.ToolChoice)

	// No key, no Authorization header (a local Ollama); no tool when the
	// settings turn it off.
	s := llmSettings(f)
	s.APIKey, s.HandoverTool = "", false
	_, err = newClient(t, s, knowledge.OpenAIOptions{}).Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	req = f.last()
	require.Empty(t, req.Header.Get("Authorization"))
	require.NotContains(t, req.Raw, "tools")
	require.NotContains(t, req.Raw, "tool_choice")
}

func TestOpenAIStream(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	const text = "Our landing pages start at $400, and a five-page site at $1,200."
	f.setReply(func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		require.True(t, req.Body.Stream)
		writeStream(w, textChunks(text, 7), true)
	})
	s := llmSettings(f)
	s.Stream = true
	reply, err := newClient(t, s, knowledge.OpenAIOptions{}).Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Equal(t, knowledge.Reply{Text: text, FinishReason: "stop"}, reply)
	require.Equal(t, "text/event-stream", f.last().Header.Get("Accept"))

	// A tool call streamed in pieces: the name first, the arguments a few
	// characters at a time.
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		call := func(fn map[string]any) string {
			return deltaChunk(map[string]any{"tool_calls": []any{map[string]any{"index": 0, "id": "call_9", "type": "function", "function": fn}}}, nil)
		}
		writeStream(w, []string{
			deltaChunk(map[string]any{"role": "assistant", "content": nil}, nil),
			call(map[string]any{"name": "handover", "arguments": ""}),
			call(map[string]any{"arguments": `{"reas`}),
			call(map[string]any{"arguments": `on":"wants a `}),
			call(map[string]any{"arguments": `human"}`}),
			deltaChunk(map[string]any{}, "tool_calls"),
		}, true)
	})
	reply, err = newClient(t, s, knowledge.OpenAIOptions{}).Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Equal(t, knowledge.Reply{Handover: true, Reason: "wants a human", FinishReason: "tool_calls"}, reply)

	// A server that ignores stream: true and answers JSON is read as JSON.
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeCompletion(w, "Plain JSON.", "stop") })
	reply, err = newClient(t, s, knowledge.OpenAIOptions{}).Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Equal(t, "Plain JSON.", reply.Text)
}

func TestOpenAIHandover(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	c := newClient(t, llmSettings(f), knowledge.OpenAIOptions{})
	ask := func(reply func(w http.ResponseWriter)) knowledge.Reply {
		t.Helper()
		f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { reply(w) })
		r, err := c.Chat(context.Background(), testMessages, true)
		require.NoError(t, err)
		return r
	}
	for name, tc := range map[string]struct {
		reply func(w http.ResponseWriter)
		want  knowledge.Reply
	}{
		"tool call": {
			func(w http.ResponseWriter) { writeToolCall(w, "handover", `{"reason":"asks for a custom quote"}`) },
			knowledge.Reply{Handover: true, Reason: "asks for a custom quote", FinishReason: "tool_calls"}},
		"tool call with broken arguments": {
			func(w http.ResponseWriter) { writeToolCall(w, "handover", `{"reason":`) },
			knowledge.Reply{Handover: true, Reason: "handover", FinishReason: "tool_calls"}},
		"unknown tool": {
			func(w http.ResponseWriter) { writeToolCall(w, "get_weather", `{}`) },
			knowledge.Reply{Handover: true, Reason: "unknown tool get_weather", FinishReason: "tool_calls"}},
		"sentinel": {
			func(w http.ResponseWriter) { writeCompletion(w, "HANDOVER", "stop") },
			knowledge.Reply{Handover: true, Reason: "sentinel", FinishReason: "stop"}},
		"sentinel in markup": {
			func(w http.ResponseWriter) { writeCompletion(w, "**HANDOVER**", "stop") },
			knowledge.Reply{Handover: true, Reason: "sentinel", FinishReason: "stop"}},
		"sentinel with a reason": {
			func(w http.ResponseWriter) {
				writeCompletion(w, "I'm not sure.\nHANDOVER: pricing for a custom app", "stop")
			},
			knowledge.Reply{Handover: true, Reason: "pricing for a custom app", FinishReason: "stop"}},
		"refusal": {
			func(w http.ResponseWriter) {
				writeJSON(w, http.StatusOK, map[string]any{"choices": []any{map[string]any{
					"index": 0, "finish_reason": "stop",
					"message": map[string]any{"role": "assistant", "content": nil, "refusal": "I can't help with that."},
				}}})
			},
			knowledge.Reply{Handover: true, Reason: "refusal", FinishReason: "stop"}},
		"content filter": {
			func(w http.ResponseWriter) { writeCompletion(w, "", "content_filter") },
			knowledge.Reply{Handover: true, Reason: "content_filter", FinishReason: "content_filter"}},
		"empty": {
			func(w http.ResponseWriter) { writeCompletion(w, "   ", "stop") },
			knowledge.Reply{Handover: true, Reason: "empty", FinishReason: "stop"}},
		"only thinking": {
			func(w http.ResponseWriter) { writeCompletion(w, "<think>the visitor wants", "length") },
			knowledge.Reply{Handover: true, Reason: "truncated", FinishReason: "length"}},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, ask(tc.reply))
		})
	}
	// Lower-case words are answers, not requests.
	got := ask(func(w http.ResponseWriter) { writeCompletion(w, "The handover of files happens on delivery.", "stop") })
	require.False(t, got.Handover)
	// Reasoning is removed; a reply cut by max_tokens keeps its whole
	// sentences; content as an array of parts is read.
	got = ask(func(w http.ResponseWriter) {
		writeCompletion(w, "<think>Prices are in the FAQ.</think>\nA page costs $400.", "stop")
	})
	require.Equal(t, "A page costs $400.", got.Text)
	got = ask(func(w http.ResponseWriter) { writeCompletion(w, "A page costs $400. A site costs $1,2", "length") })
	require.Equal(t, "A page costs $400.", got.Text)
	got = ask(func(w http.ResponseWriter) {
		writeJSON(w, http.StatusOK, map[string]any{"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": []any{
				map[string]any{"type": "text", "text": "Part one, "}, map[string]any{"type": "text", "text": "part two."}}}}}})
	})
	require.Equal(t, "Part one, part two.", got.Text)
}

func TestOpenAIErrors(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		stream bool
		reply  func(w http.ResponseWriter)
		check  func(t *testing.T, err error)
	}{
		"429": {reply: func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "20")
			writeError(w, http.StatusTooManyRequests, "Rate limit reached for requests")
		}, check: func(t *testing.T, err error) {
			var se *knowledge.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, http.StatusTooManyRequests, se.Status)
			require.Equal(t, "Rate limit reached for requests", se.Message)
		}},
		"500 with a plain body": {reply: func(w http.ResponseWriter) {
			http.Error(w, "upstream exploded", http.StatusInternalServerError)
		}, check: func(t *testing.T, err error) {
			var se *knowledge.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, http.StatusInternalServerError, se.Status)
			require.Equal(t, "upstream exploded", se.Message)
		}},
		"ollama error shape": {reply: func(w http.ResponseWriter) {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": `model "llama9" not found, try pulling it first`})
		}, check: func(t *testing.T, err error) {
			var se *knowledge.StatusError
			require.ErrorAs(t, err, &se)
			require.Contains(t, se.Message, "try pulling it first")
		}},
		"malformed JSON": {reply: func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"choices": [{"message": {"content": "unterminated`)
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrMalformed) }},
		"no choices": {reply: func(w http.ResponseWriter) {
			writeJSON(w, http.StatusOK, map[string]any{"choices": []any{}})
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrMalformed) }},
		"error in a 200": {reply: func(w http.ResponseWriter) {
			writeJSON(w, http.StatusOK, map[string]any{"error": map[string]any{"message": "overloaded"}})
		}, check: func(t *testing.T, err error) {
			var se *knowledge.StatusError
			require.ErrorAs(t, err, &se)
		}},
		"oversized body": {reply: func(w http.ResponseWriter) {
			writeCompletion(w, strings.Repeat("blah ", 4000), "stop")
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrTooLarge) }},
		"oversized stream": {stream: true, reply: func(w http.ResponseWriter) {
			writeStream(w, textChunks(strings.Repeat("blah ", 4000), 50), true)
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrTooLarge) }},
		"oversized stream line": {stream: true, reply: func(w http.ResponseWriter) {
			writeStream(w, []string{deltaChunk(map[string]any{"content": strings.Repeat("x", 20000)}, nil)}, true)
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrTooLarge) }},
		"stream cut before [DONE]": {stream: true, reply: func(w http.ResponseWriter) {
			writeStream(w, textChunks("Half an ans", 4)[:2], false)
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrMalformed) }},
		"garbage in a stream": {stream: true, reply: func(w http.ResponseWriter) {
			writeStream(w, []string{"{not json"}, true)
		}, check: func(t *testing.T, err error) { require.ErrorIs(t, err, knowledge.ErrMalformed) }},
		"error event in a stream": {stream: true, reply: func(w http.ResponseWriter) {
			writeStream(w, []string{`{"error":{"message":"model crashed"}}`}, true)
		}, check: func(t *testing.T, err error) {
			var se *knowledge.StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, "model crashed", se.Message)
		}},
		"redirect": {reply: func(w http.ResponseWriter) {
			w.Header().Set("Location", "http://127.0.0.1:1/elsewhere")
			w.WriteHeader(http.StatusTemporaryRedirect)
		}, check: func(t *testing.T, err error) {
			var se *knowledge.StatusError
			require.ErrorAs(t, err, &se, "a redirect is not followed: the key would go with it")
			require.Equal(t, http.StatusTemporaryRedirect, se.Status)
		}},
	} {
		t.Run(name, func(t *testing.T) {
			ff := newFakeLLM(t)
			ff.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { tc.reply(w) })
			s := llmSettings(ff)
			s.Stream = tc.stream
			_, err := newClient(t, s, knowledge.OpenAIOptions{MaxResponseBytes: 16 << 10}).Chat(context.Background(), testMessages, true)
			require.Error(t, err)
			tc.check(t, err)
			require.Len(t, ff.got(), 1, "no retry")
		})
	}
}

func TestOpenAITimeout(t *testing.T) {
	t.Parallel()
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			t.Parallel()
			f := newFakeLLM(t)
			release := make(chan struct{})
			defer close(release)
			f.setReply(func(w http.ResponseWriter, r *http.Request, _ fakeRequest) {
				if stream {
					// Headers and a first chunk, then the model stalls.
					w.Header().Set("Content-Type", "text/event-stream")
					fmt.Fprintf(w, "data: %s\n\n", deltaChunk(map[string]any{"content": "Let me"}, nil))
					w.(http.Flusher).Flush()
				}
				select {
				case <-release:
				case <-r.Context().Done():
				}
			})
			s := llmSettings(f)
			s.Stream = stream
			s.Timeout = 150 * time.Millisecond
			start := time.Now()
			_, err := newClient(t, s, knowledge.OpenAIOptions{}).Chat(context.Background(), testMessages, true)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.Less(t, time.Since(start), time.Second, "the settings' timeout bounds the call")
		})
	}
	// The caller's own deadline bounds it too.
	f := newFakeLLM(t)
	f.setReply(func(w http.ResponseWriter, r *http.Request, _ fakeRequest) { <-r.Context().Done() })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := newClient(t, llmSettings(f), knowledge.OpenAIOptions{}).Chat(ctx, testMessages, true)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestOpenAIAdaptsToWhatTheServerRefuses(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	f.setReply(func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		switch {
		case len(req.Body.Tools) > 0:
			// Ollama's answer for a model without tool support.
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "registry.ollama.ai/library/gemma2:2b does not support tools"})
		case req.Body.MaxTokens > 0:
			writeError(w, http.StatusBadRequest, "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.")
		default:
			writeCompletion(w, "HANDOVER", "stop")
		}
	})
	s := llmSettings(f)
	c := newClient(t, s, knowledge.OpenAIOptions{})
	reply, err := c.Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Equal(t, knowledge.Reply{Handover: true, Reason: "sentinel", FinishReason: "stop"}, reply, "the sentinel still hands over")
	reqs := f.got()
	require.Len(t, reqs, 3)
	require.NotContains(t, reqs[2].Raw, "tools")
	require.NotContains(t, reqs[2].Raw, "max_tokens")
	require.Equal(t, 256, reqs[2].Body.MaxCompletionTokens)

	// The fixes are remembered for the endpoint and model: one request.
	_, err = c.Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Len(t, f.got(), 4)

	// A 400 that names nothing to fix is an error, not a loop.
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) {
		writeError(w, http.StatusBadRequest, "messages: too long")
	})
	_, err = c.Chat(context.Background(), testMessages, true)
	var se *knowledge.StatusError
	require.ErrorAs(t, err, &se)
	require.Len(t, f.got(), 5)
}

func TestOpenAIAzure(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	// Every host resolves to the fake, so the client sees Azure's name.
	addr := f.srv.Listener.Addr().String()
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}
	s := llmSettings(f)
	s.BaseURL = "http://acme.openai.azure.com/openai/deployments/gpt-4o-mini?api-version=2024-10-21"
	_, err := newClient(t, s, knowledge.OpenAIOptions{HTTPClient: hc}).Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	req := f.last()
	require.Equal(t, "/openai/deployments/gpt-4o-mini/chat/completions", req.Path)
	require.Equal(t, "api-version=2024-10-21", req.Query)
	require.Equal(t, testKey, req.Header.Get("api-key"))

	// A base URL that already ends in /chat/completions is kept.
	s.BaseURL = f.url() + "/chat/completions"
	_, err = newClient(t, s, knowledge.OpenAIOptions{}).Chat(context.Background(), testMessages, true)
	require.NoError(t, err)
	require.Equal(t, "/v1/chat/completions", f.last().Path)

	_, err = knowledge.NewOpenAI(knowledge.Settings{BaseURL: "ftp://x"}, knowledge.OpenAIOptions{})
	require.Error(t, err)
}

func TestOpenAISummarize(t *testing.T) {
	t.Parallel()
	f := newFakeLLM(t)
	f.setReply(func(w http.ResponseWriter, _ *http.Request, req fakeRequest) {
		require.Empty(t, req.Body.Tools, "a summary offers no handover tool")
		writeCompletion(w, "Ana (Acme) wants a 5-page site by June, budget $2,000.", "stop")
	})
	c := newClient(t, llmSettings(f), knowledge.OpenAIOptions{})
	long := "visitor: I need a website for Acme.\n" + strings.Repeat("visitor: more details.\n", 2000) + "visitor: my budget is $2,000."
	sum, err := c.Summarize(context.Background(), long)
	require.NoError(t, err)
	require.Equal(t, "Ana (Acme) wants a 5-page site by June, budget $2,000.", sum)
	req := f.last()
	require.Len(t, req.Body.Messages, 2)
	require.Equal(t, "system", req.Body.Messages[0].Role)
	require.Contains(t, req.Body.Messages[0].Content, "handover notes")
	user := req.Body.Messages[1].Content
	require.LessOrEqual(t, len([]rune(user)), knowledge.MaxTranscriptChars+10)
	require.True(t, strings.HasPrefix(user, "visitor: I need a website for Acme."), "the request is kept")
	require.True(t, strings.HasSuffix(user, "my budget is $2,000."), "the latest turns are kept")

	_, err = c.Summarize(context.Background(), "  ")
	require.ErrorIs(t, err, knowledge.ErrNoSummary)
	f.setReply(func(w http.ResponseWriter, _ *http.Request, _ fakeRequest) { writeError(w, 500, "down") })
	_, err = c.Summarize(context.Background(), "visitor: hi")
	require.Error(t, err)
	require.False(t, errors.Is(err, knowledge.ErrNoSummary))
}
