package playbooks

import _ "embed"

// Schema is the JSON Schema (draft 2020-12) of the playbook file format. It
// describes the structure: fields, types, node settings per kind, and the
// default limits. What it cannot express (edges pointing at existing nodes,
// ports valid for the source node's kind, conditions that compile,
// translations for every supported language) is left to Validate.
//
//go:embed schema.json
var Schema []byte

// SchemaID is the $id of Schema.
const SchemaID = "https://frontdesk.example/schema/playbook-v1.json"
