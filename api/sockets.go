package api

import (
	"net/http"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"

	"github.com/frontdesk/frontdesk/wire"
)

// Websocket buffers of the visitor and agent sockets. The bench's echo
// floor uses WebsocketConfig too, so it measures the same stack.
const (
	// SocketReadBufferSize is a socket's read buffer, kept for its whole
	// life (the library has no pool for it). Client frames are small (a
	// message is at most wire.MaxFrameBytes, usually a few hundred
	// bytes); a larger frame is read through the buffer in pieces.
	SocketReadBufferSize = 1024
	// SocketWriteBufferSize is the buffer a frame is written through. It
	// is taken from socketWriteBuffers for each write and given back
	// after it, so an idle socket holds none.
	SocketWriteBufferSize = 4096
	// socketHandshakeTimeout bounds the websocket handshake.
	socketHandshakeTimeout = 10 * time.Second
)

// socketWriteBuffers is the one write buffer pool of every socket with
// SocketWriteBufferSize (the library wants one pool per size).
var socketWriteBuffers sync.Pool

// WebsocketConfig returns the upgrade settings every Frontdesk websocket
// uses: the buffer sizes above and the shared write buffer pool.
func WebsocketConfig() websocket.Config {
	return websocket.Config{
		HandshakeTimeout: socketHandshakeTimeout,
		ReadBufferSize:   SocketReadBufferSize,
		WriteBufferSize:  SocketWriteBufferSize,
		WriteBufferPool:  &socketWriteBuffers,
	}
}

// kickable is a socket the server can close with a code.
type kickable interface {
	comparable
	kick(code int, reason string)
}

// socketSet bounds one kind of socket on this node, in all and per key (a
// client address, a member), and closes them all on shutdown. The visitor
// and agent sockets share it.
type socketSet[C kickable] struct {
	maxTotal, maxPerKey int
	// perKeyDetail explains a per-key refusal ("too many connections from
	// this address").
	perKeyDetail string

	mu      sync.Mutex
	perKey  map[string]int
	total   int
	conns   map[C]struct{}
	closing bool
}

func newSocketSet[C kickable](maxTotal, maxPerKey int, perKeyDetail string) *socketSet[C] {
	return &socketSet[C]{maxTotal: maxTotal, maxPerKey: maxPerKey, perKeyDetail: perKeyDetail,
		perKey: map[string]int{}, conns: map[C]struct{}{}}
}

// admit counts a socket for key before the upgrade, or refuses it: 503
// while shutting down or when the node is full, 429 past the per-key bound.
// An admitted socket must be released.
func (s *socketSet[C]) admit(key string) *Problem {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closing:
		return problem(http.StatusServiceUnavailable, "unavailable", "the server is shutting down")
	case s.total >= s.maxTotal:
		return problem(http.StatusServiceUnavailable, "unavailable", "too many connections on this node")
	case s.perKey[key] >= s.maxPerKey:
		return problem(http.StatusTooManyRequests, "rate_limited", s.perKeyDetail)
	}
	s.perKey[key]++
	s.total++
	return nil
}

// add records an admitted socket once it is served, so shutdown reaches it.
func (s *socketSet[C]) add(c C) {
	s.mu.Lock()
	s.conns[c] = struct{}{}
	s.mu.Unlock()
}

// release forgets a socket admitted for key.
func (s *socketSet[C]) release(c C, key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.perKey[key]--; s.perKey[key] <= 0 {
		delete(s.perKey, key)
	}
	delete(s.conns, c)
}

// each calls fn on every served socket, under the set's lock.
func (s *socketSet[C]) each(fn func(C)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		fn(c)
	}
}

// count returns the admitted sockets.
func (s *socketSet[C]) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// shutdown refuses new sockets, tells every open one to go away (1001), so
// clients reconnect to another node, and waits up to two seconds for them
// to close.
func (s *socketSet[C]) shutdown() {
	s.mu.Lock()
	s.closing = true
	conns := make([]C, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.kick(wire.CloseGoingAway, "server shutting down")
	}
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && s.count() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
}

// closeSocket ends a socket from its writer: it flushes the frames queued
// before the end (the errors that led to a rate-limit close), unless the
// client is the slow one; sends the close frame; and lingers for the
// client's close reply before closing TCP, since closing with unread bytes
// would reset the connection and the client could lose the close code.
// readerDone is closed once the socket's reader has returned.
func closeSocket(conn *websocket.Conn, out <-chan []byte, code int, reason string, readerDone <-chan struct{}) {
	if code != wire.CloseSlowConsumer {
	drain:
		for {
			select {
			case frame := <-out:
				_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
				if conn.WriteMessage(websocket.TextMessage, frame) != nil {
					break drain
				}
			default:
				break drain
			}
		}
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, wire.TrimCloseReason(reason)), time.Now().Add(time.Second))
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	select {
	case <-readerDone:
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				break
			}
		}
	case <-time.After(time.Second):
	}
	_ = conn.Close()
}
