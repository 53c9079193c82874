package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// cmdHealthcheck asks this machine's server for /readyz: the container health check, which
// needs no curl in the image.
func cmdHealthcheck(ctx context.Context, e env, args []string) error {
	cfg, _, err := loadConfig(e, "healthcheck", args, nil)
	if errors.Is(err, errHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	host, port, _ := net.SplitHostPort(cfg.Listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /readyz answered %s", resp.Status)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
