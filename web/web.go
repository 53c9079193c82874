// Package web holds the admin web page's templates and static assets, embedded in the binary
// and served by app/admin.
package web

import "embed"

// FS holds templates/ and static/.
//
//go:embed templates static
var FS embed.FS
