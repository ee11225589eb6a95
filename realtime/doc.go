// Package realtime moves conversation events from the node that committed
// them to every websocket that shows them, on any node.
//
// Two layers:
//
//   - A Broker carries opaque payloads by topic between nodes. MemoryBroker
//     is the default for a single process; RedisBroker uses Redis pub/sub so
//     several `frontdesk serve` processes share events. Both pass one suite,
//     realtime/brokertest.
//   - A Hub is node-local. Websocket handlers register one Client per
//     connection and subscribe it to topics; the hub holds one broker
//     subscription per topic for all its local clients and fans each payload
//     out to their bounded send queues.
//
// # Delivery
//
// Delivery is best effort and at most once. The database is the source of
// truth: every event carries a per-conversation seq, so a client that sees
// a jump, or that is told it may have missed events (a Resync frame, sent
// when a broker subscription overflows or reconnects), reloads from the
// database. This is why nothing here retries, persists or acknowledges.
//
// # Bounds
//
// Everything that buffers has a size, and nothing that fans out ever
// blocks: a broker subscription that falls behind loses payloads (and says
// so through Lost), and a client whose send queue is full is kicked with
// wire.CloseSlowConsumer. A slow reader costs its own connection, never the
// publisher or its neighbours.
//
// # Goroutines
//
// MemoryBroker starts none. RedisBroker runs one reader per broker. The Hub
// runs one goroutine per subscribed topic, which exits when the topic's last
// client leaves. Each Client's writer goroutine belongs to the caller, which
// drains Client.Next.
package realtime
