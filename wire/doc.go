// Package wire defines the frames of the visitor websocket: the JSON text
// frames a widget and the server exchange, their limits, their typed error
// codes and the close codes that end a connection. The server (package api),
// the Go test client, the bench and the widget all speak exactly this, so it
// is the one place the protocol is written down in code; docs/websocket.md
// describes it for people.
//
// # Frames
//
// Every frame is one JSON object with a "type" member. A client sends Hello
// (first, exactly once), ClientMessage, ClientTyping, Resume and Ping; the
// server sends Welcome, Event, Ack, Typing, Resync, ErrorFrame and Pong.
// Members a frame does not define are ignored, so an older server accepts a
// newer widget's extra fields, and clients must ignore server members and
// event kinds they do not know.
//
// # Decoding untrusted input
//
// DecodeClient is the only way visitor bytes become frames. It refuses, in
// this order and before any allocation that grows with the input: frames over
// MaxFrameBytes, invalid UTF-8, and nesting deeper than MaxDepth (found by a
// byte scan, so a deeply nested frame costs one pass and no recursion). Only
// then does encoding/json run. Every refusal is a *FrameError whose Code is
// one of the error codes below and whose Field names the offending member, so
// the server can answer with an ErrorFrame instead of dropping the socket.
//
// # Encoding
//
// Server frames implement ServerFrame. AppendJSON writes a frame into a
// caller-owned buffer with no intermediate allocations, because the server
// encodes every event once per publish and every ack once per message. The
// output is plain JSON: it escapes only what JSON requires (quotes,
// backslashes, control characters) and does not HTML-escape, since frames are
// parsed with JSON.parse and never embedded in a page. Client frames encode
// the same way, for the Go test client and the bench; a client frame that
// DecodeClient accepted re-encodes to no more bytes than it arrived in, so it
// always decodes again.
package wire
