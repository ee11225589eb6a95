package migrations_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/frontdesk/frontdesk/migrations"
	"github.com/frontdesk/frontdesk/storage"
)

// What `frontdesk migrate up` and `frontdesk migrate status` do.
func ExampleUp() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "frontdesk-example")
	defer os.RemoveAll(dir)
	s, err := storage.Open(ctx, filepath.Join(dir, "frontdesk.db"), storage.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()

	pending, _ := migrations.Pending(ctx, s.DB(), s.Dialect())
	fmt.Println("every migration pending:", pending > 0)
	if err := migrations.Up(ctx, s.DB(), s.Dialect()); err != nil {
		panic(err)
	}
	status, _ := migrations.Status(ctx, s.DB(), s.Dialect())
	fmt.Println(status[0].Version, status[0].Name, status[0].Applied)
	pending, _ = migrations.Pending(ctx, s.DB(), s.Dialect())
	fmt.Println("pending after:", pending)
	// Output:
	// every migration pending: true
	// 1 00001_init.sql true
	// pending after: 0
}
