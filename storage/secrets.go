package storage

import (
	"context"
	"errors"
)

// instanceSetting is a row of instance_settings: configuration of the whole
// instance, owned by no tenant.
type instanceSetting struct {
	Key   string
	Value string
}

// maxSettingBytes bounds a setting's value; secrets and markers are short.
const maxSettingBytes = 4 << 10

// GetSetting returns an instance setting's value, or ErrNotFound.
func (s *Store) GetSetting(ctx context.Context, key string) (string, error) {
	if key == "" {
		return "", invalidf("setting key is empty")
	}
	var row instanceSetting
	err := s.conn(ctx).Table("instance_settings").Select("key, value").Where("key = ?", key).Take(&row).Error
	if err != nil {
		return "", wrap("get setting "+key, err)
	}
	return row.Value, nil
}

// InsertSetting stores an instance setting that must not exist yet: a
// taken key gives ErrDuplicate. Inside a transaction on Postgres, a second
// inserter of the same key waits for the first to commit and then gets
// ErrDuplicate, which makes it a lock for one-time steps such as the
// first-run setup.
func (s *Store) InsertSetting(ctx context.Context, key, value string) error {
	if key == "" {
		return invalidf("setting key is empty")
	}
	if err := checkText("setting "+key, value, maxSettingBytes); err != nil {
		return err
	}
	err := s.conn(ctx).Exec(`INSERT INTO instance_settings (key, value, updated_at) VALUES (?, ?, ?)`,
		key, value, s.now()).Error
	return wrap("insert setting "+key, err)
}

// GetOrCreateSecret returns the instance secret stored under key, creating
// it with generate when there is none. It is safe when several nodes start
// at once: each inserts only if the key is absent and then reads the row, so
// all of them end up with the value of whichever insert won. generate is
// called only when the key is missing and must return a non-empty value.
func (s *Store) GetOrCreateSecret(ctx context.Context, key string, generate func() string) (string, error) {
	if key == "" {
		return "", invalidf("secret key is empty")
	}
	v, err := s.GetSetting(ctx, key)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	fresh := generate()
	if fresh == "" {
		return "", invalidf("secret %s: generated an empty value", key)
	}
	if err := checkText("secret "+key, fresh, maxSettingBytes); err != nil {
		return "", err
	}
	// ON CONFLICT DO NOTHING is the same on both dialects and never fails
	// for a lost race, unlike a plain INSERT.
	err = s.conn(ctx).Exec(`INSERT INTO instance_settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO NOTHING`, key, fresh, s.now()).Error
	if err != nil {
		return "", wrap("create secret "+key, err)
	}
	return s.GetSetting(ctx, key)
}

// CountWorkspaces returns how many workspaces exist. First-run setup uses
// it: setup is allowed only on an instance with none.
func (s *Store) CountWorkspaces(ctx context.Context) (int64, error) {
	var n int64
	if err := s.conn(ctx).Table("workspaces").Count(&n).Error; err != nil {
		return 0, wrap("count workspaces", err)
	}
	return n, nil
}
