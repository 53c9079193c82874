package admin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The static files of the web page (web/static): each is served under a URL holding a hash of
// its content (/admin/static/xtreamd.3fa2c1d09b.css), cached by browsers for a year, so a new
// release's file is a new URL and never a stale copy. They are compressed once, at start.

// asset is one static file.
type asset struct {
	name, hashed string
	contentType  string
	body, gz     []byte
}

// assets are the static files by hashed name (and by plain name, for pages of other surfaces
// that cannot know the hash: served without the long cache).
type assets struct {
	byHashed map[string]*asset
	byName   map[string]*asset
}

func loadAssets(fsys fs.FS) (*assets, error) {
	as := &assets{byHashed: map[string]*asset{}, byName: map[string]*asset{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static/")
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		a := &asset{name: name, hashed: strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext,
			contentType: mime.TypeByExtension(ext), body: body}
		if a.contentType == "" {
			a.contentType = "application/octet-stream"
		}
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		_ = zw.Close()
		if buf.Len() < len(body) {
			a.gz = buf.Bytes()
		}
		as.byHashed[a.hashed], as.byName[name] = a, a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web static files: %w", err)
	}
	return as, nil
}

// url is the content-hashed URL of a static file; a missing name is a template bug, found
// by the first render of the page.
func (as *assets) url(name string) (string, error) {
	a, ok := as.byName[name]
	if !ok {
		return "", fmt.Errorf("no static file %q", name)
	}
	return "/admin/static/" + a.hashed, nil
}

// AssetURL is the content-hashed URL of a file of web/static ("xtreamd.css"), for other
// surfaces' pages built on the same layout (the device activation page).
func (a *API) AssetURL(name string) (string, error) { return a.kit.assets.url(name) }

// static answers a static file: by its hashed name with a year's cache, by its plain name
// revalidated every time.
func (a *API) static(c *fiber.Ctx) error {
	name := c.Params("name")
	f, immutable := a.kit.assets.byHashed[name]
	if !immutable {
		if f = a.kit.assets.byName[name]; f == nil {
			return edge404(c)
		}
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if immutable {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "no-cache")
	}
	if f.gz != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(f.gz)
	}
	return c.Send(f.body)
}

func edge404(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(fiber.StatusNotFound).SendString("not found")
}
