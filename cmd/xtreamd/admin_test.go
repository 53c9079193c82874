package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xtreamd/xtreamd/internal/accounts"
)

// TestAdminError: the command line words each refusal of accounts as it always has.
func TestAdminError(t *testing.T) {
	t.Parallel()
	short := accounts.DefaultPolicy().CheckAdminPassword("short")
	_, badRole := accounts.ParseRole("root")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"short password", fmt.Errorf("create admin: %w", short), "admin password: at least 8 characters"},
		{"taken", fmt.Errorf("create admin: %w", &accounts.FieldError{Field: "username", Reason: "taken", Kind: accounts.ErrConflict}),
			`admin "root" already exists (use "admin set-password")`},
		{"unknown", &accounts.FieldError{Field: "username", Reason: "no such admin", Kind: accounts.ErrNotFound}, `no admin "root"`},
		{"bad role", badRole, `admin "root": invalid username or role`},
		{"database down", fmt.Errorf("create admin: connection refused"), "create admin: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := adminError("root", tt.err).Error(); got != tt.want {
				t.Fatalf("adminError = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAdminPassword(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := func(content string) string {
		p := filepath.Join(dir, fmt.Sprintf("pw%d", len(content)))
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, file, env, want, wantErr string
	}{
		{"file, newline trimmed", file("correct-horse\r\n"), "from-env-ignored", "correct-horse", ""},
		{"environment", "", "from-the-env", "from-the-env", ""},
		{"none: generated later", "", "", "", ""},
		{"short file", file("short\n"), "", "", "admin password: at least 8 characters"},
		{"empty file", file(""), "", "", "admin password: at least 8 characters"},
		{"missing file", filepath.Join(dir, "absent"), "", "", "password file: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := env{getenv: envFrom(map[string]string{"XTREAMD_ADMIN_PASSWORD": tt.env})}
			got, err := adminPassword(e, tt.file)
			if tt.wantErr != "" {
				if err == nil || len(err.Error()) < len(tt.wantErr) || err.Error()[:len(tt.wantErr)] != tt.wantErr {
					t.Fatalf("adminPassword = %q, %v; want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("adminPassword = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}
