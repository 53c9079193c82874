// Command xtreamd is an Xtream Codes–compatible IPTV panel backend: one binary in front of
// PostgreSQL. Run `xtreamd help` for its subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "xtreamd: %v\n", oneLine(err))
		os.Exit(1)
	}
}

// env is the outside world a subcommand sees; tests pass their own.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	e := env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		printUsage(stderr)
		return fmt.Errorf("no subcommand given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, e, rest)
	case "migrate":
		return cmdMigrate(ctx, e, rest)
	case "admin":
		return cmdAdmin(ctx, e, rest)
	case "healthcheck":
		return cmdHealthcheck(ctx, e, rest)
	case "import":
		return cmdImport(ctx, e, rest)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "xtreamd", version())
		return nil
	case "config-table":
		return cmdConfigTable(e)
	case "help", "-h", "--help", "-help":
		printUsage(stdout)
		return nil
	default:
		printUsage(stderr)
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: xtreamd <subcommand> [flags]

Subcommands:
  serve                 run the server (starts a private PostgreSQL when DATABASE_URL is empty)
  migrate up|status     apply pending schema migrations, or list them
  admin create          create an admin account (--username, password from --password-file,
                        XTREAMD_ADMIN_PASSWORD, or generated and printed once)
  admin set-password    replace an admin's password (same sources)
  healthcheck           exit 0 if this machine's server answers /readyz (container health check)
  import m3u FILE|URL   import a playlist into categories and streams, appended to --bouquet NAME
                        (created if missing; --kind live|radio|movie); re-running changes nothing
  import xmltv FILE|URL import an XMLTV guide (channels and programmes; --source-name NAME also
                        registers the URL for the server's scheduled refresh)
  version               print the version
  config-table          print the configuration table of the README

Every subcommand takes the configuration flags; run "xtreamd serve -h" to list them.
`)
}

// oneLine keeps a failure to one line of output, whatever the wrapped errors contain.
func oneLine(err error) string {
	s := strings.NewReplacer("\r\n", "; ", "\n", "; ", "\r", " ", "\t", " ").Replace(err.Error())
	return strings.Join(strings.Fields(s), " ")
}
