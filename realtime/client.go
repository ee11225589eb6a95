package realtime

import (
	"context"
	"errors"
	"strconv"
	"sync"

	"github.com/frontdesk/frontdesk/wire"
)

// Client is one websocket connection's place in a Hub: its topics, its
// bounded send queue and its disconnect signal.
//
// The connection's owner runs one writer goroutine that takes frames with
// Next (or from Queue and Done) and writes them, and calls Close when the
// connection ends. Frames in the queue are shared with the topic's other
// clients and must not be modified. Send, Kick, Disconnect and Done are safe
// from any goroutine; Subscribe and Unsubscribe are too, and are serialized
// per client.
type Client struct {
	hub   *Hub
	id    uint64
	queue chan []byte
	done  chan struct{}

	// mu guards disc and drain; done is closed once disc is set.
	mu    sync.Mutex
	disc  *Disconnect
	drain bool

	// subMu serializes Subscribe, Unsubscribe and Close, so a client never
	// joins and leaves the same topic at once.
	subMu     sync.Mutex
	topics    map[string]*hubTopic
	closeOnce sync.Once
}

// Disconnect is why a client was disconnected: the close code and reason
// its websocket is closed with.
type Disconnect struct {
	// Code is one of the wire.Close constants.
	Code int
	// Reason is at most wire.MaxCloseReasonBytes.
	Reason string
}

// Error implements error, so Next can return the Disconnect.
func (d *Disconnect) Error() string {
	return "realtime: disconnected: " + strconv.Itoa(d.Code) + " " + wire.CloseText(d.Code) + ": " + d.Reason
}

// Client errors.
var (
	// ErrSlowConsumer: Send found the queue full; the client has been
	// kicked with wire.CloseSlowConsumer.
	ErrSlowConsumer = errors.New("realtime: client send queue full")
)

// ID returns a number unique among the hub's clients, for logs.
func (c *Client) ID() uint64 { return c.id }

// Subscribe adds the client to topic. It returns once the node's broker
// subscription for the topic exists, so every payload published after it
// returns is queued for the client. Subscribing to a topic twice is a
// no-op. It fails with ErrTooManyTopics past the hub's MaxTopicsPerClient,
// with the client's *Disconnect if it was kicked, and with the broker's
// error if the node cannot subscribe.
func (c *Client) Subscribe(ctx context.Context, topic string) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	c.subMu.Lock()
	defer c.subMu.Unlock()
	if d := c.Disconnect(); d != nil {
		return d
	}
	if c.topics == nil {
		return ErrHubClosed
	}
	if _, ok := c.topics[topic]; ok {
		return nil
	}
	if len(c.topics) >= c.hub.maxTopics {
		return ErrTooManyTopics
	}
	t, err := c.hub.attach(ctx, c, topic)
	if err != nil {
		return err
	}
	c.topics[topic] = t
	return nil
}

// Unsubscribe removes the client from topic; it is a no-op if the client
// is not subscribed. Frames of the topic already queued stay queued.
func (c *Client) Unsubscribe(topic string) {
	c.subMu.Lock()
	defer c.subMu.Unlock()
	if t, ok := c.topics[topic]; ok {
		delete(c.topics, topic)
		c.hub.detach(c, t)
	}
}

// Send queues a frame for this client alone (an ack, a welcome, an error).
// It never blocks: if the queue is full the client is kicked with
// wire.CloseSlowConsumer and Send returns ErrSlowConsumer. After a kick it
// returns the client's *Disconnect.
func (c *Client) Send(frame []byte) error {
	if d := c.Disconnect(); d != nil {
		return d
	}
	if !c.enqueue(frame) {
		if d := c.Disconnect(); d != nil && d.Code != wire.CloseSlowConsumer {
			return d
		}
		return ErrSlowConsumer
	}
	return nil
}

// enqueue puts p in the queue without blocking, kicking the client as a
// slow consumer when the queue is full.
func (c *Client) enqueue(p []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.queue <- p:
		return true
	default:
		if c.kick(wire.CloseSlowConsumer, "send queue full", false) {
			c.hub.stats.kicks.Add(1)
			c.hub.stats.slowKicks.Add(1)
			c.hub.log.Info("realtime: client kicked as slow consumer", "client", c.id, "queue", cap(c.queue))
		}
		return false
	}
}

// Next returns the next frame to write, blocking until there is one, the
// client is disconnected, or ctx is done. After a disconnect it returns the
// frames queued before it (so an error frame followed by Kick reaches the
// client), then the *Disconnect to close the socket with. A slow consumer
// gets its *Disconnect at once: its queue is the problem.
func (c *Client) Next(ctx context.Context) ([]byte, error) {
	select {
	case <-c.done:
		return c.afterDisconnect()
	default:
	}
	select {
	case p := <-c.queue:
		return p, nil
	case <-c.done:
		return c.afterDisconnect()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *Client) afterDisconnect() ([]byte, error) {
	c.mu.Lock()
	d, drain := c.disc, c.drain
	c.mu.Unlock()
	if drain {
		select {
		case p := <-c.queue:
			return p, nil
		default:
		}
	}
	return nil, d
}

// Queue is the send queue, for writers that select on more than Next
// allows. Such a writer must stop taking frames once Done is closed if the
// Disconnect's code is wire.CloseSlowConsumer.
func (c *Client) Queue() <-chan []byte { return c.queue }

// Done is closed when the client is disconnected (kicked, or closed).
func (c *Client) Done() <-chan struct{} { return c.done }

// Disconnect returns why the client was disconnected, or nil while it is
// connected.
func (c *Client) Disconnect() *Disconnect {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.disc
}

// Kick disconnects the client with a close code (one of the wire.Close
// constants) and a reason, cut to wire.MaxCloseReasonBytes. The first kick
// wins; Kick reports whether this one did. The writer sees it through Next
// or Done and closes the socket; the owner then calls Close.
func (c *Client) Kick(code int, reason string) bool {
	if c.kick(code, reason, code != wire.CloseSlowConsumer) {
		c.hub.stats.kicks.Add(1)
		return true
	}
	return false
}

func (c *Client) kick(code int, reason string, drain bool) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.disc != nil {
		return false
	}
	c.disc = &Disconnect{Code: code, Reason: wire.TrimCloseReason(reason)}
	c.drain = drain
	close(c.done)
	return true
}

// Close leaves every topic and the hub. It disconnects the client with
// wire.CloseNormal if nothing else did first. It is idempotent, and the
// owner must call it however the connection ended.
func (c *Client) Close() {
	c.closeOnce.Do(func() {
		c.kick(wire.CloseNormal, "", true)
		c.subMu.Lock()
		topics := c.topics
		c.topics = nil
		c.subMu.Unlock()
		for _, t := range topics {
			c.hub.detach(c, t)
		}
		c.hub.unregister(c)
	})
}
