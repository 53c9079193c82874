package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SetSetting stores a setting's JSON value.
func (s *Store) SetSetting(ctx context.Context, key string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Errorf("set setting %s: %w", key, err)
	}
	const q = `INSERT INTO settings (key, value) VALUES ($1, $2::jsonb)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`
	if _, err := s.q.Exec(ctx, q, key, string(b)); err != nil {
		return fmt.Errorf("set setting %s: %w", key, interpret(err))
	}
	return nil
}

// settings reads every stored setting; a key without a row keeps its default in code.
func (s *Store) settings(ctx context.Context) (map[string]json.RawMessage, error) {
	rows, _ := s.q.Query(ctx, `SELECT key, value::text FROM settings`)
	kv, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]string, error) {
		var k, v string
		err := row.Scan(&k, &v)
		return [2]string{k, v}, err
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(kv))
	for _, p := range kv {
		out[p[0]] = json.RawMessage(p[1])
	}
	return out, nil
}

// Settings reads every stored setting as its JSON value; a key without a row keeps its
// default in code.
func (s *Store) Settings(ctx context.Context) (map[string]json.RawMessage, error) {
	out, err := s.settings(ctx)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", interpret(err))
	}
	return out, nil
}

// DeleteSetting removes a setting's row, so its default in code applies again. It writes
// nothing (and bumps no version) when there is no row.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	const q = `DELETE FROM settings WHERE key = $1`
	var exists bool
	if err := s.q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM settings WHERE key = $1)`, key).Scan(&exists); err != nil {
		return fmt.Errorf("delete setting %s: %w", key, interpret(err))
	}
	if !exists {
		return nil
	}
	if _, err := s.q.Exec(ctx, q, key); err != nil {
		return fmt.Errorf("delete setting %s: %w", key, interpret(err))
	}
	return nil
}

// Setting returns the stored JSON value of one setting; ErrNotFound when it keeps its default.
func (s *Store) Setting(ctx context.Context, key string) (json.RawMessage, error) {
	var v string
	if err := s.q.QueryRow(ctx, `SELECT value::text FROM settings WHERE key = $1`, key).Scan(&v); err != nil {
		return nil, fmt.Errorf("setting %s: %w", key, interpret(err))
	}
	return json.RawMessage(v), nil
}
