package storage_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/frontdesk/frontdesk/storage"
	"github.com/frontdesk/frontdesk/storage/storagetest"
)

// benchConversations returns a function that creates conversations on a
// fresh workspace and channel.
func benchConversations(b *testing.B, s *storage.Store) (ws string, newConv func() string) {
	b.Helper()
	ctx := context.Background()
	w, err := s.CreateWorkspace(ctx, "Bench")
	if err != nil {
		b.Fatal(err)
	}
	ch, err := s.CreateChannel(ctx, w.ID, storage.NewChannel{Name: "Site", AllowedOrigins: []string{"http://bench.local"}})
	if err != nil {
		b.Fatal(err)
	}
	var n atomic.Int64
	return w.ID, func() string {
		c, err := s.CreateConversation(ctx, w.ID, storage.NewConversation{
			ChannelID: ch.ID, VisitorID: fmt.Sprintf("v%d", n.Add(1)), State: storage.JSON(`{"node":"qualify"}`),
		})
		if err != nil {
			b.Fatal(err)
		}
		return c.ID
	}
}

// messagesPerConversation is how many messages a benchmark conversation
// gets before the next one starts: a long chat, not an unbounded one.
const messagesPerConversation = 100

// BenchmarkAppendMessage is AppendMessage alone, in its own transaction: a
// visitor message with a client id (lock the conversation's seq, look the
// client id up, bump last_seq, insert).
func BenchmarkAppendMessage(b *testing.B) {
	for _, d := range storagetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storagetest.Open(b, d)
			ws, newConv := benchConversations(b, s)
			ctx := context.Background()
			conv := ""
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if i%messagesPerConversation == 0 {
					b.StopTimer()
					conv = newConv()
					b.StartTimer()
				}
				_, dup, err := s.AppendMessage(ctx, ws, storage.NewMessage{
					ConversationID: conv, ClientID: "c" + strconv.Itoa(i), Author: storage.AuthorVisitor, Body: "solo@example.com",
				})
				if err != nil || dup {
					b.Fatal(err, dup)
				}
			}
		})
	}
}

// BenchmarkAppendMessageParallel is AppendMessage from many writers at
// once (16 per CPU), each on its own conversation.
func BenchmarkAppendMessageParallel(b *testing.B) {
	for _, d := range storagetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			s := storagetest.Open(b, d)
			ws, newConv := benchConversations(b, s)
			ctx := context.Background()
			b.ReportAllocs()
			b.SetParallelism(16)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				conv, i := newConv(), 0
				for pb.Next() {
					i++
					_, _, err := s.AppendMessage(ctx, ws, storage.NewMessage{
						ConversationID: conv, ClientID: "c" + strconv.Itoa(i), Author: storage.AuthorVisitor, Body: "solo@example.com",
					})
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
