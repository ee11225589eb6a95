package auth

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHashingWaitsForASlot shows the bound on concurrent hashes: with every
// slot taken, a caller waits, and gives up when its context ends.
func TestHashingWaitsForASlot(t *testing.T) {
	t.Parallel()
	h := NewHasher(FastParams(), 2)
	h.slots <- struct{}{}
	h.slots <- struct{}{}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := h.Hash(ctx, "0123456789")
	require.ErrorIs(t, err, context.DeadlineExceeded)

	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "0123456789")
		done <- err
	}()
	select {
	case <-done:
		t.Fatal("hashed without a free slot")
	case <-time.After(20 * time.Millisecond):
	}
	h.release()
	require.NoError(t, <-done)
}
