// Package migrations holds the SQL schema of xtreamd as tern migrations, embedded in the binary.
//
// Files are NNN_snake_name.sql, applied in order, each in its own transaction. A file is never
// edited once it is on main: add a new one.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
