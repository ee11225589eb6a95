package realtime_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/wire"
)

var benchFrame = wire.Encode(&wire.Event{Seq: 42, ConversationID: "cv_01HZX3", Kind: wire.KindMessage, Message: &wire.Message{
	ID: "m_01HZX4", Author: wire.AuthorBot, AuthorName: "Ava", Text: "Our team plan is $20 per seat per month. Want me to start a trial?",
	QuickReplies: []wire.QuickReply{{Label: "Start a trial", Value: "trial"}, {Label: "Talk to sales", Value: "sales"}},
}})

// BenchmarkBrokerPublish is the publisher's cost per payload with one
// subscriber draining. Publish never waits for the subscriber, so on the
// memory broker a subscriber that falls behind drops rather than slowing it.
func BenchmarkBrokerPublish(b *testing.B) {
	brokers := []struct {
		name string
		make func(b *testing.B) realtime.Broker
	}{
		{"memory", func(b *testing.B) realtime.Broker {
			return realtime.NewMemoryBroker(realtime.MemoryConfig{Logger: quietLog})
		}},
		{"redis", func(b *testing.B) realtime.Broker {
			return realtime.NewRedisBroker(newRedisClient(b, ""), realtime.RedisConfig{Prefix: uniquePrefix(b), Logger: quietLog})
		}},
	}
	for _, bk := range brokers {
		b.Run(bk.name, func(b *testing.B) {
			br := bk.make(b)
			defer br.Close()
			ctx := context.Background()
			sub, err := br.Subscribe(ctx, "bench")
			if err != nil {
				b.Fatal(err)
			}
			var drained sync.WaitGroup
			drained.Go(func() {
				for range sub.C() {
				}
			})
			b.ReportAllocs()
			b.SetBytes(int64(len(benchFrame)))
			for b.Loop() {
				if err := br.Publish(ctx, "bench", benchFrame); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			sub.Close()
			drained.Wait()
			b.ReportMetric(float64(sub.Dropped()), "dropped")
		})
	}
}

// BenchmarkHubFanout is the time from Publish until every client of the
// topic has the frame in hand from Next, with one writer goroutine per
// client as on a real node. ns/op is per published event; ns/delivery
// divides it among the clients.
func BenchmarkHubFanout(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("clients=%d", n), func(b *testing.B) {
			br := realtime.NewMemoryBroker(realtime.MemoryConfig{Logger: quietLog})
			defer br.Close()
			h, err := realtime.NewHub(realtime.HubConfig{Broker: br, Logger: quietLog})
			if err != nil {
				b.Fatal(err)
			}
			defer h.Close()
			var got sync.WaitGroup
			var writers sync.WaitGroup
			for range n {
				c, err := h.Register()
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Subscribe(context.Background(), "conv:1"); err != nil {
					b.Fatal(err)
				}
				defer c.Close()
				writers.Go(func() {
					for {
						if _, err := c.Next(context.Background()); err != nil {
							return
						}
						got.Done()
					}
				})
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				got.Add(n)
				if err := br.Publish(ctx, "conv:1", benchFrame); err != nil {
					b.Fatal(err)
				}
				got.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
			if k := h.Stats().Kicks; k != 0 {
				b.Fatalf("%d clients kicked", k)
			}
		})
	}
}
