package storage_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/frontdesk/frontdesk/storage"
)

// The conversation runner's transaction: lock the conversation, save the
// engine's new state with a compare-and-set, and store the bot's reply with
// the next seq, all committed together.
func ExampleStore_InTx() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "frontdesk-example")
	defer os.RemoveAll(dir)

	s, err := storage.Open(ctx, "sqlite:"+filepath.Join(dir, "frontdesk.db"), storage.Options{})
	if err != nil {
		panic(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		panic(err)
	}
	ws, _ := s.CreateWorkspace(ctx, "Acme")
	conv, _ := s.CreateConversation(ctx, ws.ID, storage.NewConversation{VisitorID: "visitor-1"})

	err = s.InTx(ctx, func(tx *storage.Store) error {
		c, err := tx.GetConversationForUpdate(ctx, ws.ID, conv.ID)
		if err != nil {
			return err
		}
		if _, err := tx.UpdateConversationState(ctx, ws.ID, c.ID, c.Version, storage.JSON(`{"node":"greet"}`)); err != nil {
			return err
		}
		msg, _, err := tx.AppendMessage(ctx, ws.ID, storage.NewMessage{
			ConversationID: c.ID, Author: storage.AuthorBot, Body: "Hi! How can I help?",
		})
		if err != nil {
			return err
		}
		fmt.Println("reply seq", msg.Seq)
		return nil
	})
	if err != nil {
		panic(err)
	}

	// A step computed from the old version loses.
	_, err = s.UpdateConversationState(ctx, ws.ID, conv.ID, conv.Version, storage.JSON(`{}`))
	var conflict *storage.ConflictError
	if errors.As(err, &conflict) {
		fmt.Println("conflict, current version", conflict.Current)
	}
	// Output:
	// reply seq 1
	// conflict, current version 2
}
