// Package knowledge is an assistant's knowledge base and the answerers that
// use it: what faq and llm_answer nodes ask through chat.Answerer.
//
// A knowledge base (Base) holds a bio and tone, service rules (what is and
// is not offered, what a custom offer needs, polite decline texts), a
// pricing style, and FAQ entries in one or more languages. It is stored as a
// JSON document per assistant (storage.Knowledge) whose revision goes up on
// every change; this package owns the document's shape, its bounds
// (Validate) and the product's pre-filled guidance (Defaults).
//
// Retrieval is a real full-text index: an in-memory bleve index per
// assistant and revision, with a language analyzer per field (English,
// French, Spanish and German stemmers; accent folding; chat filler words
// dropped). Candidates from bleve are scored again into a confidence in
// [0, 1] (see Index.Search and docs/knowledge.md) so that one threshold
// means the same thing for every assistant. Indexes are immutable and shared
// by every conversation through a bounded LRU keyed by assistant and
// revision.
//
// Answerer implements chat.Answerer. By default it answers offline from the
// index (the built-in answerer); a workspace may configure an
// OpenAI-compatible chat completions endpoint (OpenAI) for llm_answer nodes.
// Every failure of the model (timeout, error status, refusal, malformed or
// oversized response) becomes a handover, never an error the visitor sees.
package knowledge
