// Package playbooks reads, writes and checks Frontdesk playbook files, ships
// the template playbooks, and runs conversations against a playbook in
// memory.
//
// A playbook file is versioned JSON: the format version, a name and a
// description, and the fields of an engine.Graph at the top level:
//
//	{"frontdesk_playbook": 1, "name": "Live chat", "start": "greet", "nodes": [...], "edges": [...]}
//
// Decode is strict (unknown or duplicate fields, trailing data, a wrong
// version and oversized files are refused) and its errors carry the line,
// the column and the JSON path of the fault, so the CLI and the API can point
// at it. Encode writes the canonical form: Decode(Encode(f)) equals f.
// Validate decodes and runs the engine's checks, and places each finding in
// the file.
//
// Session is the in-memory runner behind preview-style simulation: it feeds
// events to engine.Step and carries out the effects the way the server does,
// with a fake clock, stubbed answers and stubbed outbound calls. Transcripts
// (visitor inputs in, bot messages and node path out) are replayed on a
// Session; every template ships golden transcripts under
// templates/testdata, which `go test ./playbooks -update` rewrites.
package playbooks
