package realtime_test

import (
	"io"
	"log/slog"
	"testing"

	"github.com/frontdesk/frontdesk/realtime"
	"github.com/frontdesk/frontdesk/realtime/brokertest"
)

// quietLog keeps the expected slow-subscriber warnings out of test output.
var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

var _ = io.Discard

func newMemoryBroker(t *testing.T) realtime.Broker {
	b := realtime.NewMemoryBroker(realtime.MemoryConfig{Logger: quietLog})
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func TestMemoryBroker(t *testing.T) {
	t.Parallel()
	brokertest.Run(t, newMemoryBroker)
}
