package portal

import (
	"embed"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// /c/ and /stalker_portal/c/ (spec §5.1): the directory a MAG box's portal URL points at. A MAG
// box loads index.html and the Stalker JavaScript client from it; xtreamd ships no client
// bundle (it is Infomir's code), so the operator may place one in --portal-client-dir. Without
// one, the minimal files in client/ are served: xpcom.common.js with the ajax_loader line
// headless clients extract the API URL from, version.js with the portal version they read, and
// an index.html saying no client is installed.

//go:embed client
var fallbackFiles embed.FS

// clientFiles serves one of the two.
type clientFiles struct {
	fs fs.FS
}

func newClientFiles(dir string) (*clientFiles, error) {
	if dir == "" {
		sub, err := fs.Sub(fallbackFiles, "client")
		if err != nil {
			return nil, fmt.Errorf("portal client files: %w", err)
		}
		return &clientFiles{fs: sub}, nil
	}
	// os.Root keeps every open inside dir, symbolic links included.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("portal client dir: %w", err)
	}
	return &clientFiles{fs: root.FS()}, nil
}

// serve answers a file under the prefix: index.html for a directory, 404 for anything
// missing, hidden (a name starting with ".") or outside the directory. The prefix without its
// slash redirects to it, where the bundle's relative URLs resolve.
func (f *clientFiles) serve(c *fiber.Ctx) error {
	raw := c.Params("*")
	if raw == "" && !strings.HasSuffix(c.Path(), "/") {
		return c.Redirect(c.Path()+"/", fiber.StatusMovedPermanently)
	}
	name, ok := cleanName(raw)
	if !ok {
		return notFound(c)
	}
	file, err := f.fs.Open(name)
	if err != nil {
		return notFound(c)
	}
	info, err := file.Stat()
	if err == nil && info.IsDir() {
		file.Close()
		if file, err = f.fs.Open(path.Join(name, "index.html")); err != nil {
			return notFound(c)
		}
		name = path.Join(name, "index.html")
		info, err = file.Stat()
	}
	if err != nil || !info.Mode().IsRegular() {
		file.Close()
		return notFound(c)
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	c.Set(fiber.HeaderContentType, ctype)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if !info.ModTime().IsZero() {
		c.Set(fiber.HeaderLastModified, info.ModTime().UTC().Format(http.TimeFormat))
	}
	return c.SendStream(file, int(info.Size())) // fasthttp closes the file after sending it
}

// cleanName turns the wildcard of /c/* into a name inside the directory: "" and a trailing
// slash name the directory, dot-files and escapes are refused.
func cleanName(raw string) (string, bool) {
	if strings.ContainsAny(raw, "\x00\\%") {
		return "", false
	}
	name := strings.TrimPrefix(path.Clean("/"+raw), "/")
	if name == "" {
		return ".", true
	}
	for _, seg := range strings.Split(name, "/") {
		if strings.HasPrefix(seg, ".") {
			return "", false
		}
	}
	return name, fs.ValidPath(name)
}

func notFound(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(fiber.StatusNotFound).SendString("not found")
}
