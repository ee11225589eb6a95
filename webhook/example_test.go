package webhook_test

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/frontdesk/frontdesk/webhook"
)

// A receiver checks each delivery with Verify, then refuses a replay with a
// ReplayGuard. The secret is the one shown when the subscription was created.
func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	sentAt := time.Unix(1_700_000_000, 0)
	body := []byte(`{"type":"lead.created","timestamp":"2023-11-14T22:13:00Z","data":{"lead_id":"l1"}}`)

	// What Frontdesk sends.
	sig, _ := webhook.SignatureHeader([]string{secret}, "evt_1", sentAt, body)
	h := http.Header{}
	h.Set("webhook-id", "evt_1")
	h.Set("webhook-timestamp", strconv.FormatInt(sentAt.Unix(), 10))
	h.Set("webhook-signature", sig)

	// What the receiver does, on its own clock.
	now := sentAt.Add(2 * time.Second)
	guard := webhook.NewReplayGuard(0, 0)
	check := func(h http.Header, body []byte) error {
		if err := webhook.Verify(secret, h, body, now, webhook.DefaultTolerance); err != nil {
			return err
		}
		return guard.Check(h.Get("webhook-id"), now)
	}
	fmt.Println("delivery:", check(h, body))
	fmt.Println("replayed:", check(h, body))
	fmt.Println("tampered:", check(h, []byte(`{"type":"lead.created"}`)))
	now = now.Add(10 * time.Minute)
	fmt.Println("late:", check(h, body))
	// Output:
	// delivery: <nil>
	// replayed: webhook: id already seen
	// tampered: webhook: no matching signature
	// late: webhook: timestamp outside the tolerance
}
