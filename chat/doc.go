// Package chat is the conversation runtime: it runs the engine on each
// event of a conversation inside one database transaction, stores what the
// engine produced, publishes it after the commit, fires durable timers and
// carries out slow work (answers, HTTP calls) whose results come back as
// events. It also holds the visitor tokens and the channels' default
// response.
package chat
