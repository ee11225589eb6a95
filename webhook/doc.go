// Package webhook delivers Frontdesk's outbound webhooks, in the Standard
// Webhooks style (https://www.standardwebhooks.com): every delivery is a
// JSON POST carrying webhook-id, webhook-timestamp and webhook-signature
// headers, signed with HMAC-SHA256 over "id.timestamp.body".
//
// # The way of an event
//
//  1. The change (a conversation created, a lead captured, ...) and its row
//     in webhook_outbox commit in one transaction (package chat).
//  2. The Dispatcher claims outbox rows and fans each out into one delivery
//     per enabled subscription that wants its type (storage
//     FanOutWebhookEvent), in one transaction.
//  3. The Dispatcher claims due deliveries, at most one per subscription at
//     a time, and POSTs each. A 2xx marks it delivered; anything else is
//     retried with exponential backoff and jitter (RetryPolicy) and, after
//     the last attempt, left in the dead letter, from which an admin can
//     redeliver it.
//
// Delivery is at-least-once: a delivery is marked only after a 2xx, and a
// worker that dies between sending and marking leaves the claim to expire,
// so the delivery is sent again under the same webhook-id. Receivers
// deduplicate on it (see Verify and ReplayGuard).
//
// # SSRF
//
// Receiver URLs are checked when saved (CheckURL: https only, no internal
// or non-canonical IP literals, no localhost, no user info, and every
// address the name resolves to must be public) and again at every dial,
// redirect hops included, by chat.SafeDialer: a name that re-resolves to an
// internal address (DNS rebinding) is refused at connect time.
package webhook
