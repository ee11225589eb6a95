package wire_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/wire"
)

func ExampleDecodeClient() {
	for _, raw := range []string{
		`{"type":"message","client_id":"c-1","text":"Do you ship to Norway?"}`,
		`{"type":"message","client_id":"c-2","text":""}`,
		`{"type":"subscribe","topic":"admin"}`,
	} {
		f, err := wire.DecodeClient([]byte(raw))
		var fe *wire.FrameError
		switch {
		case errors.As(err, &fe):
			// Answer with a typed error frame; the socket stays open.
			fmt.Printf("%s\n", wire.Encode(fe.Frame()))
		case err == nil:
			m := f.(*wire.ClientMessage)
			fmt.Printf("message %s: %q\n", m.ClientID, m.Text)
		}
	}
	// Output:
	// message c-1: "Do you ship to Norway?"
	// {"type":"error","code":"invalid_field","message":"is required","field":"text"}
	// {"type":"error","code":"unknown_type","message":"unknown frame type \"subscribe\"; a client sends hello, message, typing, resume or ping","field":"type"}
}

func ExampleEvent_AppendJSON() {
	ev := &wire.Event{Seq: 7, ConversationID: "cv_1", Kind: wire.KindMessage, Message: &wire.Message{
		ID: "m_7", Author: wire.AuthorBot, Text: "Yes, in 3-5 days.",
		QuickReplies: []wire.QuickReply{{Label: "Thanks!", Value: "thanks"}},
		CreatedAt:    time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
	}}
	buf := ev.AppendJSON(nil) // reuse buf[:0] for the next frame
	fmt.Println(string(buf))
	seq, _ := wire.EventSeq(buf)
	fmt.Println(seq)
	// Output:
	// {"type":"event","seq":7,"conversation_id":"cv_1","kind":"message","message":{"id":"m_7","author":"bot","text":"Yes, in 3-5 days.","quick_replies":[{"label":"Thanks!","value":"thanks"}],"created_at":"2025-01-02T03:04:05Z"}}
	// 7
}
