package store

import (
	"context"
	"encoding/json"
	"fmt"
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
