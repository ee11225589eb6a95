package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/frontdesk/frontdesk/storage"
)

// setupKey marks, in instance_settings, that first-run setup happened.
const setupKey = "setup_completed_at"

// MaxWorkspaceNameBytes bounds a workspace name given at setup.
const MaxWorkspaceNameBytes = 200

// SetupInput is the first workspace and its owner.
type SetupInput struct {
	WorkspaceName string
	Name          string
	Email         string
	Password      string
}

// SetupResult is what Setup made.
type SetupResult struct {
	Workspace storage.Workspace
	// Owner is the new owner, without the password hash.
	Owner storage.User
}

// SetupFieldError names the SetupInput field at fault: "workspace_name",
// "name", "email" or "password". It wraps ErrInvalidEmail or
// ErrWeakPassword where those apply.
type SetupFieldError struct {
	Field string
	Err   error
}

// Error describes the fault.
func (e *SetupFieldError) Error() string { return e.Field + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *SetupFieldError) Unwrap() error { return e.Err }

// Setup creates the first workspace and its owner, with the default hashing
// parameters. It is what `frontdesk setup` runs. It refuses with
// ErrAlreadySetUp once any workspace exists, and is safe against two
// setups racing (also on two nodes): exactly one wins.
func Setup(ctx context.Context, store *storage.Store, in SetupInput) (*SetupResult, error) {
	return setup(ctx, store, NewHasher(DefaultParams(), 1), in)
}

// checkSetup validates the input, naming the field at fault.
func checkSetup(in SetupInput) error {
	ws := strings.TrimSpace(in.WorkspaceName)
	switch {
	case ws == "":
		return &SetupFieldError{Field: "workspace_name", Err: errors.New("is empty")}
	case len(ws) > MaxWorkspaceNameBytes:
		return &SetupFieldError{Field: "workspace_name", Err: fmt.Errorf("is over %d bytes", MaxWorkspaceNameBytes)}
	case len(in.Name) > MaxWorkspaceNameBytes:
		return &SetupFieldError{Field: "name", Err: fmt.Errorf("is over %d bytes", MaxWorkspaceNameBytes)}
	}
	if err := CheckEmail(in.Email); err != nil {
		return &SetupFieldError{Field: "email", Err: err}
	}
	if err := CheckPassword(in.Password, in.Email); err != nil {
		return &SetupFieldError{Field: "password", Err: err}
	}
	return nil
}

func setup(ctx context.Context, store *storage.Store, h *Hasher, in SetupInput) (*SetupResult, error) {
	// Answer a repeated setup first, whatever its input, and before
	// spending a hash on it.
	if n, err := store.CountWorkspaces(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, ErrAlreadySetUp
	}
	if err := checkSetup(in); err != nil {
		return nil, err
	}
	hash, err := h.Hash(ctx, in.Password)
	if err != nil {
		return nil, err
	}
	var out SetupResult
	err = store.InTx(ctx, func(tx *storage.Store) error {
		// The marker's primary key serializes racing setups: on Postgres
		// the loser waits for the winner's commit, then gets a duplicate;
		// on SQLite the transactions run one after the other anyway.
		if err := tx.InsertSetting(ctx, setupKey, time.Now().UTC().Format(time.RFC3339)); err != nil {
			if errors.Is(err, storage.ErrDuplicate) {
				return ErrAlreadySetUp
			}
			return err
		}
		// Workspaces made another way (a demo seed) count as set up too.
		if n, err := tx.CountWorkspaces(ctx); err != nil {
			return err
		} else if n > 0 {
			return ErrAlreadySetUp
		}
		ws, err := tx.CreateWorkspace(ctx, in.WorkspaceName)
		if err != nil {
			return err
		}
		owner, err := tx.CreateUser(ctx, ws.ID, storage.NewUser{
			Email: in.Email, Name: strings.TrimSpace(in.Name), Role: storage.RoleOwner, PasswordHash: hash,
		})
		if err != nil {
			return err
		}
		owner.PasswordHash = ""
		out = SetupResult{Workspace: *ws, Owner: *owner}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Setup is the package Setup with the service's hasher, followed by a
// sign-in of the new owner.
func (s *Service) Setup(ctx context.Context, in SetupInput) (*SignIn, error) {
	res, err := setup(ctx, s.store, s.hasher, in)
	if err != nil {
		return nil, err
	}
	return s.startSession(ctx, s.store, res.Owner, res.Workspace)
}
