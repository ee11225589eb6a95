// Package brokertest is the one test suite every realtime.Broker passes.
// Each implementation's tests call Run with a constructor; the suite never
// forks per implementation, so a behaviour one broker has and another
// lacks shows up as a failure, not as a skipped case.
package brokertest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/frontdesk/frontdesk/realtime"
)

// Timeout bounds every wait in the suite. It is generous because the suite
// also runs under -race against a real Redis on a small machine.
const Timeout = 10 * time.Second

// quiet is how long the suite watches for something that must not arrive.
const quiet = 100 * time.Millisecond

// NewBroker builds a broker with the default buffer size
// (realtime.DefaultBufferSize) that no other test shares. It should
// register the broker's Close with t.Cleanup; the suite may close it
// earlier, which Close's idempotence allows.
type NewBroker func(t *testing.T) realtime.Broker

// Run runs the whole suite against brokers made by newBroker. Every case
// is a parallel subtest with a broker of its own.
func Run(t *testing.T, newBroker NewBroker) {
	cases := []struct {
		name string
		fn   func(t *testing.T, b realtime.Broker)
	}{
		{"PublishReachesSubscriber", testPublishReachesSubscriber},
		{"OrderFromOnePublisher", testOrder},
		{"FanOutToManySubscribers", testFanOut},
		{"TopicsAreIsolated", testTopicsIsolated},
		{"NoHistory", testNoHistory},
		{"PayloadIsCopied", testPayloadCopied},
		{"PublishWithoutSubscribers", testPublishWithoutSubscribers},
		{"UnsubscribeClosesOnlyThatSubscription", testUnsubscribe},
		{"ResubscribeAfterUnsubscribe", testResubscribe},
		{"CloseEndsEverything", testClose},
		{"SlowSubscriberDoesNotBlockOthers", testSlowSubscriber},
		{"SmallBufferOverflowsLikeTheDefault", testSmallBuffer},
		{"ConcurrentPublishersKeepTheirOwnOrder", testConcurrentPublishers},
		{"ConcurrentSubscribeAndUnsubscribe", testConcurrentSubscribeUnsubscribe},
		{"Bounds", testBounds},
		{"CanceledContext", testCanceledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, newBroker(t))
		})
	}
}

// Within runs fn, which must not call t.FailNow (it runs on a goroutine of
// its own), and fails t with every goroutine's stack if fn has not returned
// after Timeout. Waits that could hang (a WaitGroup, a Close that waits for
// goroutines) go through it, so a deadlock is reported with what is stuck
// instead of running into the test binary's -timeout.
func Within(t testing.TB, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(Timeout):
		t.Fatalf("%s did not return within %s; goroutines:\n%s", what, Timeout, Stacks())
	}
}

// Stacks returns the stacks of every goroutine, for failure messages.
func Stacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), Timeout)
	t.Cleanup(cancel)
	return c
}

func subscribe(t *testing.T, b realtime.Broker, topic string) realtime.Subscription {
	t.Helper()
	s, err := b.Subscribe(ctx(t), topic)
	require.NoError(t, err)
	require.Equal(t, topic, s.Topic())
	t.Cleanup(s.Close)
	return s
}

func publish(t *testing.T, b realtime.Broker, topic, payload string) {
	t.Helper()
	require.NoError(t, b.Publish(ctx(t), topic, []byte(payload)))
}

// Receive returns the next payload of s, failing the test after Timeout.
func Receive(t testing.TB, s realtime.Subscription) string {
	t.Helper()
	select {
	case p, ok := <-s.C():
		require.True(t, ok, "subscription to %q closed while a payload was expected", s.Topic())
		return string(p)
	case <-time.After(Timeout):
		t.Fatalf("no payload on %q within %s", s.Topic(), Timeout)
		return ""
	}
}

func expectNothing(t *testing.T, s realtime.Subscription) {
	t.Helper()
	select {
	case p, ok := <-s.C():
		if ok {
			t.Fatalf("unexpected payload %q on %q", p, s.Topic())
		}
		t.Fatalf("subscription to %q closed unexpectedly", s.Topic())
	case <-time.After(quiet):
	}
}

func expectClosed(t *testing.T, s realtime.Subscription) {
	t.Helper()
	deadline := time.After(Timeout)
	for {
		select {
		case _, ok := <-s.C():
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("subscription to %q not closed within %s", s.Topic(), Timeout)
		}
	}
}

func testPublishReachesSubscriber(t *testing.T, b realtime.Broker) {
	s := subscribe(t, b, "conv:1")
	publish(t, b, "conv:1", `{"type":"event","seq":1}`)
	require.Equal(t, `{"type":"event","seq":1}`, Receive(t, s))
	require.Zero(t, s.Dropped())
	select {
	case <-s.Lost():
		t.Fatal("lost signalled without a loss")
	default:
	}
}

func testOrder(t *testing.T, b realtime.Broker) {
	s := subscribe(t, b, "order")
	// Within the buffer, so nothing may be dropped whatever the scheduling.
	const n = realtime.DefaultBufferSize - 6
	for i := range n {
		publish(t, b, "order", fmt.Sprint(i))
	}
	for i := range n {
		require.Equal(t, fmt.Sprint(i), Receive(t, s))
	}
}

func testFanOut(t *testing.T, b realtime.Broker) {
	const subs, n = 16, 100
	ss := make([]realtime.Subscription, subs)
	for i := range ss {
		ss[i] = subscribe(t, b, "fan")
	}
	for i := range n {
		publish(t, b, "fan", fmt.Sprint(i))
	}
	for _, s := range ss {
		for i := range n {
			require.Equal(t, fmt.Sprint(i), Receive(t, s))
		}
		require.Zero(t, s.Dropped())
	}
}

func testTopicsIsolated(t *testing.T, b realtime.Broker) {
	a := subscribe(t, b, "topic-a")
	c := subscribe(t, b, "topic-c")
	publish(t, b, "topic-b", "to b")
	publish(t, b, "topic-a", "to a")
	publish(t, b, "topic-a:x", "to a:x")
	require.Equal(t, "to a", Receive(t, a))
	expectNothing(t, a)
	expectNothing(t, c)
}

func testNoHistory(t *testing.T, b realtime.Broker) {
	publish(t, b, "late", "before")
	s := subscribe(t, b, "late")
	publish(t, b, "late", "after")
	require.Equal(t, "after", Receive(t, s), "a subscription gets what is published after Subscribe returns, and nothing older")
}

func testPayloadCopied(t *testing.T, b realtime.Broker) {
	s := subscribe(t, b, "copy")
	buf := []byte("original")
	require.NoError(t, b.Publish(ctx(t), "copy", buf))
	copy(buf, "CHANGED!")
	require.Equal(t, "original", Receive(t, s), "the publisher may reuse its buffer once Publish returns")
}

func testPublishWithoutSubscribers(t *testing.T, b realtime.Broker) {
	for i := range 10 {
		publish(t, b, fmt.Sprintf("nobody-%d", i), "x")
	}
}

func testUnsubscribe(t *testing.T, b realtime.Broker) {
	gone := subscribe(t, b, "unsub")
	stays := subscribe(t, b, "unsub")
	publish(t, b, "unsub", "1")
	require.Equal(t, "1", Receive(t, gone))
	require.Equal(t, "1", Receive(t, stays))

	gone.Close()
	gone.Close() // idempotent
	expectClosed(t, gone)
	publish(t, b, "unsub", "2")
	require.Equal(t, "2", Receive(t, stays))
	expectNothing(t, stays)
}

func testResubscribe(t *testing.T, b realtime.Broker) {
	// Subscribe, leave and come back quickly, several times: the last
	// subscription must be live, whatever order the backend confirmed in.
	for round := range 5 {
		s, err := b.Subscribe(ctx(t), "again")
		require.NoError(t, err)
		if round < 4 {
			s.Close()
			continue
		}
		t.Cleanup(s.Close)
		publish(t, b, "again", "live")
		require.Equal(t, "live", Receive(t, s))
	}
}

func testClose(t *testing.T, b realtime.Broker) {
	s1 := subscribe(t, b, "close-1")
	s2 := subscribe(t, b, "close-2")
	require.NoError(t, b.Close())
	expectClosed(t, s1)
	expectClosed(t, s2)
	s1.Close() // closing a subscription after its broker is harmless

	require.ErrorIs(t, b.Publish(ctx(t), "close-1", []byte("x")), realtime.ErrClosed)
	_, err := b.Subscribe(ctx(t), "close-1")
	require.ErrorIs(t, err, realtime.ErrClosed)
	require.NoError(t, b.Close(), "Close is idempotent")
}

func testSlowSubscriber(t *testing.T, b realtime.Broker) {
	slow := subscribe(t, b, "slow")
	fast := subscribe(t, b, "slow")
	const extra = 44
	const n = realtime.DefaultBufferSize + extra
	// Publish in lockstep with the fast subscriber: it never falls behind,
	// so every drop below is the slow one's, and the publisher finishing at
	// all shows that the full buffer never blocked it.
	for i := range n {
		publish(t, b, "slow", fmt.Sprint(i))
		require.Equal(t, fmt.Sprint(i), Receive(t, fast))
	}
	require.Zero(t, fast.Dropped())
	select {
	case <-fast.Lost():
		t.Fatal("the fast subscriber was told it lost payloads")
	default:
	}

	require.Equal(t, uint64(extra), slow.Dropped())
	select {
	case <-slow.Lost():
	case <-time.After(Timeout):
		t.Fatal("the slow subscriber got no loss signal")
	}
	// What it kept is the oldest payloads, in order: the newest were
	// dropped, never reordered.
	for i := range realtime.DefaultBufferSize {
		require.Equal(t, fmt.Sprint(i), Receive(t, slow))
	}
	// Once it has caught up it receives again.
	publish(t, b, "slow", "after")
	require.Equal(t, "after", Receive(t, slow))
	require.Equal(t, "after", Receive(t, fast))
}

// testSmallBuffer: a subscription with a buffer of its own size
// (realtime.SubscribeBuffered, as visitor sockets use) overflows exactly as
// the default one does, at its own size: the newest payloads are dropped
// for it alone, counted, Lost is signalled, what it kept is the oldest in
// order, and it receives again once it has caught up. A broker that cannot
// size a subscription fails here (its default buffer drops nothing).
func testSmallBuffer(t *testing.T, b realtime.Broker) {
	const size, extra = 4, 6
	small, err := realtime.SubscribeBuffered(ctx(t), b, "small", size)
	require.NoError(t, err)
	t.Cleanup(small.Close)
	require.Equal(t, "small", small.Topic())
	fast := subscribe(t, b, "small")
	// In lockstep with the fast subscriber, as in testSlowSubscriber, so
	// every payload has reached both before the next is published.
	for i := range size + extra {
		publish(t, b, "small", fmt.Sprint(i))
		require.Equal(t, fmt.Sprint(i), Receive(t, fast))
	}
	require.Zero(t, fast.Dropped())
	require.Equal(t, uint64(extra), small.Dropped())
	select {
	case <-small.Lost():
	case <-time.After(Timeout):
		t.Fatal("the small subscription got no loss signal")
	}
	for i := range size {
		require.Equal(t, fmt.Sprint(i), Receive(t, small))
	}
	publish(t, b, "small", "after")
	require.Equal(t, "after", Receive(t, small))
	require.Equal(t, "after", Receive(t, fast))
	// Sizes at or below zero mean the broker's own buffer.
	def, err := realtime.SubscribeBuffered(ctx(t), b, "small-default", 0)
	require.NoError(t, err)
	t.Cleanup(def.Close)
	pace := subscribe(t, b, "small-default")
	for i := range realtime.DefaultBufferSize + 1 {
		publish(t, b, "small-default", fmt.Sprint(i))
		require.Equal(t, fmt.Sprint(i), Receive(t, pace))
	}
	require.Equal(t, uint64(1), def.Dropped())
	for i := range realtime.DefaultBufferSize {
		require.Equal(t, fmt.Sprint(i), Receive(t, def))
	}
}

func testConcurrentPublishers(t *testing.T, b realtime.Broker) {
	s := subscribe(t, b, "many")
	const publishers, each = 8, 30 // 240 fits the buffer: nothing is dropped
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := b.Publish(ctx(t), "many", fmt.Appendf(nil, "%d:%d", p, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	Within(t, "the publishers", wg.Wait)
	next := make([]int, publishers)
	for range publishers * each {
		var p, i int
		_, err := fmt.Sscanf(Receive(t, s), "%d:%d", &p, &i)
		require.NoError(t, err)
		require.Equal(t, next[p], i, "publisher %d's payloads out of order", p)
		next[p]++
	}
	expectNothing(t, s)
}

func testConcurrentSubscribeUnsubscribe(t *testing.T, b realtime.Broker) {
	// Subscribers come and go on a few topics while payloads flow. The
	// race detector and the absence of panics (a send on a closed channel)
	// and deadlocks are the assertions; a steady subscriber checks that
	// the churn does not disturb others.
	steady := subscribe(t, b, "churn-0")
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := b.Publish(ctx(t), fmt.Sprintf("churn-%d", i%3), []byte("p")); err != nil {
				t.Error(err)
				return
			}
			if i%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	for w := range 4 {
		wg.Go(func() {
			for i := range 25 {
				s, err := b.Subscribe(ctx(t), fmt.Sprintf("churn-%d", (w+i)%3))
				if err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					select {
					case <-s.C():
					case <-time.After(quiet):
					}
				}
				s.Close()
			}
		})
	}
	time.Sleep(quiet)
	close(stop)
	Within(t, "the publisher and the subscribers", wg.Wait)
	// Drain what the steady subscriber buffered, then check it is live.
	for len(steady.C()) > 0 {
		<-steady.C()
	}
	publish(t, b, "churn-0", "still here")
	for {
		if p := Receive(t, steady); p == "still here" {
			break
		}
	}
}

func testBounds(t *testing.T, b realtime.Broker) {
	s := subscribe(t, b, strings.Repeat("t", realtime.MaxTopicBytes))
	big := bytes.Repeat([]byte("x"), realtime.MaxPayloadBytes)
	require.NoError(t, b.Publish(ctx(t), s.Topic(), big))
	require.Equal(t, string(big), Receive(t, s))
	require.NoError(t, b.Publish(ctx(t), s.Topic(), nil), "an empty payload is allowed")
	require.Equal(t, "", Receive(t, s))

	err := b.Publish(ctx(t), s.Topic(), append(big, 'x'))
	require.ErrorIs(t, err, realtime.ErrPayloadTooLarge)
	expectNothing(t, s)

	for _, topic := range []string{"", strings.Repeat("t", realtime.MaxTopicBytes+1)} {
		require.ErrorIs(t, b.Publish(ctx(t), topic, []byte("x")), realtime.ErrInvalidTopic)
		_, err := b.Subscribe(ctx(t), topic)
		require.ErrorIs(t, err, realtime.ErrInvalidTopic)
	}
}

func testCanceledContext(t *testing.T, b realtime.Broker) {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.Subscribe(c, "canceled")
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
	// The broker is still usable.
	s := subscribe(t, b, "canceled")
	publish(t, b, "canceled", "ok")
	require.Equal(t, "ok", Receive(t, s))
}
