package wire

import "time"

// Frame bounds. DecodeClient enforces them; the server also sets its
// websocket read limit to MaxFrameBytes so an oversized frame is cut off by
// the websocket library (close 1009) before it is buffered whole.
const (
	// MaxFrameBytes bounds one client frame: 16 KiB.
	MaxFrameBytes = 16 << 10
	// MaxServerFrameBytes bounds one server frame as clients should read it:
	// 64 KiB. An event carries up to MaxTextBytes of text plus quick replies,
	// and escaping can grow text up to six times.
	MaxServerFrameBytes = 64 << 10
	// MaxDepth bounds the nesting of objects and arrays in a frame. A valid
	// client frame needs 2 (a frame holding "vars" or "identity"); the slack
	// is for members a newer widget may add.
	MaxDepth = 16
)

// Field bounds, in bytes of UTF-8.
const (
	// MaxClientIDBytes bounds ClientMessage.ClientID (at least 1 byte, of
	// A-Z, a-z, 0-9, '_' and '-').
	MaxClientIDBytes = 64
	// MaxTextBytes bounds ClientMessage.Text (at least 1 byte). It matches
	// the engine's MaxTextLength.
	MaxTextBytes = 4000
	// MaxQuickReplyBytes bounds ClientMessage.QuickReply. It matches the
	// engine's bound on quick reply values.
	MaxQuickReplyBytes = 64
	// MaxTokenBytes bounds Hello.Token.
	MaxTokenBytes = 1024
	// MaxLocaleBytes bounds Hello.Locale (the longest BCP 47 tag in common
	// use fits with room to spare).
	MaxLocaleBytes = 35
	// MaxURLBytes bounds Hello.PageURL and Hello.Referrer.
	MaxURLBytes = 2048
	// MaxVars bounds the number of entries in Hello.Vars.
	MaxVars = 32
	// MaxVarNameBytes bounds a key of Hello.Vars. Keys follow the engine's
	// variable names: a letter or '_', then letters, digits or '_'.
	MaxVarNameBytes = 64
	// MaxVarValueBytes bounds a string value of Hello.Vars.
	MaxVarValueBytes = 1024
	// MaxIdentityIDBytes bounds Identity.ID.
	MaxIdentityIDBytes = 256
	// MaxEmailBytes bounds Identity.Email (RFC 5321's path limit).
	MaxEmailBytes = 254
	// MaxNameBytes bounds Identity.Name.
	MaxNameBytes = 256
	// MaxSignatureBytes bounds Identity.Signature.
	MaxSignatureBytes = 256
	// MaxCloseReasonBytes bounds the reason of a close frame: a control
	// frame carries at most 125 bytes, two of which are the code.
	MaxCloseReasonBytes = 123
)

// Per-socket limits of the visitor websocket. The server enforces them; the
// widget and the bench use them to stay inside.
const (
	// RateLimit is the sustained number of client frames per second one
	// socket may send. Every frame type counts, pings and typing included;
	// the widget sends typing at most every 2 seconds and a ping every
	// PingInterval, so they never crowd out messages.
	RateLimit = 10
	// RateBurst is the number of frames a socket may send at once before
	// RateLimit applies.
	RateBurst = 20
	// FloodRefusals is the number of frames refused with rate_limited within
	// FloodWindow after which the server stops answering and closes the
	// socket with CloseRateLimited.
	FloodRefusals = 20
	// FloodWindow is the window FloodRefusals is counted in.
	FloodWindow = 10 * time.Second
	// SendQueueSize is the number of frames queued for one socket. A socket
	// whose queue is full is closed with CloseSlowConsumer.
	SendQueueSize = 64
	// HelloTimeout is how long the server waits for the hello frame.
	HelloTimeout = 10 * time.Second
	// IdleTimeout closes a socket from which nothing (frame, ping or pong)
	// has arrived for this long, with CloseIdleTimeout.
	IdleTimeout = 60 * time.Second
	// PingInterval is how often the server sends a websocket ping, and how
	// often the widget sends a ping frame, so a live socket is never idle
	// for IdleTimeout.
	PingInterval = 25 * time.Second
	// WriteTimeout bounds one write to a socket; a write that takes longer
	// ends the connection, as a full queue would.
	WriteTimeout = 10 * time.Second
	// MaxReplayEvents bounds the events replayed from the database on
	// hello or resume. A larger gap is answered with Resync.
	MaxReplayEvents = 200
)
