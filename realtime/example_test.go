package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/wire"
)

// A websocket handler's use of the hub: register, subscribe, and let one
// writer goroutine drain Next until the client is disconnected.
func ExampleHub() {
	broker := realtime.NewMemoryBroker(realtime.MemoryConfig{})
	defer broker.Close()
	hub, _ := realtime.NewHub(realtime.HubConfig{Broker: broker})
	defer hub.Close()

	// A handler's context: the request's, bounded like any wait should be.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, _ := hub.Register()
	defer client.Close()
	_ = client.Subscribe(ctx, "conv:cv_1")

	// Elsewhere, after a commit: publish the encoded event once.
	ev := wire.Encode(&wire.Event{Seq: 1, ConversationID: "cv_1", Kind: wire.KindClosed})
	_ = broker.Publish(ctx, "conv:cv_1", ev)

	// The handler ends the conversation after that event.
	frame, _ := client.Next(ctx)
	fmt.Println(string(frame))
	client.Kick(wire.CloseNormal, "conversation closed")

	_, err := client.Next(ctx)
	var d *realtime.Disconnect
	if errors.As(err, &d) {
		// Write a close frame with d.Code and d.Reason, then return.
		fmt.Println(d.Code, d.Reason)
	}
	// Output:
	// {"type":"event","seq":1,"conversation_id":"cv_1","kind":"closed"}
	// 1000 conversation closed
}
