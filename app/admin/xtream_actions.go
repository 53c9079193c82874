package admin

import (
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/xtreamd/xtreamd/internal/accounts"
	"github.com/xtreamd/xtreamd/internal/mag"
	"github.com/xtreamd/xtreamd/internal/store"
)

// user create: user_data[...] → {"result":true,"created_id":…,"username":…,"password":…}.
func (a *API) xtreamUserCreate(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	d, ok := parseUserData(req.userData)
	if !ok {
		return xtreamError("PARAMETER ERROR"), nil
	}
	creds, err := a.d.Accounts.AddLines(ctx, p, []accounts.NewLine{d.newLine()})
	if err != nil {
		if ans, ok := xtreamRefusal(err, "EXISTS"); ok {
			return ans, nil
		}
		return nil, err
	}
	c := creds[0]
	return object{{"result", true}, {"created_id", c.ID}, {"username", c.Username}, {"password", c.Password.Reveal()}}, nil
}

// line finds the line of username and password, as the original's edit and info do.
func (a *API) xtreamLine(ctx context.Context, p accounts.Principal, req xtreamRequest) (store.Line, object, error) {
	if req.username == "" || req.password == "" {
		return store.Line{}, xtreamError("PARAMETER ERROR (user/pass)"), nil
	}
	l, err := a.d.Accounts.LineByCredentials(ctx, p, req.username, req.password)
	switch {
	case errors.Is(err, accounts.ErrNotFound), errors.Is(err, accounts.ErrForbidden):
		return store.Line{}, xtreamError("NOT EXISTS"), nil
	case err != nil:
		return store.Line{}, nil, err
	}
	return l, nil, nil
}

// user edit: username + password name the line, user_data[...] the columns to set.
func (a *API) xtreamUserEdit(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	l, refusal, err := a.xtreamLine(ctx, p, req)
	if refusal != nil || err != nil {
		return refusal, err
	}
	d, ok := parseUserData(req.userData)
	if !ok {
		return xtreamError("PARAMETER ERROR"), nil
	}
	if _, _, err := a.applyUserData(ctx, p, l.ID, d); err != nil { // the original answers true whatever changed
		if ans, ok := xtreamRefusal(err, ""); ok {
			return ans, nil
		}
		return nil, err
	}
	return xtreamOK, nil
}

// applyUserData writes d to line id (a new password apart from the rest) and reports whether
// anything changed. An empty password is none given: a billing system posts every field of its
// form, and a reset with none would make up a password that no answer shows, locking the
// subscriber out. A new password is checked before anything is written, so that a refused one
// leaves the line's other columns as they were too.
func (a *API) applyUserData(ctx context.Context, p accounts.Principal, id int64, d userData) (store.Line, bool, error) {
	if d.password != nil && *d.password == "" {
		d.password = nil
	}
	if d.password != nil {
		if err := a.d.Accounts.Policy().CheckLinePassword(*d.password); err != nil {
			return store.Line{}, false, err
		}
	}
	before, err := a.d.Accounts.Line(ctx, p, id)
	if err != nil {
		return store.Line{}, false, err
	}
	after, err := a.d.Accounts.UpdateLine(ctx, p, id, d.patch())
	if err != nil {
		return store.Line{}, false, err
	}
	changed := d.password != nil
	if d.password != nil {
		if _, err := a.d.Accounts.ResetLinePassword(ctx, p, id, *d.password); err != nil {
			return store.Line{}, false, err
		}
	}
	before.UpdatedAt, before.PasswordHash = after.UpdatedAt, after.PasswordHash
	return after, changed || !reflect.DeepEqual(before, after), nil
}

// user info: {"result":true,"user_info":{…}}: the original's users row (strings) with its
// computed members, but never the password.
func (a *API) xtreamUserInfo(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	l, refusal, err := a.xtreamLine(ctx, p, req)
	if refusal != nil || err != nil {
		return refusal, err
	}
	info, err := a.userInfo(ctx, l)
	if err != nil {
		return nil, err
	}
	return object{{"result", true}, {"user_info", info}}, nil
}

// userInfo is a line as the original's GetUserInfo shows it: every value a string as MySQL
// returns them, the JSON columns decoded, then active_cons, output_formats (keyed by output
// key), the ISP members and the entitled channel and series ids. The password column is left
// out: xtreamd shows a password only when it is made.
func (a *API) userInfo(ctx context.Context, l store.Line) (object, error) {
	active, err := a.d.Conns.Count(ctx, l.ID)
	if err != nil {
		return nil, err
	}
	ips := make([]string, 0, len(l.AllowedIPs))
	for _, ip := range l.AllowedIPs {
		ips = append(ips, prefixString(ip))
	}
	var exp any
	if l.ExpDate != nil {
		exp = unixString(*l.ExpDate)
	}
	var isp any = ""
	if l.ISPName != nil {
		isp = *l.ISPName
	}
	channels, series := a.entitled(l.BouquetIDs)
	return object{
		{"id", strconv.FormatInt(l.ID, 10)}, {"member_id", idString(l.OwnerAdminID)}, {"username", l.Username},
		{"exp_date", exp}, {"admin_enabled", flagString(!l.Banned)}, {"enabled", flagString(!l.Disabled)},
		{"admin_notes", l.AdminNotes}, {"reseller_notes", l.ResellerNotes}, {"bouquet", nonNil(l.BouquetIDs)},
		{"max_connections", strconv.Itoa(l.MaxConnections)}, {"is_restreamer", flagString(l.IsRestreamer)},
		{"allowed_ips", ips}, {"allowed_ua", nonNil(l.AllowedUserAgents)}, {"is_trial", flagString(l.IsTrial)},
		{"created_at", unixString(l.CreatedAt)}, {"created_by", "0"}, {"pair_id", nil}, {"is_mag", flagString(l.IsMAG)},
		{"is_e2", "0"}, {"force_server_id", "0"}, {"is_isplock", flagString(l.ISPLock)}, {"as_number", asNumber(l.ISPASN)},
		{"isp_desc", isp}, {"forced_country", deref(l.ForcedCountry)}, {"is_stalker", "0"},
		{"bypass_ua", flagString(l.BypassUABlock)}, {"play_token", ""}, {"active_cons", strconv.Itoa(active)},
		{"pair_line_info", []any{}}, {"output_formats", outputs(l)}, {"con_isp_name", nil}, {"con_isp_type", nil},
		{"isp_is_server", 0}, {"isp_violate", 0}, {"channel_ids", channels}, {"series_ids", series},
	}, nil
}

func unixString(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func flagString(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func idString(id *int64) string {
	if id == nil {
		return "0"
	}
	return strconv.FormatInt(*id, 10)
}

func asNumber(asn *int64) any {
	if asn == nil {
		return nil
	}
	return strconv.FormatInt(*asn, 10)
}

// outputs is output_formats: the original's access_output rows keyed by output_key.
func outputs(l store.Line) object {
	rows := map[string]object{
		"m3u8": {{"access_output_id", "1"}, {"output_name", "HLS"}, {"output_key", "m3u8"}, {"output_ext", "m3u8"}},
		"ts":   {{"access_output_id", "2"}, {"output_name", "MPEGTS"}, {"output_key", "ts"}, {"output_ext", "ts"}},
		"rtmp": {{"access_output_id", "3"}, {"output_name", "RTMP"}, {"output_key", "rtmp"}, {"output_ext", ""}},
	}
	out := object{}
	for _, key := range []string{"m3u8", "ts", "rtmp"} {
		for _, f := range l.AllowedOutputFormats {
			if f == key {
				out = append(out, member{key, append(rows[key], member{"user_id", strconv.FormatInt(l.ID, 10)})})
			}
		}
	}
	return out
}

// entitled lists the stream (live and movie) and series ids the bouquets hold, in bouquet
// order, from the current catalog.
func (a *API) entitled(bouquetIDs []int64) ([]int64, []int64) {
	streams, series := []int64{}, []int64{}
	if a.d.Catalog == nil {
		return streams, series
	}
	e := a.d.Catalog.Current().Entitlement(bouquetIDs)
	for _, s := range append(e.Live(0), e.VOD(0)...) {
		streams = append(streams, s.ID)
	}
	for _, s := range e.Series(0) {
		series = append(series, s.ID)
	}
	return streams, series
}

// stb create: user_data[mac] and the line's columns; username and password are generated.
func (a *API) xtreamSTBCreate(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	macValue := req.userData["mac"]
	m, err := mag.ParseMAC(strings.TrimSpace(macValue.s))
	if macValue.s == "" || macValue.isList || err != nil {
		return xtreamError("PARAMETER ERROR (mac)"), nil
	}
	delete(req.userData, "username") // the original always generates both
	delete(req.userData, "password")
	delete(req.userData, "output_formats") // and gives a MAG line every format
	d, ok := parseUserData(req.userData)
	if !ok {
		return xtreamError("PARAMETER ERROR"), nil
	}
	nl := d.newLine()
	nl.AllowedUserAgents = nil // the original resets allowed_ua for boxes
	if _, _, err := a.d.Accounts.AddDevice(ctx, p, accounts.NewDevice{MAC: m, Line: nl}); err != nil {
		if ans, ok := xtreamRefusal(err, "EXISTS"); ok {
			return ans, nil
		}
		return nil, err
	}
	return xtreamOK, nil
}

// device finds the device of the mac parameter.
func (a *API) xtreamDevice(ctx context.Context, p accounts.Principal, raw string) (store.DeviceRecord, bool, error) {
	m, err := mag.ParseMAC(strings.TrimSpace(raw))
	if err != nil {
		return store.DeviceRecord{}, false, nil
	}
	d, err := a.d.Accounts.DeviceByMAC(ctx, p, m)
	if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrForbidden) {
		return store.DeviceRecord{}, false, nil
	}
	return d, err == nil, err
}

// stb edit: mac names the device, user_data[...] the columns of its line to set;
// {"result":false} when nothing changed (or no such device), as the original's affected rows.
func (a *API) xtreamSTBEdit(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	if req.mac == "" {
		return xtreamError("PARAMETER ERROR (user/pass)"), nil // sic: the original's message
	}
	d, ok := parseUserData(req.userData)
	if !ok {
		return xtreamError("PARAMETER ERROR"), nil
	}
	dev, found, err := a.xtreamDevice(ctx, p, req.mac)
	if err != nil || !found {
		return xtreamFalse, err
	}
	_, changed, err := a.applyUserData(ctx, p, dev.LineID, d)
	if err != nil {
		if ans, ok := xtreamRefusal(err, ""); ok {
			return ans, nil
		}
		return nil, err
	}
	if !changed {
		return xtreamFalse, nil
	}
	return xtreamOK, nil
}

// stb info: {"result":true,"mag_device":{…},"user_info":{…},"pair_line_info":[]}.
func (a *API) xtreamSTBInfo(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	if req.mac == "" {
		return xtreamError("PARAMETER ERROR (mac)"), nil
	}
	dev, found, err := a.xtreamDevice(ctx, p, req.mac)
	if err != nil || !found {
		return xtreamError("NOT EXISTS"), err
	}
	l, err := a.d.Accounts.Line(ctx, p, dev.LineID)
	if err != nil {
		return nil, err
	}
	info, err := a.userInfo(ctx, l)
	if err != nil {
		return nil, err
	}
	device := object{{"mag_id", strconv.FormatInt(dev.ID, 10)}, {"user_id", strconv.FormatInt(dev.LineID, 10)},
		{"mac", dev.MAC}, {"sn", dev.SerialNumber}, {"stb_type", dev.STBType}, {"image_version", dev.ImageVersion},
		{"lock_device", flagString(dev.LockDevice)}, {"locale", dev.Locale}, {"created", unixString(dev.CreatedAt)}}
	return object{{"result", true}, {"mag_device", device}, {"user_info", info}, {"pair_line_info", []any{}}}, nil
}

// reg_user list: the resellers, as the original's reg_users rows.
func (a *API) xtreamResellers(c *fiber.Ctx, p accounts.Principal) error {
	out := []object{}
	var after int64
	for {
		page, err := a.d.Accounts.ListAdmins(c.UserContext(), p, store.AdminFilter{Role: string(accounts.RoleReseller),
			AfterID: after, Limit: store.MaxPage})
		if err != nil {
			return err
		}
		for _, r := range page {
			var last any
			if r.LastLoginAt != nil {
				last = unixString(*r.LastLoginAt)
			}
			out = append(out, object{{"id", strconv.FormatInt(r.ID, 10)}, {"username", r.Username},
				{"credits", strconv.FormatInt(r.Credits, 10)}, {"group_id", "2"}, {"group_name", "Resellers"},
				{"last_login", last}, {"date_registered", unixString(r.CreatedAt)}, {"email", ""}, {"ip", ""},
				{"status", flagString(!r.Disabled)}})
		}
		if len(page) < store.MaxPage {
			break
		}
		after = page[len(page)-1].ID
	}
	return writeXtream(c, out)
}

// reg_user credits: amount (+/−) to the reseller id or username.
func (a *API) xtreamCredits(ctx context.Context, p accounts.Principal, req xtreamRequest) (object, error) {
	amount, err := strconv.ParseInt(strings.TrimSpace(req.amount), 10, 64)
	if err != nil || amount == 0 || (req.id == "" && req.username == "") {
		return xtreamError("PARAMETER ERROR (amount & id||username)"), nil
	}
	target, err := a.reseller(ctx, p, req)
	if err != nil {
		if errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrForbidden) {
			return xtreamError("NOT EXISTS"), nil
		}
		return nil, err
	}
	_, err = a.d.Accounts.AdjustCredits(ctx, p, target, amount, "api.php")
	switch {
	case errors.Is(err, accounts.ErrInsufficientCredits):
		return object{{"result", true}, {"error", "NOT ENOUGH CREDITS"}}, nil // sic: result true
	case errors.Is(err, accounts.ErrInvalid), errors.Is(err, accounts.ErrForbidden):
		return xtreamError("NOT EXISTS"), nil
	case err != nil:
		return nil, err
	}
	return xtreamOK, nil
}

func (a *API) reseller(ctx context.Context, p accounts.Principal, req xtreamRequest) (int64, error) {
	if req.id != "" {
		id, err := strconv.ParseInt(strings.TrimSpace(req.id), 10, 64)
		if err != nil || id <= 0 {
			return 0, accounts.ErrNotFound
		}
		_, err = a.d.Accounts.Admin(ctx, p, id)
		return id, err
	}
	page, err := a.d.Accounts.ListAdmins(ctx, p, store.AdminFilter{Username: req.username, Limit: store.MaxPage})
	if err != nil {
		return 0, err
	}
	for _, r := range page {
		if r.Username == req.username {
			return r.ID, nil
		}
	}
	return 0, accounts.ErrNotFound
}
