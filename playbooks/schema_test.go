package playbooks

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/frontdesk/frontdesk/engine"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	require.NoError(t, c.AddResource(SchemaID, doc))
	sch, err := c.Compile(SchemaID)
	require.NoError(t, err)
	return sch
}

func validateSchema(t *testing.T, sch *jsonschema.Schema, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	require.NoError(t, err)
	return sch.Validate(inst)
}

func TestSchemaAcceptsTemplates(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	for _, name := range TemplateNames() {
		data, err := TemplateSource(name)
		require.NoError(t, err)
		require.NoError(t, validateSchema(t, sch, data), "template %s as shipped", name)
		f, err := Decode(data)
		require.NoError(t, err)
		require.NoError(t, validateSchema(t, sch, mustEncode(t, f)), "template %s, encoded", name)
	}
}

func TestSchemaRefusesBadFiles(t *testing.T) {
	t.Parallel()
	sch := compileSchema(t)
	const nodes = `"start": "a", "edges": [], "nodes": `
	tests := []struct {
		name string
		in   string
		// want is a substring of the schema error: the location of the
		// fault or the name it complains about.
		want string
	}{
		{"no version", `{"name": "x", "start": "a", "nodes": [], "edges": []}`, "frontdesk_playbook"},
		{"newer version", `{"frontdesk_playbook": 2, "name": "x", "start": "a", "nodes": [], "edges": []}`, "frontdesk_playbook"},
		{"unknown top-level field", `{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [], "edges": [], "bogus": 1}`, "bogus"},
		{"greet without its settings", `{"frontdesk_playbook": 1, "name": "x", ` + nodes + `[{"id": "a", "kind": "greet"}]}`, "greet"},
		{"greet carrying message settings", `{"frontdesk_playbook": 1, "name": "x", ` + nodes +
			`[{"id": "a", "kind": "greet", "greet": {"text": {"en": "hi"}}, "message": {"text": {"en": "hi"}}}]}`, "message"},
		{"unknown kind", `{"frontdesk_playbook": 1, "name": "x", ` + nodes + `[{"id": "a", "kind": "wizard"}]}`, "kind"},
		{"bad id", `{"frontdesk_playbook": 1, "name": "x", ` + nodes + `[{"id": "a b", "kind": "end"}]}`, "id"},
		{"bad language key", `{"frontdesk_playbook": 1, "name": "x", ` + nodes + `[{"id": "a", "kind": "end", "end": {"text": {"English": "hi"}}}]}`, "English"},
		{"too many quick replies", `{"frontdesk_playbook": 1, "name": "x", ` + nodes + `[{"id": "a", "kind": "greet", "greet": {"text": {"en": "hi"}, "quick_replies": [` +
			strings.Repeat(`{"value": "v", "label": {"en": "l"}},`, 10) + `{"value": "v", "label": {"en": "l"}}]}}]}`, "maxItems"},
		{"capture of a field it may not keep", `{"frontdesk_playbook": 1, "name": "x", ` + nodes +
			`[{"id": "a", "kind": "offline_capture", "offline_capture": {"confirm": {"en": "ok"}, "fields": [{"var": "budget", "type": "number", "prompt": {"en": "?"}}]}}]}`, "/nodes/0/offline_capture/fields/0/var"},
		{"choice without choices", `{"frontdesk_playbook": 1, "name": "x", ` + nodes +
			`[{"id": "a", "kind": "collect", "collect": {"fields": [{"var": "c", "type": "choice", "prompt": {"en": "?"}}]}}]}`, "choices"},
		{"edge with an unknown port", `{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [], "edges": [{"id": "e", "from": "a", "to": "b", "port": "sideways"}]}`, "/edges/0/port"},
		{"handover wait over a day", `{"frontdesk_playbook": 1, "name": "x", ` + nodes +
			`[{"id": "a", "kind": "handover", "handover": {"wait_seconds": 86401, "online_text": {"en": "a"}, "offline_text": {"en": "b"}}}]}`, "/nodes/0/handover/wait_seconds"},
		{"http call to a non-http URL", `{"frontdesk_playbook": 1, "name": "x", ` + nodes +
			`[{"id": "a", "kind": "http_call", "http_call": {"method": "GET", "url": "file:///etc/passwd"}}]}`, "url"},
		{"rule without a condition", `{"frontdesk_playbook": 1, "name": "x", "start": "a", "nodes": [], "edges": [], "global_rules": [{"id": "r", "to": "a", "condition": ""}]}`, "condition"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := validateSchema(t, sch, []byte(tt.in))
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

// TestSchemaLimitsMatchEngine keeps the schema's numbers in step with the
// engine's default limits, so that the schema never accepts what
// publishing refuses for size, or refuses what it accepts.
func TestSchemaLimitsMatchEngine(t *testing.T) {
	t.Parallel()
	var s map[string]any
	require.NoError(t, json.Unmarshal(Schema, &s))
	at := func(path ...string) float64 {
		var v any = s
		for _, p := range path {
			v = v.(map[string]any)[p]
		}
		return v.(float64)
	}
	lim := engine.DefaultLimits
	checks := []struct {
		path []string
		want int
	}{
		{[]string{"properties", "nodes", "maxItems"}, lim.MaxNodes},
		{[]string{"properties", "edges", "maxItems"}, lim.MaxEdges},
		{[]string{"properties", "global_rules", "maxItems"}, lim.MaxRules},
		{[]string{"properties", "languages", "maxItems"}, lim.MaxLanguages},
		{[]string{"properties", "variables", "maxItems"}, lim.MaxVariables},
		{[]string{"properties", "name", "maxLength"}, MaxNameLength},
		{[]string{"properties", "description", "maxLength"}, MaxDescriptionLength},
		{[]string{"$defs", "id", "maxLength"}, lim.MaxIDLength},
		{[]string{"$defs", "var_name", "maxLength"}, lim.MaxIDLength},
		{[]string{"$defs", "expression", "maxLength"}, lim.MaxConditionLength},
		{[]string{"$defs", "quick_replies", "maxItems"}, lim.MaxQuickReplies},
		{[]string{"$defs", "fields", "maxItems"}, lim.MaxFields},
		{[]string{"$defs", "quick_reply", "properties", "value", "maxLength"}, lim.MaxIDLength},
		{[]string{"$defs", "retries", "maximum"}, engine.MaxRetries},
		{[]string{"$defs", "message", "properties", "delay_ms", "maximum"}, engine.MaxMessageDelayMS},
		{[]string{"$defs", "handover", "properties", "wait_seconds", "maximum"}, engine.MaxHandoverWaitSeconds},
		{[]string{"$defs", "http_call", "properties", "timeout_ms", "maximum"}, engine.MaxHTTPTimeoutMS},
		{[]string{"$defs", "loop_breaker", "properties", "threshold", "maximum"}, engine.MaxLoopBreakerThreshold},
	}
	for _, c := range checks {
		require.Equal(t, float64(c.want), at(c.path...), strings.Join(c.path, "."))
	}
	require.Equal(t, SchemaID, s["$id"])
}
