package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"github.com/frontdesk/frontdesk/chat"
	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/wire"
)

// Agent socket bounds and defaults. Frame size, rate limits, idle timeout
// and ping interval are the visitor socket's (package wire).
const (
	// MaxAgentWatches bounds the conversations one agent socket watches.
	MaxAgentWatches = 20
	// MaxAgentSocketsPerUser bounds one member's open agent sockets on a
	// node (console tabs).
	MaxAgentSocketsPerUser = 10
	// DefaultMaxAgentSockets bounds open agent sockets on one node.
	DefaultMaxAgentSockets = 5_000
	// AgentSendQueueSize is each agent socket's send queue, in frames. It is
	// larger than a visitor's: an agent gets the whole workspace's inbox
	// plus up to MaxAgentWatches conversations.
	AgentSendQueueSize = 256
	// DefaultAgentSettingsTTL is how long a socket trusts the notification
	// settings it loaded; a save on another node reaches it within this.
	DefaultAgentSettingsTTL = 30 * time.Second
	// DefaultAgentAuthCheck is how often a socket checks that its session
	// still holds (logout, password change, expiry, role change).
	DefaultAgentAuthCheck = time.Minute
	// agentSubscribeTimeout bounds one broker subscription.
	agentSubscribeTimeout = 5 * time.Second
)

// Agent protocol error codes, besides wire's bad_frame, unknown_type,
// invalid_field, rate_limited, conversation_closed and internal.
const (
	// CodeNotFound: no conversation with this id that the caller may see
	// (another tenant's, another agent's, or none at all: they are not
	// told apart).
	CodeNotFound wire.ErrorCode = "not_found"
	// CodeTooManyWatches: the socket already watches MaxAgentWatches.
	CodeTooManyWatches wire.ErrorCode = "too_many_watches"
	// CodeNotAssignedToYou: typing in a chat the caller does not have.
	CodeNotAssignedToYou wire.ErrorCode = "not_assigned_to_you"
)

// Agent frame types, besides wire's event, typing, error and pong.
const (
	agentTypeHello        = "hello"
	agentTypeNotification = "notification"
	agentTypeWatch        = "watch"
	agentTypeWatched      = "watched"
	agentTypeUnwatch      = "unwatch"
	agentTypeUnwatched    = "unwatched"
	agentTypeHidden       = "hidden"
	agentTypePresence     = "presence"
)

// Reasons of an unwatched frame.
const (
	// UnwatchRequested: the client sent unwatch.
	UnwatchRequested = "requested"
	// UnwatchReassigned: another agent has the chat now; the caller may no
	// longer see it.
	UnwatchReassigned = "reassigned"
)

// AgentSockets serves the agents' websocket, GET /api/v1/agent/ws
// (docs/agents.md): the workspace's inbox filtered by what the agent may
// see, notifications by their settings, the live events of the chats they
// watch, their typing and their presence.
//
// A socket is admitted before the upgrade: the session cookie (401
// without a valid one), an Origin equal to the server's public origin (403
// otherwise: a page of another site cannot borrow the agent's cookie), and
// the connection limits. Then, like the visitor socket, each socket has one
// writer goroutine with a bounded queue, a rate limit, pings and an idle
// timeout.
type AgentSockets struct {
	Auth     Authenticator
	Store    *storage.Store
	Chat     *chat.Service
	Broker   realtime.Broker
	Presence *chat.GracefulPresence
	// PublicURL is the server's public URL; its scheme://host[:port] is the
	// only Origin admitted.
	PublicURL string
	Observer  WidgetObserver
	Logger    *slog.Logger
	// Now is the rate limiter's and the settings cache's clock. Defaults
	// to time.Now.
	Now func() time.Time
	// MaxSockets bounds open agent sockets on this node. Defaults to
	// DefaultMaxAgentSockets.
	MaxSockets int
	// IdleTimeout and PingInterval default to wire.IdleTimeout and
	// wire.PingInterval; SettingsTTL to DefaultAgentSettingsTTL; AuthCheck
	// to DefaultAgentAuthCheck. Tests shorten them.
	IdleTimeout, PingInterval, SettingsTTL, AuthCheck time.Duration

	origin  string
	facts   *previewCache
	sockets *socketSet[*agentConn]
}

// agentLocal is the Locals key of the admitted caller.
const agentLocal = "fd_agent"

type agentAdmission struct {
	p     *Principal
	token string
}

// Mount adds the agent socket to the app. It panics when a required
// dependency is missing: that is a wiring bug, found at start-up.
func (a *AgentSockets) Mount(app *fiber.App) {
	if a.Auth == nil || a.Store == nil || a.Chat == nil || a.Broker == nil || a.Presence == nil {
		panic("api: AgentSockets needs Auth, Store, Chat, Broker and Presence")
	}
	if a.Logger == nil {
		a.Logger = slog.Default()
	}
	if a.Now == nil {
		a.Now = time.Now
	}
	if a.MaxSockets <= 0 {
		a.MaxSockets = DefaultMaxAgentSockets
	}
	if a.IdleTimeout <= 0 {
		a.IdleTimeout = wire.IdleTimeout
	}
	if a.PingInterval <= 0 {
		a.PingInterval = wire.PingInterval
	}
	if a.SettingsTTL <= 0 {
		a.SettingsTTL = DefaultAgentSettingsTTL
	}
	if a.AuthCheck <= 0 {
		a.AuthCheck = DefaultAgentAuthCheck
	}
	a.origin = normalizeOrigin(a.PublicURL)
	if a.origin == "" {
		a.Logger.Warn("agent socket: no valid public URL; every Origin will be refused", "public_url", a.PublicURL)
	}
	a.facts = newPreviewCache(a.Store, previewCacheSize)
	a.sockets = newSocketSet[*agentConn](a.MaxSockets, MaxAgentSocketsPerUser, "too many agent sockets for this member")
	app.Get("/api/v1/agent/ws", a.admit, websocket.New(a.serve, WebsocketConfig()))
}

// admit checks the upgrade request: the session cookie, the Origin, and
// the connection limits. The CSRF token is not needed: the upgrade is a
// GET, and the Origin check is what keeps other sites out.
func (a *AgentSockets) admit(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return sendProblem(c, problem(http.StatusUpgradeRequired, "upgrade_required", "this endpoint speaks websocket"))
	}
	token := c.Cookies(SessionCookie)
	if token == "" {
		return sendProblem(c, errSignIn)
	}
	// Before authenticating: a foreign page learns nothing, and costs no
	// database read.
	if a.origin == "" || normalizeOrigin(c.Get(fiber.HeaderOrigin)) != a.origin {
		return sendProblem(c, problem(http.StatusForbidden, "forbidden", "the agent socket only accepts the console's own origin"))
	}
	p, err := a.Auth.Authenticate(c.UserContext(), Credentials{SessionToken: token, Method: http.MethodGet})
	if err != nil {
		var pr *Problem
		if errors.As(err, &pr) {
			return writeFiberProblem(c, pr)
		}
		a.Logger.Error("agent socket: authenticate", "err", err)
		return sendProblem(c, err)
	}
	if p == nil || p.WorkspaceID == "" {
		return sendProblem(c, errSignIn)
	}
	key := p.WorkspaceID + "/" + p.UserID
	if pr := a.sockets.admit(key); pr != nil {
		if pr.Status == http.StatusTooManyRequests {
			c.Set(fiber.HeaderRetryAfter, "10")
		}
		return sendProblem(c, pr)
	}
	c.Locals(agentLocal, &agentAdmission{p: p, token: token})
	return c.Next()
}

// Shutdown tells every agent socket to go away (1001), so consoles
// reconnect to another node, refuses new ones, and waits up to two seconds
// for the sockets to close.
func (a *AgentSockets) Shutdown() { a.sockets.shutdown() }

// SettingsChanged applies a member's saved notification settings to their
// open sockets on this node (NotificationRoutes.OnChange).
func (a *AgentSockets) SettingsChanged(s storage.AgentSettings) {
	a.sockets.each(func(c *agentConn) {
		if p := c.principal(); p.WorkspaceID == s.WorkspaceID && p.UserID == s.UserID {
			c.setSettings(s, a.Now())
		}
	})
}

// Sockets returns the number of open agent sockets on this node.
func (a *AgentSockets) Sockets() int { return a.sockets.count() }

// agentConn is one agent socket. Three goroutines serve it: the reader
// (the handler's own: client frames, watch and unwatch), the router (inbox
// and watched conversations' payloads: filtering, notifications) and the
// writer (the socket's only writer). Each watched conversation adds a
// forwarder that hands its payloads to the router.
type agentConn struct {
	a     *AgentSockets
	conn  *websocket.Conn
	token string
	p     atomic.Pointer[Principal]
	out   chan []byte
	// convIn carries watched conversations' payloads to the router.
	convIn     chan convPayload
	done       chan struct{}
	readerDone chan struct{}
	once       sync.Once
	code       int
	reason     string

	mu         sync.Mutex
	watches    map[string]*agentWatch
	settings   storage.AgentSettings
	settingsAt time.Time
}

// agentWatch is one watched conversation. It is pending (no forwarder yet)
// while the watch is checked; whoever removes it from agentConn.watches
// closes it.
type agentWatch struct {
	id     string
	sub    realtime.Subscription
	stop   chan struct{}
	active bool
}

type convPayload struct {
	w    *agentWatch
	data []byte
	lost bool
}

func (c *agentConn) principal() *Principal { return c.p.Load() }

// kick ends the socket with a close code; the writer sends the close
// frame.
func (c *agentConn) kick(code int, reason string) {
	c.once.Do(func() {
		c.code, c.reason = code, reason
		close(c.done)
	})
}

// send queues a frame without blocking: a socket whose queue is full reads
// too slowly and is cut off rather than buffered forever.
func (c *agentConn) send(frame []byte) {
	select {
	case c.out <- frame:
	case <-c.done:
	default:
		c.kick(wire.CloseSlowConsumer, "send queue full")
	}
}

func (c *agentConn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		c.a.Logger.Error("agent socket: encode frame", "err", err)
		return
	}
	c.send(b)
}

func (c *agentConn) sendError(code wire.ErrorCode, msg, field, conversationID string) {
	c.sendJSON(agentErrorFrame{Type: wire.TypeError, Code: code, Message: msg, Field: field, ConversationID: conversationID})
}

func (c *agentConn) setSettings(s storage.AgentSettings, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings, c.settingsAt = s, now
}

// currentSettings returns the notification settings, reloaded when older
// than SettingsTTL. A failed reload keeps the old ones.
func (c *agentConn) currentSettings() storage.AgentSettings {
	now := c.a.Now()
	c.mu.Lock()
	s, at := c.settings, c.settingsAt
	c.mu.Unlock()
	if now.Sub(at) < c.a.SettingsTTL {
		return s
	}
	p := c.principal()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	loaded, err := c.a.Store.GetAgentSettings(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		c.a.Logger.Warn("agent socket: reload notification settings", "user", p.UserID, "err", err)
		// Try again after another TTL rather than on every event.
		loaded = &s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.settingsAt.Equal(at) {
		// SettingsChanged came during the read: its value is newer.
		return c.settings
	}
	c.settings, c.settingsAt = *loaded, now
	return *loaded
}

// Frames of the agent protocol that package wire does not define.

type agentHelloFrame struct {
	Type        string `json:"type"`
	UserID      string `json:"user_id"`
	WorkspaceID string `json:"workspace_id"`
	Role        string `json:"role"`
	Name        string `json:"name,omitempty"`
	Presence    string `json:"presence"`
	MaxWatches  int    `json:"max_watches"`
}

type agentNotificationFrame struct {
	Type           string    `json:"type"`
	Kind           string    `json:"kind"`
	ConversationID string    `json:"conversation_id"`
	At             time.Time `json:"at"`
}

type agentWatchedFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Status         string `json:"status"`
	AssigneeID     string `json:"assignee_id,omitempty"`
	LastSeq        int64  `json:"last_seq"`
}

type agentUnwatchedFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Reason         string `json:"reason"`
}

type agentHiddenFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
}

type agentPresenceFrame struct {
	Type   string `json:"type"`
	Status string `json:"status"`
}

type agentResyncFrame struct {
	Type           string `json:"type"`
	Reason         string `json:"reason"`
	ConversationID string `json:"conversation_id,omitempty"`
}

type agentErrorFrame struct {
	Type           string         `json:"type"`
	Code           wire.ErrorCode `json:"code"`
	Message        string         `json:"message"`
	Field          string         `json:"field,omitempty"`
	ConversationID string         `json:"conversation_id,omitempty"`
}

func (a *AgentSockets) serve(conn *websocket.Conn) {
	adm := conn.Locals(agentLocal).(*agentAdmission)
	p := adm.p
	key := p.WorkspaceID + "/" + p.UserID
	c := &agentConn{
		a: a, conn: conn, token: adm.token,
		out:        make(chan []byte, AgentSendQueueSize),
		convIn:     make(chan convPayload, wire.SendQueueSize),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		watches:    map[string]*agentWatch{},
	}
	c.p.Store(p)
	a.sockets.add(c)
	defer a.sockets.release(c, key)
	if a.Observer != nil {
		a.Observer.WebsocketOpened("agent")
	}
	conn.SetReadLimit(wire.MaxFrameBytes)

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		c.writeLoop()
	}()
	routerDone := make(chan struct{})
	if inbox := c.start(); inbox != nil {
		go func() {
			defer close(routerDone)
			c.route(inbox)
		}()
		c.readLoop()
	} else {
		close(routerDone)
	}
	close(c.readerDone)
	c.kick(wire.CloseNormal, "")
	<-routerDone
	c.unwatchAll()
	<-writerDone
	a.Presence.Disconnect(p.WorkspaceID, p.UserID)
	if a.Observer != nil {
		a.Observer.WebsocketClosed("agent", c.code)
	}
}

// start subscribes to the workspace's inbox, marks the agent present and
// sends the hello. It returns nil after kicking the socket when the node
// cannot subscribe.
func (c *agentConn) start() realtime.Subscription {
	a, p := c.a, c.principal()
	ctx, cancel := context.WithTimeout(context.Background(), agentSubscribeTimeout)
	defer cancel()
	// Presence first, so the Disconnect in serve always has its Connect.
	status := a.Presence.Connect(p.WorkspaceID, p.UserID)
	settings, err := a.Store.GetAgentSettings(ctx, p.WorkspaceID, p.UserID)
	if err != nil {
		a.Logger.Warn("agent socket: load notification settings", "user", p.UserID, "err", err)
		d := storage.DefaultAgentSettings(p.WorkspaceID, p.UserID)
		settings = &d
		// Retry at the next candidate event.
		c.setSettings(d, time.Time{})
	} else {
		c.setSettings(*settings, a.Now())
	}
	// Subscribe before the hello: everything after the hello reaches the
	// client.
	sub, err := a.Broker.Subscribe(ctx, chat.InboxTopic(p.WorkspaceID))
	if err != nil {
		a.Logger.Warn("agent socket: subscribe to the inbox", "workspace", p.WorkspaceID, "err", err)
		c.kick(wire.CloseInternal, "subscribe failed")
		return nil
	}
	c.sendJSON(agentHelloFrame{Type: agentTypeHello, UserID: p.UserID, WorkspaceID: p.WorkspaceID, Role: p.Role,
		Name: agentOf(p).Name, Presence: string(status), MaxWatches: MaxAgentWatches})
	return sub
}

// writeLoop is the socket's only writer: queued frames, pings, and the
// close frame at the end.
func (c *agentConn) writeLoop() {
	ping := time.NewTicker(c.a.PingInterval)
	defer ping.Stop()
	defer func() { closeSocket(c.conn, c.out, c.code, c.reason, c.readerDone) }()
	for {
		select {
		case <-c.done:
			return
		case frame := <-c.out:
			_ = c.conn.SetWriteDeadline(time.Now().Add(wire.WriteTimeout))
			if err := c.conn.WriteMessage(websocket.TextMessage, frame); err != nil {
				c.kick(wire.CloseSlowConsumer, "write failed")
				return
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(wire.WriteTimeout)); err != nil {
				c.kick(wire.CloseIdleTimeout, "ping failed")
				return
			}
		}
	}
}

// route turns the inbox and the watched conversations' payloads into
// frames, and checks now and then that the session still holds.
func (c *agentConn) route(inbox realtime.Subscription) {
	defer inbox.Close()
	check := time.NewTicker(c.a.AuthCheck)
	defer check.Stop()
	for {
		select {
		case <-c.done:
			return
		case payload, ok := <-inbox.C():
			if !ok {
				c.kick(wire.CloseGoingAway, "realtime broker closed")
				return
			}
			c.inbox(payload)
		case <-inbox.Lost():
			c.sendJSON(agentResyncFrame{Type: wire.TypeResync, Reason: wire.ResyncMissed})
		case m := <-c.convIn:
			// Inbox events published before this payload are handled
			// first, so a chat just given to another agent is unwatched
			// before its next event could slip through: the broker
			// delivers in publish order into each subscription, and the
			// reassignment was published before anything that followed it.
			if !c.drainInbox(inbox) {
				return
			}
			c.conversation(m)
		case <-check.C:
			c.recheck()
		}
	}
}

// drainInbox handles the inbox payloads already delivered, up to the
// subscription's buffer. It reports false when the broker closed.
func (c *agentConn) drainInbox(inbox realtime.Subscription) bool {
	for range realtime.DefaultBufferSize {
		select {
		case payload, ok := <-inbox.C():
			if !ok {
				c.kick(wire.CloseGoingAway, "realtime broker closed")
				return false
			}
			c.inbox(payload)
		default:
			return true
		}
	}
	return true
}

// inbox forwards an inbox event the agent may see, as published, with the
// notification it makes; a chat that another agent now has is hidden and
// unwatched instead.
func (c *agentConn) inbox(payload []byte) {
	var ev chat.InboxEvent
	if err := json.Unmarshal(payload, &ev); err != nil || ev.ConversationID == "" || ev.Type != "inbox" {
		return // not an inbox event this socket knows
	}
	p := c.principal()
	if !p.IsAdmin() {
		preview, err := c.a.facts.preview(p.WorkspaceID, ev.ConversationID)
		if err != nil {
			// Closed by default: an event that cannot be checked is not
			// sent; the client reloads its folders on the resync.
			c.a.Logger.Warn("agent socket: look up a conversation", "conversation", ev.ConversationID, "err", err)
			c.sendJSON(agentResyncFrame{Type: wire.TypeResync, Reason: wire.ResyncMissed})
			return
		}
		if preview {
			return
		}
		if !inboxVisible(p, &ev) {
			if ev.Kind == inboxConversationUpdated {
				c.hide(ev.ConversationID)
			}
			return
		}
	}
	c.send(payload)
	if notificationFor(p, &allNotifications, &ev) == "" {
		return // no setting could make one: skip the settings lookup
	}
	settings := c.currentSettings()
	if kind := notificationFor(p, &settings, &ev); kind != "" {
		c.sendJSON(agentNotificationFrame{Type: agentTypeNotification, Kind: kind, ConversationID: ev.ConversationID, At: ev.At})
	}
}

// allNotifications has every notification on, to tell whether an event can
// make one before looking the settings up.
var allNotifications = storage.AgentSettings{NotifyNewUnassigned: true, NotifyAssigned: true, NotifyNewMessage: true, NotifyHumanRequest: true}

// hide tells the client that a chat it may have listed is no longer
// visible (another agent has it), and ends its watch of it.
func (c *agentConn) hide(conversationID string) {
	if w := c.removeWatch(conversationID); w != nil {
		c.sendJSON(agentUnwatchedFrame{Type: agentTypeUnwatched, ConversationID: conversationID, Reason: UnwatchReassigned})
	}
	c.sendJSON(agentHiddenFrame{Type: agentTypeHidden, ConversationID: conversationID})
}

// removeWatch removes a watch and closes it if it was active. A pending
// watch is closed by the watch call that sees it gone. It returns the
// active watch removed, or nil.
func (c *agentConn) removeWatch(id string) *agentWatch {
	c.mu.Lock()
	w := c.watches[id]
	if w == nil {
		c.mu.Unlock()
		return nil
	}
	delete(c.watches, id)
	active := w.active
	c.mu.Unlock()
	if !active {
		return nil
	}
	close(w.stop)
	w.sub.Close()
	return w
}

func (c *agentConn) unwatchAll() {
	c.mu.Lock()
	ids := make([]string, 0, len(c.watches))
	for id := range c.watches {
		ids = append(ids, id)
	}
	c.mu.Unlock()
	for _, id := range ids {
		c.removeWatch(id)
	}
}

// typingHead starts every wire.Typing frame.
const typingHead = `{"type":"typing",`

// conversation forwards a watched conversation's payload: event frames as
// published (they carry their conversation_id), typing frames with the
// conversation_id added, since one socket watches several chats.
func (c *agentConn) conversation(m convPayload) {
	c.mu.Lock()
	current := c.watches[m.w.id] == m.w && m.w.active
	c.mu.Unlock()
	if !current {
		return // unwatched since
	}
	if m.lost {
		c.sendJSON(agentResyncFrame{Type: wire.TypeResync, Reason: wire.ResyncMissed, ConversationID: m.w.id})
		return
	}
	if _, ok := wire.EventSeq(m.data); ok {
		c.send(m.data)
		return
	}
	if bytes.HasPrefix(m.data, []byte(typingHead)) {
		// The id was checked at watch time: [A-Za-z0-9_-] needs no escaping.
		frame := make([]byte, 0, len(m.data)+len(m.w.id)+24)
		frame = append(frame, typingHead...)
		frame = append(frame, `"conversation_id":"`...)
		frame = append(frame, m.w.id...)
		frame = append(frame, `",`...)
		frame = append(frame, m.data[len(typingHead):]...)
		c.send(frame)
	}
	// Anything else on a conversation topic is not for agents.
}

// forward hands a watched conversation's payloads to the router until the
// watch ends.
func (c *agentConn) forward(w *agentWatch) {
	for {
		var m convPayload
		select {
		case <-w.stop:
			return
		case <-c.done:
			return
		case data, ok := <-w.sub.C():
			if !ok {
				select {
				case <-w.stop: // closed by unwatch
				default:
					c.kick(wire.CloseGoingAway, "realtime broker closed")
				}
				return
			}
			m = convPayload{w: w, data: data}
		case <-w.sub.Lost():
			m = convPayload{w: w, lost: true}
		}
		select {
		case c.convIn <- m:
		case <-w.stop:
			return
		case <-c.done:
			return
		}
	}
}

// recheck ends the socket when its session no longer holds: logout,
// password change, expiry, or a change of role (what the agent may see
// changed; the reconnect starts from a clean state).
func (c *agentConn) recheck() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	p, err := c.a.Auth.Authenticate(ctx, Credentials{SessionToken: c.token, Method: http.MethodGet})
	if err != nil {
		var pr *Problem
		if errors.As(err, &pr) && (pr.Status == http.StatusUnauthorized || pr.Status == http.StatusForbidden) {
			c.kick(wire.CloseUnauthorized, "session ended")
		}
		// Anything else (the database is away) is not the agent's fault.
		return
	}
	old := c.principal()
	if p == nil || p.UserID != old.UserID || p.WorkspaceID != old.WorkspaceID || p.Role != old.Role {
		c.kick(wire.CloseUnauthorized, "session changed")
	}
}

func (c *agentConn) readLoop() {
	conn := c.conn
	idle := c.a.IdleTimeout
	_ = conn.SetReadDeadline(time.Now().Add(idle))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(idle)) })
	limiter := newFrameLimiter(c.a.Now())
	for {
		kind, data, err := conn.ReadMessage()
		if err == nil && kind != websocket.TextMessage {
			c.kick(wire.CloseProtocol, "frames are JSON text")
			return
		}
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.kick(wire.CloseTooBig, "frame too big")
			case isTimeout(err):
				c.kick(wire.CloseIdleTimeout, "idle")
			default:
				c.kick(wire.CloseNormal, "")
			}
			return
		}
		_ = conn.SetReadDeadline(time.Now().Add(idle))
		switch limiter.allow(c.a.Now()) {
		case rateOK:
		case rateRefuse:
			c.sendError(wire.CodeRateLimited, "slow down: too many frames", "", "")
			continue
		case rateClose:
			c.kick(wire.CloseRateLimited, "flooding")
			return
		}
		f, fe := decodeAgentFrame(data)
		if fe != nil {
			c.sendError(fe.Code, fe.Message, fe.Field, "")
			continue
		}
		switch f.Type {
		case agentTypeWatch:
			c.watch(f.ConversationID)
		case agentTypeUnwatch:
			c.removeWatch(f.ConversationID)
			c.sendJSON(agentUnwatchedFrame{Type: agentTypeUnwatched, ConversationID: f.ConversationID, Reason: UnwatchRequested})
		case wire.TypeTyping:
			c.typing(f.ConversationID, *f.On)
		case agentTypePresence:
			p := c.principal()
			c.a.Presence.Set(p.WorkspaceID, p.UserID, chat.PresenceStatus(f.Status))
			c.sendJSON(agentPresenceFrame{Type: agentTypePresence, Status: string(c.a.Presence.Status(p.WorkspaceID, p.UserID))})
		case wire.TypePing:
			c.send(wire.Encode(&wire.Pong{}))
		}
	}
}

// watch subscribes the socket to a conversation the agent may see. The
// watch is registered before the visibility check and the check reads the
// database after the subscription exists, so a reassignment is either seen
// by the check or handled by the router as an inbox event: never missed.
func (c *agentConn) watch(id string) {
	p := c.principal()
	c.mu.Lock()
	if _, ok := c.watches[id]; !ok && len(c.watches) >= MaxAgentWatches {
		c.mu.Unlock()
		c.sendError(CodeTooManyWatches, "a socket watches at most 20 conversations; unwatch one first", "conversation_id", id)
		return
	}
	if w, ok := c.watches[id]; ok && w.active {
		c.mu.Unlock()
		// Watching twice is a no-op, answered like the first time.
		c.confirmWatch(p, id)
		return
	} else if ok {
		c.mu.Unlock()
		return // the first watch is still being checked and will answer
	}
	w := &agentWatch{id: id, stop: make(chan struct{})}
	c.watches[id] = w
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), agentSubscribeTimeout)
	defer cancel()
	sub, err := c.a.Broker.Subscribe(ctx, chat.ConversationTopic(p.WorkspaceID, id))
	if err != nil {
		c.mu.Lock()
		if c.watches[id] == w {
			delete(c.watches, id)
		}
		c.mu.Unlock()
		c.a.Logger.Warn("agent socket: subscribe to a conversation", "conversation", id, "err", err)
		c.sendError(wire.CodeInternal, "could not watch the conversation; retry", "", id)
		return
	}
	conv, err := c.a.Store.GetConversation(ctx, p.WorkspaceID, id)
	visible := err == nil && CanSee(p, conv)
	c.mu.Lock()
	still := c.watches[id] == w
	if still && visible {
		w.sub, w.active = sub, true
	} else if still {
		delete(c.watches, id)
	}
	c.mu.Unlock()
	if !still || !visible {
		sub.Close()
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			c.a.Logger.Warn("agent socket: load a conversation", "conversation", id, "err", err)
			c.sendError(wire.CodeInternal, "could not watch the conversation; retry", "", id)
			return
		}
		c.sendError(CodeNotFound, "no such conversation", "conversation_id", id)
		return
	}
	go c.forward(w)
	c.sendJSON(agentWatchedFrame{Type: agentTypeWatched, ConversationID: id, Status: string(conv.Status), AssigneeID: conv.AssigneeID, LastSeq: conv.LastSeq})
}

// confirmWatch answers a repeated watch with the conversation's current
// state.
func (c *agentConn) confirmWatch(p *Principal, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conv, err := c.a.Store.GetConversation(ctx, p.WorkspaceID, id)
	if err != nil || !CanSee(p, conv) {
		c.sendError(CodeNotFound, "no such conversation", "conversation_id", id)
		return
	}
	c.sendJSON(agentWatchedFrame{Type: agentTypeWatched, ConversationID: id, Status: string(conv.Status), AssigneeID: conv.AssigneeID, LastSeq: conv.LastSeq})
}

// typing relays the agent's typing indicator to a chat they have.
func (c *agentConn) typing(id string, on bool) {
	p := c.principal()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conv, err := c.a.Store.GetConversation(ctx, p.WorkspaceID, id)
	switch {
	case err != nil && !errors.Is(err, storage.ErrNotFound):
		c.sendError(wire.CodeInternal, "could not relay the typing indicator", "", id)
		return
	case err != nil || !CanSee(p, conv):
		c.sendError(CodeNotFound, "no such conversation", "conversation_id", id)
		return
	case conv.Status == storage.StatusClosed:
		c.sendError(wire.CodeConversationClosed, "the conversation is closed", "", id)
		return
	case conv.AssigneeID != p.UserID:
		c.sendError(CodeNotAssignedToYou, "the conversation is not assigned to you", "conversation_id", id)
		return
	}
	if err := c.a.Chat.Typing(ctx, p.WorkspaceID, id, wire.AuthorAgent, agentOf(p).Name, on); err != nil {
		c.sendError(wire.CodeInternal, "could not relay the typing indicator", "", id)
	}
}

// agentClientFrame is any frame an agent client sends.
type agentClientFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	On             *bool  `json:"on"`
	Status         string `json:"status"`
}

// decodeAgentFrame parses and checks one client frame of the agent
// protocol. Like wire.DecodeClient, the cheap refusals (UTF-8, nesting)
// come before encoding/json; the size is bounded by the read limit.
func decodeAgentFrame(data []byte) (*agentClientFrame, *wire.FrameError) {
	switch {
	case len(data) == 0:
		return nil, &wire.FrameError{Code: wire.CodeBadFrame, Message: "the frame is empty"}
	case len(data) > wire.MaxFrameBytes:
		return nil, &wire.FrameError{Code: wire.CodeTooLarge, Message: "the frame is over 16 KiB"}
	case !utf8.Valid(data):
		return nil, &wire.FrameError{Code: wire.CodeBadFrame, Message: "the frame is not valid UTF-8"}
	case !shallowJSON(data, wire.MaxDepth):
		return nil, &wire.FrameError{Code: wire.CodeBadFrame, Message: "the frame nests deeper than 16 levels"}
	}
	var f agentClientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return nil, &wire.FrameError{Code: wire.CodeInvalidField, Field: te.Field, Message: "has the wrong JSON type; want " + te.Type.String()}
		}
		return nil, &wire.FrameError{Code: wire.CodeBadFrame, Message: "the frame is not a JSON object"}
	}
	needID := func() *wire.FrameError {
		if !isConversationID(f.ConversationID) {
			return &wire.FrameError{Code: wire.CodeInvalidField, Field: "conversation_id", Message: "is required: 1 to 64 characters of A-Z a-z 0-9 _ -"}
		}
		return nil
	}
	switch f.Type {
	case agentTypeWatch, agentTypeUnwatch:
		if fe := needID(); fe != nil {
			return nil, fe
		}
	case wire.TypeTyping:
		if fe := needID(); fe != nil {
			return nil, fe
		}
		if f.On == nil {
			return nil, &wire.FrameError{Code: wire.CodeInvalidField, Field: "on", Message: "is required: true or false"}
		}
	case agentTypePresence:
		switch chat.PresenceStatus(f.Status) {
		case chat.Online, chat.Away, chat.Offline:
		default:
			return nil, &wire.FrameError{Code: wire.CodeInvalidField, Field: "status", Message: "want online, away or offline"}
		}
	case wire.TypePing:
	case "":
		return nil, &wire.FrameError{Code: wire.CodeBadFrame, Field: "type", Message: `a frame needs a "type" string`}
	default:
		return nil, &wire.FrameError{Code: wire.CodeUnknownType, Field: "type",
			Message: "unknown frame type; an agent client sends watch, unwatch, typing, presence or ping"}
	}
	return &f, nil
}

// isConversationID reports whether s looks like an id: 1 to 64 characters
// of A-Z a-z 0-9 _ -. Anything else names no conversation and could not
// be spliced into a frame unescaped.
func isConversationID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_' || b == '-') {
			return false
		}
	}
	return true
}

// shallowJSON reports whether data nests objects and arrays at most max
// levels deep, outside strings. It does not validate the JSON.
func shallowJSON(data []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, b := range data {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			if depth++; depth > max {
				return false
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return true
}

// previewCacheSize bounds the conversations whose preview flag a node
// remembers.
const previewCacheSize = 4096

// previewCache remembers which conversations are admins' preview chats, so
// agent sockets can keep their inbox events from agents without reading the
// database for every event. The flag never changes once a conversation
// exists. Concurrent lookups of one id share one read.
type previewCache struct {
	store *storage.Store
	max   int
	mu    sync.Mutex
	items map[string]*previewEntry
}

type previewEntry struct {
	ready   chan struct{}
	preview bool
	err     error
}

func newPreviewCache(store *storage.Store, max int) *previewCache {
	return &previewCache{store: store, max: max, items: map[string]*previewEntry{}}
}

// preview reports whether the conversation is a preview chat. An unknown
// id is not one (ErrNotFound is not an error here: the event will say
// nothing anyone may not see).
func (pc *previewCache) preview(ws, id string) (bool, error) {
	key := ws + "/" + id
	pc.mu.Lock()
	e, ok := pc.items[key]
	if !ok {
		if len(pc.items) >= pc.max {
			// Random eviction: map order. Entries are one bool; a miss
			// costs one read.
			for k, old := range pc.items {
				select {
				case <-old.ready:
					delete(pc.items, k)
				default:
					continue
				}
				break
			}
		}
		e = &previewEntry{ready: make(chan struct{})}
		pc.items[key] = e
	}
	pc.mu.Unlock()
	if ok {
		<-e.ready
		return e.preview, e.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	conv, err := pc.store.GetConversation(ctx, ws, id)
	switch {
	case err == nil:
		e.preview = conv.Preview
	case errors.Is(err, storage.ErrNotFound):
	default:
		e.err = err
		pc.mu.Lock()
		delete(pc.items, key) // do not remember a failure
		pc.mu.Unlock()
	}
	close(e.ready)
	return e.preview, e.err
}
