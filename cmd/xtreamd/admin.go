package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/xtreamd/xtreamd/internal/accounts"
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
	password, err := adminPassword(e, passwordFile)
	if err != nil {
		return err
	}
	log := newLogger(e, cfg)
	db, err := openMigrated(ctx, cfg, log, shareCluster)
	if err != nil {
		return err
	}
	defer db.Close(log)
	acc := accounts.New(db.store, accounts.Options{})
	var cred accounts.Credentials
	if sub == "create" {
		cred, err = acc.CreateAdmin(ctx, accounts.NewAdmin{Username: username, Password: password, Role: accounts.Role(role)})
		if err != nil {
			return adminError(username, err)
		}
		fmt.Fprintf(e.stdout, "created admin %q\n", username)
	} else {
		cred, err = acc.SetAdminPassword(ctx, username, password)
		if err != nil {
			return adminError(username, err)
		}
		fmt.Fprintf(e.stdout, "password of admin %q replaced\n", username)
	}
	if cred.Generated {
		fmt.Fprintf(e.stdout, "password: %s\n(shown once; it is stored only as an argon2id hash)\n", cred.Password.Reveal())
	}
	return nil
}

// adminPassword reads the password from the file, else XTREAMD_ADMIN_PASSWORD, and checks it
// before any database is opened; "" means none was given and accounts generates one.
func adminPassword(e env, file string) (string, error) {
	var password string
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("password file: %w", err)
		}
		password = strings.TrimRight(string(b), "\r\n")
	} else if password = e.getenv("XTREAMD_ADMIN_PASSWORD"); password == "" {
		return "", nil
	}
	if err := accounts.DefaultPolicy().CheckAdminPassword(password); err != nil {
		return "", adminError("", err)
	}
	return password, nil
}

// adminError says what went wrong in the words of the command line.
func adminError(username string, err error) error {
	var fe *accounts.FieldError
	if !errors.As(err, &fe) {
		return err
	}
	switch {
	case fe.Field == "password":
		return fmt.Errorf("admin password: %s", fe.Reason)
	case errors.Is(err, accounts.ErrConflict):
		return fmt.Errorf("admin %q already exists (use \"admin set-password\")", username)
	case errors.Is(err, accounts.ErrNotFound):
		return fmt.Errorf("no admin %q", username)
	}
	return fmt.Errorf("admin %q: invalid username or role", username)
}
