package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/xtreamd/xtreamd/internal/credential"
	"github.com/xtreamd/xtreamd/internal/store"
)

func cmdAdmin(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "set-password") {
		return fmt.Errorf("admin: want \"admin create\" or \"admin set-password\"")
	}
	sub := args[0]
	var username, passwordFile, role string
	cfg, _, err := loadConfig(e, "admin "+sub, args[1:], func(fs *flag.FlagSet) {
		fs.StringVar(&username, "username", "", "admin user name (required)")
		fs.StringVar(&passwordFile, "password-file", "", "file holding the password (else XTREAMD_ADMIN_PASSWORD, else one is generated and printed once)")
		if sub == "create" {
			fs.StringVar(&role, "role", "admin", "role: admin, reseller or viewer")
		}
	})
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if username == "" {
		return errors.New("admin: --username is required")
	}
	password, generated, err := adminPassword(e, passwordFile)
	if err != nil {
		return err
	}
	hash, err := credential.Hash(password, credential.DefaultParams)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	db, err := openDatabase(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close(log)
	if err := db.store.Migrate(ctx); err != nil {
		return err
	}
	st := db.store
	if sub == "create" {
		if _, err := st.CreateAdmin(ctx, username, hash, role); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("admin %q already exists (use \"admin set-password\")", username)
			}
			if errors.Is(err, store.ErrInvalid) {
				return fmt.Errorf("admin %q: invalid username or role", username)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "created admin %q\n", username)
	} else {
		if err := st.SetAdminPassword(ctx, username, hash); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no admin %q", username)
			}
			return err
		}
		fmt.Fprintf(e.stdout, "password of admin %q replaced\n", username)
	}
	if generated {
		fmt.Fprintf(e.stdout, "password: %s\n(shown once; it is stored only as an argon2id hash)\n", password)
	}
	return nil
}

func adminPassword(e env, file string) (password string, generated bool, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", false, fmt.Errorf("password file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	} else if v := e.getenv("XTREAMD_ADMIN_PASSWORD"); v != "" {
		password = v
	} else {
		return randomPassword(16), true, nil
	}
	if len(password) < 8 {
		return "", false, errors.New("admin password: at least 8 characters")
	}
	return password, false, nil
}

// randomPassword returns n characters from [A-Za-z0-9], as the original panel generates them.
func randomPassword(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	return pick(alphabet, n)
}

func pick(alphabet string, n int) string {
	b := make([]byte, n)
	buf := make([]byte, 1)
	for i := 0; i < n; {
		_, _ = rand.Read(buf)
		if int(buf[0]) < 256-256%len(alphabet) { // reject to keep the choice uniform
			b[i] = alphabet[int(buf[0])%len(alphabet)]
			i++
		}
	}
	return string(b)
}
