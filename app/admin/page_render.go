package admin

import (
	"html/template"
	"time"

	"github.com/xtreamd/xtreamd/web"
)

// parsePageTemplates parses the catalog-side pages' templates (web/templates/page-*.html)
// with their functions.
func parsePageTemplates(loc *time.Location) (*template.Template, error) {
	return template.New("pages").Funcs(pageFuncs(loc)).ParseFS(web.FS, "templates/page-*.html")
}
