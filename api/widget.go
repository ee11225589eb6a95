package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/frontdesk/frontdesk/auth"
	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/config"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

// Widget connection bounds.
const (
	// MaxVisitorSocketsPerIP bounds open visitor sockets from one address.
	MaxVisitorSocketsPerIP = 50
	// DefaultMaxVisitorSockets bounds open visitor sockets on one node.
	DefaultMaxVisitorSockets = 20_000
	// WidgetHistoryLimit is how many messages the history endpoint returns.
	WidgetHistoryLimit = 200
	// VisitorSubscriptionBuffer is the broker buffer of a visitor socket's
	// subscription to its conversation. The socket's writer drains it as
	// events come, so it only fills while a write to the client is stuck
	// (a step publishes a handful of events); then the events past it are
	// dropped and the client is sent a resync, as for any slow
	// subscriber. The broker's default (realtime.DefaultBufferSize, 256
	// slots) would cost 6 KiB per idle visitor.
	VisitorSubscriptionBuffer = 16
	// limiterTimeout bounds one call to the shared rate limiter (a Redis
	// round trip); past it the attempt is refused.
	limiterTimeout = 2 * time.Second
	// limiterFailedRetry is the retry delay given when the limiter failed.
	limiterFailedRetry = 10 * time.Second
)

// Default visitor limits shared by all nodes (config.Config's
// VisitorStartsPerMinute and VisitorMessagesPerMinute).
var (
	// DefaultVisitorStartRate bounds new conversations per client address.
	DefaultVisitorStartRate = auth.Rate{Limit: config.DefaultVisitorStartsPerMinute, Window: time.Minute}
	// DefaultVisitorMessageRate bounds visitor messages per conversation,
	// over all of its sockets.
	DefaultVisitorMessageRate = auth.Rate{Limit: config.DefaultVisitorMessagesPerMinute, Window: time.Minute}
)

// WidgetObserver is told about visitor sockets opening and closing
// (metrics implements it).
type WidgetObserver interface {
	WebsocketOpened(kind string)
	WebsocketClosed(kind string, code int)
}

// Widget serves the visitor side: the websocket of the realtime contract
// (docs/websocket.md) and the history endpoint a client reloads from after
// a resync.
type Widget struct {
	Store    *storage.Store
	Chat     *chat.Service
	Broker   realtime.Broker
	Tokens   *chat.TokenSigner
	Observer WidgetObserver
	Logger   *slog.Logger
	Now      func() time.Time
	// PublicURL is this server's URL. The chat frame (served from it)
	// connects with this origin and names the page that embeds it; see
	// pageOrigin.
	PublicURL string
	// MaxSockets bounds open visitor sockets on this node. Defaults to
	// DefaultMaxVisitorSockets.
	MaxSockets int
	// Timing and replay bounds; they default to the wire constants
	// (HelloTimeout, IdleTimeout, PingInterval, MaxReplayEvents). Tests
	// shorten them.
	HelloTimeout, IdleTimeout, PingInterval time.Duration
	ReplayLimit                             int
	// Limiter counts conversation starts and visitor messages. It must be
	// shared by every node (auth.NewRedisLimiter), or each node grants
	// the whole allowance. Defaults to a memory limiter of this node.
	Limiter auth.Limiter
	// StartRate bounds the conversations one client address may start
	// (a hello without a token of an open conversation). Defaults to
	// DefaultVisitorStartRate.
	StartRate auth.Rate
	// MessageRate bounds the messages of one conversation, over all of
	// its sockets on every node; the per-socket frame limit
	// (wire.RateLimit) applies besides. Defaults to
	// DefaultVisitorMessageRate.
	MessageRate auth.Rate
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (see auth.ClientIP), as for the login limits. Defaults to
	// none: the socket's peer is the client.
	TrustedProxies []netip.Prefix
	// SubscriptionBuffer is the broker buffer of a visitor socket.
	// Defaults to VisitorSubscriptionBuffer.
	SubscriptionBuffer int

	sockets *socketSet[*session]
}

// channelLocal is the Locals key of the admitted channel.
const channelLocal = "fd_channel"

// Mount adds the widget routes to the app.
func (w *Widget) Mount(app *fiber.App) {
	if w.Logger == nil {
		w.Logger = slog.Default()
	}
	if w.Now == nil {
		w.Now = time.Now
	}
	if w.MaxSockets <= 0 {
		w.MaxSockets = DefaultMaxVisitorSockets
	}
	if w.HelloTimeout <= 0 {
		w.HelloTimeout = wire.HelloTimeout
	}
	if w.IdleTimeout <= 0 {
		w.IdleTimeout = wire.IdleTimeout
	}
	if w.PingInterval <= 0 {
		w.PingInterval = wire.PingInterval
	}
	if w.ReplayLimit <= 0 {
		w.ReplayLimit = wire.MaxReplayEvents
	}
	if w.Limiter == nil {
		w.Limiter = auth.NewMemoryLimiter(auth.MemoryLimiterOptions{Now: w.Now})
	}
	if w.StartRate.Limit <= 0 || w.StartRate.Window <= 0 {
		w.StartRate = DefaultVisitorStartRate
	}
	if w.MessageRate.Limit <= 0 || w.MessageRate.Window <= 0 {
		w.MessageRate = DefaultVisitorMessageRate
	}
	if w.SubscriptionBuffer <= 0 {
		w.SubscriptionBuffer = VisitorSubscriptionBuffer
	}
	w.sockets = newSocketSet[*session](w.MaxSockets, MaxVisitorSocketsPerIP, "too many connections from this address")
	app.Get("/api/v1/widget/ws", w.admit, websocket.New(w.serve, WebsocketConfig()))
	app.Get("/api/v1/widget/history", w.history)
}

// originAllowed reports whether the page's Origin is on the channel's
// allow-list. Origins compare as scheme://host[:port], lowercased.
func originAllowed(ch *storage.Channel, origin string) bool {
	o := normalizeOrigin(origin)
	if o == "" {
		return false
	}
	for _, allowed := range ch.AllowedOrigins {
		if normalizeOrigin(allowed) == o {
			return true
		}
	}
	return false
}

func normalizeOrigin(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// pageOrigin is the origin of the page the widget runs on. A script on a
// customer's page connects with that page's Origin. The chat frame is
// served by Frontdesk itself and isolated from the page, so its requests
// carry Frontdesk's own origin (or, for same-origin fetches, none) and name
// the page's origin in ?origin=; the frame is only served for an origin on
// the channel's allow-list, framed only by it (frame-ancestors), so a
// request from Frontdesk's origin naming the page is the frame's. Any
// other request is judged by its own Origin.
func (w *Widget) pageOrigin(c *fiber.Ctx) string {
	origin := c.Get(fiber.HeaderOrigin)
	named := c.Query("origin")
	self := normalizeOrigin(w.PublicURL)
	if named == "" || self == "" {
		return origin
	}
	if normalizeOrigin(origin) == self || (origin == "" && c.Get("Sec-Fetch-Site") == "same-origin") {
		return named
	}
	return origin
}

// channelFor finds the channel by its public key and checks the Origin.
// Both failures are 403: the key is public, so there is nothing to hide,
// but a wrong origin must not learn more than a wrong key.
func (w *Widget) channelFor(c *fiber.Ctx) (*storage.Channel, error) {
	key := c.Query("key")
	if key == "" || len(key) > 128 {
		return nil, problem(http.StatusForbidden, "forbidden", "unknown channel key or origin not allowed")
	}
	ch, err := w.Store.GetChannelByPublicKey(c.UserContext(), key)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, problem(http.StatusForbidden, "forbidden", "unknown channel key or origin not allowed")
		}
		return nil, storeError(err, "channel")
	}
	if !originAllowed(ch, w.pageOrigin(c)) {
		return nil, problem(http.StatusForbidden, "forbidden", "unknown channel key or origin not allowed")
	}
	return ch, nil
}

func sendProblem(c *fiber.Ctx, err error) error {
	p, ok := err.(*Problem)
	if !ok {
		p = problem(http.StatusInternalServerError, "internal", "internal error")
	}
	return writeFiberProblem(c, p)
}

// writeFiberProblem writes p as application/problem+json from a plain
// fiber handler.
func writeFiberProblem(c *fiber.Ctx, p *Problem) error {
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	c.Status(p.Status)
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.Send(body)
}

// admit checks the upgrade request before the handshake: channel key,
// Origin, and connection limits.
func (w *Widget) admit(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return sendProblem(c, problem(http.StatusUpgradeRequired, "upgrade_required", "this endpoint speaks websocket"))
	}
	ch, err := w.channelFor(c)
	if err != nil {
		return sendProblem(c, err)
	}
	addr := auth.ClientIP(c.Context().RemoteAddr().String(), c.Get(fiber.HeaderXForwardedFor), w.TrustedProxies)
	ip := addr.String()
	if p := w.sockets.admit(ip); p != nil {
		if p.Status == http.StatusTooManyRequests {
			c.Set(fiber.HeaderRetryAfter, "10")
		}
		return sendProblem(c, p)
	}
	c.Locals(channelLocal, ch)
	c.Locals(addrLocal, addr)
	return c.Next()
}

// addrLocal is the Locals key of the client's address (a netip.Addr).
const addrLocal = "fd_addr"

// take counts one attempt under key against rate on the shared limiter and
// reports whether it is allowed and, if not, when one would be. A limiter
// that cannot decide refuses, as the login limits do: failing open would
// lift every limit whenever Redis is down.
func (w *Widget) take(limit, key string, rate auth.Rate) (bool, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), limiterTimeout)
	defer cancel()
	d, err := w.Limiter.Take(ctx, key, rate)
	if err != nil {
		w.Logger.Error("widget: rate limiter failed; refusing", "limit", limit, "err", err)
		return false, limiterFailedRetry
	}
	return d.Allowed, d.RetryAfter
}

// refund gives back an attempt whose work failed on the server's side.
func (w *Widget) refund(key string, rate auth.Rate) {
	ctx, cancel := context.WithTimeout(context.Background(), limiterTimeout)
	defer cancel()
	if err := w.Limiter.Refund(ctx, key, rate); err != nil {
		w.Logger.Warn("widget: rate limiter refund failed", "err", err)
	}
}

// startKey and messageKey are the limiter keys of the visitor limits.
func startKey(addr netip.Addr) string { return "start:" + auth.AddressKey(addr) }
func messageKey(ws, conv string) string {
	return "message:" + ws + ":" + conv
}

// rateText says a rate for people: "60 per minute".
func rateText(r auth.Rate) string {
	if r.Window == time.Minute {
		return fmt.Sprintf("%d per minute", r.Limit)
	}
	return fmt.Sprintf("%d per %s", r.Limit, r.Window)
}

// retryText rounds a retry delay up to whole seconds: "retry in 3s".
func retryText(d time.Duration) string {
	secs := int64((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return fmt.Sprintf("retry in %ds", secs)
}

// Shutdown tells every visitor socket to go away (1001), so widgets
// reconnect to another node, refuses new ones, and waits up to two seconds
// for the sockets to close.
func (w *Widget) Shutdown() { w.sockets.shutdown() }

// session is one visitor socket.
type session struct {
	w    *Widget
	conn *websocket.Conn
	// ch is the channel, until the hello is done.
	ch   *storage.Channel
	addr netip.Addr
	// ws and conv name the conversation once the hello is done; the
	// conversation row itself is not kept.
	ws, conv string
	out      chan []byte
	subs     chan realtime.Subscription
	done     chan struct{}
	// readerDone is closed when the read loop has returned.
	readerDone chan struct{}
	once       sync.Once
	code       int
	reason     string
	mu         sync.Mutex
	lastSeq    int64
}

// kick ends the session with a close code; the writer sends the close
// frame.
func (s *session) kick(code int, reason string) {
	s.once.Do(func() {
		s.code, s.reason = code, reason
		close(s.done)
	})
}

// send queues a frame without blocking: a socket whose queue is full reads
// too slowly and is cut off rather than buffered forever.
func (s *session) send(frame []byte) {
	select {
	case s.out <- frame:
	case <-s.done:
	default:
		s.kick(wire.CloseSlowConsumer, "send queue full")
	}
}

func (w *Widget) serve(conn *websocket.Conn) {
	ch := conn.Locals(channelLocal).(*storage.Channel)
	addr, _ := conn.Locals(addrLocal).(netip.Addr)
	// The connection keeps its locals for its whole life; the session
	// holds what it needs.
	conn.Locals(channelLocal, nil)
	s := &session{w: w, conn: conn, ch: ch, addr: addr, out: make(chan []byte, wire.SendQueueSize), subs: make(chan realtime.Subscription, 1), done: make(chan struct{}), readerDone: make(chan struct{})}
	w.sockets.add(s)
	defer w.sockets.release(s, addr.String())
	if w.Observer != nil {
		w.Observer.WebsocketOpened("visitor")
	}
	conn.SetReadLimit(wire.MaxFrameBytes)

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop()
	}()
	s.readLoop()
	close(s.readerDone)
	s.kick(wire.CloseNormal, "")
	<-writerDone
	if w.Observer != nil {
		w.Observer.WebsocketClosed("visitor", s.code)
	}
}

// writeLoop is the socket's only writer: queued frames, subscription
// events, pings, and the close frame at the end.
func (s *session) writeLoop() {
	ping := time.NewTicker(s.w.PingInterval)
	defer ping.Stop()
	var sub realtime.Subscription
	subC := make(<-chan []byte)
	var lost <-chan struct{}
	defer func() {
		if sub != nil {
			sub.Close()
		}
		select {
		case late := <-s.subs:
			late.Close()
		default:
		}
		closeSocket(s.conn, s.out, s.code, s.reason, s.readerDone)
	}()
	write := func(frame []byte) bool {
		_ = s.conn.SetWriteDeadline(time.Now().Add(wire.WriteTimeout))
		if err := s.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
			s.kick(wire.CloseSlowConsumer, "write failed")
			return false
		}
		return true
	}
	for {
		select {
		case <-s.done:
			return
		case next := <-s.subs:
			if sub != nil {
				sub.Close()
			}
			sub, subC, lost = next, next.C(), next.Lost()
		case frame := <-s.out:
			if seq, ok := wire.EventSeq(frame); ok && !s.advance(seq) {
				continue
			}
			if !write(frame) {
				return
			}
		case frame, ok := <-subC:
			if !ok {
				s.kick(wire.CloseGoingAway, "broker closed")
				return
			}
			if seq, ok := wire.EventSeq(frame); ok && !s.advance(seq) {
				continue // replayed already
			}
			if !write(frame) {
				return
			}
		case <-lost:
			// Events may have been dropped: tell the client to reload.
			if !write(wire.Encode(&wire.Resync{Reason: wire.ResyncMissed})) {
				return
			}
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wire.WriteTimeout)); err != nil {
				s.kick(wire.CloseIdleTimeout, "ping failed")
				return
			}
		}
	}
}

// advance records seq as sent and reports whether it is new, so events
// that arrive both by replay and live are sent once, in order.
func (s *session) advance(seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq <= s.lastSeq {
		return false
	}
	s.lastSeq = seq
	return true
}

func (s *session) readLoop() {
	conn := s.conn
	_ = conn.SetReadDeadline(time.Now().Add(s.w.HelloTimeout))
	var welcomed atomic.Bool
	conn.SetPongHandler(func(string) error {
		// A pong proves the client alive, but not that it spoke: before the
		// hello, the hello deadline stands.
		if !welcomed.Load() {
			return nil
		}
		return conn.SetReadDeadline(time.Now().Add(s.w.IdleTimeout))
	})
	limiter := newFrameLimiter(s.w.Now())
	helloDone := false
	for {
		kind, data, err := conn.ReadMessage()
		if err == nil && kind != websocket.TextMessage {
			s.kick(wire.CloseProtocol, "frames are JSON text")
			return
		}
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				s.kick(wire.CloseTooBig, "frame too big")
			case isTimeout(err):
				if helloDone {
					s.kick(wire.CloseIdleTimeout, "idle")
				} else {
					s.kick(wire.CloseProtocol, "no hello in time")
				}
			default:
				s.kick(wire.CloseNormal, "")
			}
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(s.w.IdleTimeout))
		switch limiter.allow(s.w.Now()) {
		case rateOK:
		case rateRefuse:
			s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeRateLimited, Message: "slow down: too many frames"}))
			continue
		case rateClose:
			s.kick(wire.CloseRateLimited, "flooding")
			return
		}
		// Everything past the read runs on a goroutine of its own (see
		// offload), so the reader's stack stays as small as reading needs.
		stop := false
		offload(func() { stop = s.handle(data, &helloDone) })
		if stop {
			return
		}
		if helloDone {
			welcomed.Store(true)
		}
	}
}

// handle decodes and answers one client frame. It reports whether the
// socket is done (it has been kicked). helloDone is set once the hello has
// been answered.
func (s *session) handle(data []byte, helloDone *bool) (stop bool) {
	f, err := wire.DecodeClient(data)
	if err != nil {
		var fe *wire.FrameError
		if errors.As(err, &fe) {
			s.send(wire.Encode(fe.Frame()))
			if !*helloDone {
				s.kick(wire.CloseProtocol, "bad hello")
				return true
			}
			return false
		}
		s.kick(wire.CloseProtocol, "bad frame")
		return true
	}
	if !*helloDone {
		h, ok := f.(*wire.Hello)
		if !ok {
			s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeNotReady, Message: "send hello first"}))
			s.kick(wire.CloseProtocol, "hello expected")
			return true
		}
		if code, reason := s.hello(h); code != 0 {
			s.kick(code, reason)
			return true
		}
		*helloDone = true
		return false
	}
	switch f := f.(type) {
	case *wire.Hello:
		s.kick(wire.CloseProtocol, "repeated hello")
		return true
	case *wire.ClientMessage:
		s.message(f)
	case *wire.Resume:
		s.replay(f.LastSeq)
	case *wire.ClientTyping:
		// Typing reaches the agents watching the chat; it is not stored.
		_ = s.w.Broker.Publish(context.Background(), chat.ConversationTopic(s.ws, s.conv),
			wire.Encode(&wire.Typing{Author: wire.AuthorVisitor, On: f.On}))
	case *wire.Ping:
		s.send(wire.Encode(&wire.Pong{}))
	}
	return false
}

// offload runs fn on a goroutine of its own and waits for it, passing on
// a panic. The reader goroutine lives as long as the socket and spends its
// idle life parked in ReadMessage; the database work of a frame (gorm, the
// SQLite driver) would grow its stack to tens of KiB, and a goroutine's
// stack keeps its size until a garbage collection shrinks it. Run on a
// short-lived goroutine instead, that stack is given back as soon as the
// work is done, and an idle socket keeps two small stacks.
func offload(fn func()) {
	var panicked any
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { panicked = recover() }()
		fn()
	}()
	<-done
	if panicked != nil {
		panic(panicked)
	}
}

// hello resumes the visitor's conversation from a valid token, or starts a
// new one, then sends the welcome and replays what the client missed.
// Starting one counts against the client address's StartRate, on every
// node together; past it the hello is refused with a rate_limited error
// and close 4008, and nothing is created.
//
// On a channel with an identity secret, a hello's identity is verified
// (see verifyIdentity): one that does not verify closes the socket with
// 4001 before anything is read or created; one that does makes the
// visitor the identity's (identityVisitorID), who resumes their latest
// open conversation on the channel from any device. The rules, also in
// docs/websocket.md ("Signed identity"):
//
//   - A token and a verified identity of the same visitor: the token's
//     conversation if it is open, else the identity's latest open one,
//     else a new one.
//   - A token of another visitor (an anonymous one, or another identity)
//     and a verified identity: the token is set aside. The identity's
//     conversation is resumed or started; the token's conversation is
//     neither resumed nor merged into the identity, so nobody's chat ends
//     up in someone else's history without a signature.
//   - A token of an identified visitor without a verified identity (none
//     sent, verification off, or a channel that ignores identities): the
//     token still resumes its own open conversation, as any token does,
//     but never starts a conversation as that identity: once it is closed
//     the visitor starts anonymous.
//   - No secret on the channel: identities are ignored; every visitor is
//     anonymous.
func (s *session) hello(h *wire.Hello) (int, string) {
	ctx := context.Background()
	w := s.w
	identity := "" // the verified identity's visitor id
	if h.Identity != nil && s.ch.IdentityVerification() {
		if !verifyIdentity(s.ch.IdentitySecret, h.Identity) {
			return wire.CloseUnauthorized, "identity signature does not verify"
		}
		identity = identityVisitorID(s.ch.ID, h.Identity)
	}
	var claims chat.VisitorClaims
	var conv *storage.Conversation
	returning := false
	if h.Token != "" {
		c, err := w.Tokens.Verify(h.Token, s.ch.ID, w.Now())
		if err != nil {
			return wire.CloseUnauthorized, "invalid token"
		}
		if identity == "" || c.Visitor == identity {
			claims, returning = c, true
			if c.Conversation != "" {
				cv, err := w.Store.GetConversation(ctx, s.ch.WorkspaceID, c.Conversation)
				if err == nil && cv.ChannelID == s.ch.ID && cv.VisitorID == c.Visitor && cv.Status != storage.StatusClosed {
					conv = cv
				}
			}
			if conv == nil && identity == "" && isIdentityVisitor(c.Visitor) {
				// Only a verified identity starts a conversation as it.
				claims.Visitor = ""
			}
		}
	}
	if conv == nil && identity != "" {
		cv, err := w.Store.LatestOpenConversation(ctx, s.ch.WorkspaceID, s.ch.ID, identity)
		switch {
		case err == nil:
			conv, returning = cv, true
		case errors.Is(err, storage.ErrNotFound):
			seen, err := w.Store.HasVisitorConversation(ctx, s.ch.WorkspaceID, s.ch.ID, identity)
			if err != nil {
				w.Logger.Warn("identified visitor's conversations", "channel", s.ch.ID, "err", err)
				return wire.CloseInternal, "could not load the conversation"
			}
			returning = returning || seen
		default:
			w.Logger.Warn("identified visitor's conversation", "channel", s.ch.ID, "err", err)
			return wire.CloseInternal, "could not load the conversation"
		}
		claims.Visitor = identity
	}
	if conv == nil {
		key := startKey(s.addr)
		if ok, retry := w.take("conversation starts", key, w.StartRate); !ok {
			s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeRateLimited, Message: fmt.Sprintf(
				"too many new conversations from this address (limit: %s); %s", rateText(w.StartRate), retryText(retry))}))
			return wire.CloseRateLimited, "too many new conversations from this address; " + retryText(retry)
		}
		visitor := claims.Visitor
		if visitor == "" {
			visitor = "vis_" + uuid.NewString()
		}
		vars := map[string]any{}
		for k, v := range h.Vars {
			if !identityVars[k] {
				// Only a verified identity sets these.
				vars[k] = v
			}
		}
		if identity != "" {
			for k, v := range map[string]string{"identity_id": h.Identity.ID, "identity_email": h.Identity.Email, "identity_name": h.Identity.Name} {
				if v != "" {
					vars[k] = v
				}
			}
		}
		res, err := w.Chat.Start(ctx, chat.StartInput{
			Channel: s.ch, VisitorID: visitor, IsNew: !returning, Identified: identity != "",
			Locale: h.Locale, PageURL: h.PageURL, Referrer: h.Referrer, Vars: vars,
		})
		if err != nil {
			// Nothing was started: the attempt does not count.
			w.refund(key, w.StartRate)
			w.Logger.Warn("start conversation", "channel", s.ch.ID, "err", err)
			return wire.CloseInternal, "could not start"
		}
		conv = res.Conversation
		claims.Visitor = visitor
	}
	ch := s.ch
	s.ws, s.conv, s.ch = conv.WorkspaceID, conv.ID, nil
	claims = chat.VisitorClaims{Workspace: ch.WorkspaceID, Channel: ch.ID, Visitor: conv.VisitorID, Conversation: conv.ID, IssuedAt: w.Now().Unix()}
	name := "Assistant"
	if conv.AssistantID != "" {
		if a, err := w.Store.GetAssistant(ctx, ch.WorkspaceID, conv.AssistantID); err == nil {
			name = a.Name
		}
	}
	s.send(wire.Encode(&wire.Welcome{
		ConversationID: conv.ID,
		Token:          w.Tokens.Sign(claims),
		LastSeq:        conv.LastSeq,
		Assistant:      wire.Participant{Name: name},
		Language:       conv.Language,
	}))
	// Subscribe before reading the gap from the database, so no event can
	// fall between the two; events seen both ways are sent once, by seq.
	sub, err := realtime.SubscribeBuffered(ctx, w.Broker, chat.ConversationTopic(s.ws, s.conv), w.SubscriptionBuffer)
	if err != nil {
		return wire.CloseInternal, "subscribe failed"
	}
	s.subs <- sub
	s.replay(h.LastSeq)
	return 0, ""
}

// replay sends the events after lastSeq from the database, or a resync
// when the gap is larger than the replay bound.
func (s *session) replay(lastSeq int64) {
	ctx := context.Background()
	conv, err := s.w.Store.GetConversation(ctx, s.ws, s.conv)
	if err != nil {
		s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeInternal, Message: "could not load the conversation"}))
		return
	}
	if lastSeq < 0 || lastSeq > conv.LastSeq {
		lastSeq = 0
	}
	if conv.LastSeq-lastSeq > int64(s.w.ReplayLimit) {
		s.send(wire.Encode(&wire.Resync{Reason: wire.ResyncGapTooOld}))
		s.mu.Lock()
		if conv.LastSeq > s.lastSeq {
			// The client reloads history up to here; live events go on after.
			s.lastSeq = conv.LastSeq
		}
		s.mu.Unlock()
		return
	}
	msgs, err := s.w.Store.ListMessagesAfter(ctx, conv.WorkspaceID, conv.ID, lastSeq, s.w.ReplayLimit)
	if err != nil {
		s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeInternal, Message: "could not load the conversation"}))
		return
	}
	for i := range msgs {
		s.send(wire.Encode(chat.MessageFrame(conv.ID, &msgs[i])))
	}
}

// message stores a visitor message and runs the step. Each message counts
// against the conversation's MessageRate, over all of its sockets on every
// node; past it the message is refused with rate_limited and not stored
// (the client may send it again later with the same client_id).
func (s *session) message(m *wire.ClientMessage) {
	ctx := context.Background()
	if ok, retry := s.w.take("conversation messages", messageKey(s.ws, s.conv), s.w.MessageRate); !ok {
		s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeRateLimited, Message: fmt.Sprintf(
			"too many messages in this conversation (limit: %s, all its connections together); not stored, %s with the same client_id",
			rateText(s.w.MessageRate), retryText(retry))}))
		return
	}
	res, err := s.w.Chat.VisitorMessage(ctx, s.ws, s.conv, m.ClientID, m.Text)
	switch {
	case err == nil:
		s.send(wire.Encode(&wire.Ack{ClientID: m.ClientID, Seq: res.Stored.Seq, Duplicate: res.Duplicate}))
		if res.Duplicate {
			return
		}
		// The events are published after the commit; this socket gets them
		// from its subscription. Sending them here too would be dropped by
		// seq, so only the ack goes directly.
	case errors.Is(err, chat.ErrClosed):
		s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeConversationClosed, Message: "this conversation is closed"}))
	case errors.Is(err, storage.ErrInvalid):
		s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeInvalidField, Field: "text", Message: err.Error()}))
	default:
		s.w.Logger.Warn("visitor message", "conversation", s.conv, "err", err)
		s.send(wire.Encode(&wire.ErrorFrame{Code: wire.CodeInternal, Message: "not stored; retry with the same client_id"}))
	}
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// history returns the latest messages of the visitor's conversation, for a
// client told to resync. It is authorized by the visitor token, the
// channel key and the Origin, like the socket.
func (w *Widget) history(c *fiber.Ctx) error {
	conv, err := w.visitor(c)
	if err != nil {
		return sendProblem(c, err)
	}
	msgs, err := w.Store.ListMessagesBefore(c.UserContext(), conv.WorkspaceID, conv.ID, conv.LastSeq+1, WidgetHistoryLimit)
	if err != nil {
		return sendProblem(c, storeError(err, "conversation"))
	}
	events := make([]*wire.Event, len(msgs))
	for i := range msgs {
		events[i] = chat.MessageFrame(conv.ID, &msgs[i])
	}
	return c.JSON(fiber.Map{"conversation_id": conv.ID, "last_seq": conv.LastSeq, "events": events})
}

// visitor authorizes a visitor's HTTP request (history, attachments) like
// the socket: the channel key, the page's origin on the channel's
// allow-list, and a visitor token for that channel whose conversation is
// on the channel and the visitor's. Any other conversation is not found.
func (w *Widget) visitor(c *fiber.Ctx) (*storage.Conversation, error) {
	ch, err := w.channelFor(c)
	if err != nil {
		return nil, err
	}
	c.Set("Access-Control-Allow-Origin", c.Get(fiber.HeaderOrigin))
	// The widget reads a file's name from a download's headers.
	c.Set("Access-Control-Expose-Headers", "Content-Disposition, Content-Length")
	c.Set("Vary", "Origin")
	if w.Tokens == nil {
		return nil, problem(http.StatusUnauthorized, "unauthorized", "a valid visitor token is required")
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	token := strings.TrimPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	claims, err := w.Tokens.Verify(token, ch.ID, now())
	if err != nil || claims.Conversation == "" {
		return nil, problem(http.StatusUnauthorized, "unauthorized", "a valid visitor token is required")
	}
	conv, err := w.Store.GetConversation(c.UserContext(), ch.WorkspaceID, claims.Conversation)
	if err != nil {
		return nil, storeError(err, "conversation")
	}
	if conv.VisitorID != claims.Visitor || conv.ChannelID != ch.ID {
		return nil, notFound("conversation")
	}
	return conv, nil
}

// Rate limiting of one socket's frames: a token bucket of wire.RateBurst
// refilled at wire.RateLimit per second; refusals past wire.FloodRefusals
// within wire.FloodWindow close the socket.
type rateVerdict int

const (
	rateOK rateVerdict = iota
	rateRefuse
	rateClose
)

type frameLimiter struct {
	tokens   float64
	last     time.Time
	refused  int
	windowAt time.Time
}

func newFrameLimiter(now time.Time) *frameLimiter {
	return &frameLimiter{tokens: wire.RateBurst, last: now, windowAt: now}
}

func (l *frameLimiter) allow(now time.Time) rateVerdict {
	l.tokens += now.Sub(l.last).Seconds() * wire.RateLimit
	if l.tokens > wire.RateBurst {
		l.tokens = wire.RateBurst
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return rateOK
	}
	if now.Sub(l.windowAt) > wire.FloodWindow {
		l.windowAt, l.refused = now, 0
	}
	l.refused++
	if l.refused > wire.FloodRefusals {
		return rateClose
	}
	return rateRefuse
}
