package storage

import (
	"context"
	"strings"
	"time"
)

// Workspace is a tenant. Every other row belongs to exactly one.
type Workspace struct {
	ID   string
	Name string
	// OutOfOffice turns every assistant of the workspace off.
	OutOfOffice bool
	CreatedAt   time.Time
}

// TableName is the workspaces table.
func (Workspace) TableName() string { return "workspaces" }

// CreateWorkspace creates a tenant.
func (s *Store) CreateWorkspace(ctx context.Context, name string) (*Workspace, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return nil, invalidf("workspace name is empty")
	}
	if err := checkText("workspace name", name, MaxNameBytes); err != nil {
		return nil, err
	}
	w := &Workspace{ID: newID(), Name: name, CreatedAt: s.now()}
	if err := s.conn(ctx).Create(w).Error; err != nil {
		return nil, wrap("create workspace", err)
	}
	return w, nil
}

// GetWorkspace returns the workspace, or ErrNotFound.
func (s *Store) GetWorkspace(ctx context.Context, id string) (*Workspace, error) {
	if err := needWorkspace(id); err != nil {
		return nil, err
	}
	var w Workspace
	if err := s.conn(ctx).Where("id = ?", id).Take(&w).Error; err != nil {
		return nil, wrap("get workspace", err)
	}
	return &w, nil
}

// SetOutOfOffice flips the workspace's out-of-office switch.
func (s *Store) SetOutOfOffice(ctx context.Context, id string, on bool) error {
	if err := needWorkspace(id); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`UPDATE workspaces SET out_of_office = ? WHERE id = ?`, on, id)
	if res.Error != nil {
		return wrap("set out of office", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("workspace " + id)
	}
	return nil
}
