package admin

import (
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The imports pages: start an M3U playlist or XMLTV guide import from a URL or an uploaded
// file, list the imports (newest first, the table body refreshing itself while any runs) and
// follow one: its progress refreshes in place (a fixed-height block, so nothing below it
// moves) until it ends, then the summary with every skip reason. These are internal/importer's
// background jobs exactly as the REST API starts and reads them (startImport, uploadImport,
// listImports, getImport, and refreshEPGSource from the EPG sources page): one job table, any
// instance answers it, and the same per-server queue limit refuses an import too many.

// importData is the imports list and the start form.
type importData struct {
	listData[ImportJob]
	Query string // the list's filters as a query string, for the rows' refresh URL
	Can   map[string]bool
}

// importJobData is one import's page.
type importJobData struct {
	Job ImportJob
}

// Running reports whether the job has not ended: its page keeps refreshing.
func (d importJobData) Running() bool { return d.Job.State == "queued" || d.Job.State == "running" }

// Percent is how much of the input has been read, 0 to 100 (0 while the size is unknown).
func (d importJobData) Percent() int64 {
	j := d.Job
	switch {
	case j.State == "done":
		return 100
	case j.BytesTotal == nil || *j.BytesTotal <= 0:
		return 0
	}
	return min(100, j.BytesRead*100 / *j.BytesTotal)
}

func (a *API) webImportRoutes() []webRoute {
	return []webRoute{
		{Method: fiber.MethodGet, Path: "/imports", Roles: staff, Handler: a.importsPage},
		{Method: fiber.MethodGet, Path: "/imports/rows", Roles: staff, Handler: a.importRows},
		{Method: fiber.MethodPost, Path: "/imports", Roles: staff, Handler: a.importStart},
		{Method: fiber.MethodGet, Path: "/imports/:id", Roles: staff, Handler: a.importPage},
		{Method: fiber.MethodGet, Path: "/imports/:id/progress", Roles: staff, Handler: a.importProgress},
	}
}

// importsView is the imports list (?cursor= pages it).
func (a *API) importsView(w *webCall) (*view, error) {
	q := requestQuery(w.c)
	v := w.view("Imports", "/imports", nil)
	page, err := webRun[Page[ImportJob]](w, "listImports", q, nil)
	if err != nil {
		if !v.refused(err) {
			return nil, err
		}
		page = Page[ImportJob]{Items: []ImportJob{}}
	}
	v.Data = importData{listData: webList(page, q, "/admin/imports"), Query: pageQuery(q),
		Can: w.can("startImport", "uploadImport")}
	return v, nil
}

func (a *API) importsPage(w *webCall) error {
	v, err := a.importsView(w)
	if err != nil {
		return err
	}
	return a.render(w.c, "imports", v)
}

// importRows is the list's table body alone, for its refresh.
func (a *API) importRows(w *webCall) error {
	v, err := a.importsView(w)
	if err != nil {
		return err
	}
	return a.renderPartial(w.c, "imports", "rows", v)
}

// importStart starts an import of the uploaded file (uploadImport) or of the URL
// (startImport), and opens its page.
func (a *API) importStart(w *webCall) error {
	form := formValues(w.c)
	file, err := w.c.FormFile("file")
	var j ImportJob
	switch {
	case err == nil && file.Size > 0 && strings.TrimSpace(form.Get("url")) != "":
		err = refuse("file", "give a URL or a file, not both")
	case err == nil && file.Size > 0:
		j, err = a.importUpload(w, form, file)
	default:
		j, err = webSubmitForm[ImportJob](w, "startImport", form)
	}
	if err != nil {
		return a.refusedOn(w, "imports", "Imports", "/imports", err, func() (*view, error) { return a.importsView(w) })
	}
	return w.c.Redirect(fmt.Sprintf("/admin/imports/%d", j.ID), fiber.StatusSeeOther)
}

// importUpload runs uploadImport with the file as its body and the form's options as its
// query, bounded as the operation bounds its body.
func (a *API) importUpload(w *webCall, form url.Values, fh *multipart.FileHeader) (ImportJob, error) {
	if fh.Size > uploadMaxBody {
		p := problem(fiber.StatusRequestEntityTooLarge, ProblemTooLarge,
			fmt.Sprintf("the file may be at most %d KiB; import a larger one by URL", uploadMaxBody>>10))
		p.Field = "file"
		return ImportJob{}, p
	}
	f, err := fh.Open()
	if err != nil {
		return ImportJob{}, fmt.Errorf("web: open the upload: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, uploadMaxBody))
	if err != nil {
		return ImportJob{}, fmt.Errorf("web: read the upload: %w", err)
	}
	q := url.Values{"kind": {form.Get("kind")}, "bouquet": {strings.TrimSpace(form.Get("bouquet"))},
		"stream_kind": {form.Get("stream_kind")}, "file_name": {clip(fh.Filename, 256)}}
	return webRun[ImportJob](w, "uploadImport", q, data)
}

// importJobView is import :id's page.
func (a *API) importJobView(w *webCall) (*view, error) {
	j, err := webRun[ImportJob](w, "getImport", nil, nil)
	if err != nil {
		return nil, err
	}
	return w.view(fmt.Sprintf("Import %d", j.ID), "/imports", importJobData{Job: j}), nil
}

func (a *API) importPage(w *webCall) error {
	v, err := a.importJobView(w)
	if err != nil {
		return a.failed(w, "Import", "/imports", err)
	}
	return a.render(w.c, "import", v)
}

// importProgress is the job's progress block alone, for its refresh.
func (a *API) importProgress(w *webCall) error {
	v, err := a.importJobView(w)
	if err != nil {
		return a.failed(w, "Import", "/imports", err)
	}
	return a.renderPartial(w.c, "import", "progress", v)
}
