package partner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/config"
	"github.com/xtreamd/xtreamd/internal/input"
	"github.com/xtreamd/xtreamd/internal/store"
)

// The admin side: register, change, re-key and revoke partner clients, issue initial access
// tokens, rotate the signing keys. Each change is checked, written with its audit entry in one
// transaction, and reaches every instance through the partner and partner_key changes.

// Partner is a partner client as admins see it: never its secret.
type Partner struct {
	ID           int64          `json:"id" audit:"-"`
	ClientID     string         `json:"client_id"`
	Name         string         `json:"name"`
	Scopes       []string       `json:"scopes"`
	BouquetIDs   []int64        `json:"bouquet_ids"`
	LineIDs      []int64        `json:"line_ids"`
	AllowedIPs   []netip.Prefix `json:"allowed_ips"`
	Registration string         `json:"registration" audit:"-"` // "admin" or "dynamic"
	Generation   int            `json:"secret_generation"`
	CreatedAt    time.Time      `json:"created_at" audit:"-"`
	UpdatedAt    time.Time      `json:"updated_at" audit:"-"`
	RevokedAt    *time.Time     `json:"revoked_at"`
}

func partnerOf(p store.Partner) Partner {
	return Partner{ID: p.ID, ClientID: p.ClientID, Name: p.Name, Scopes: p.Scopes, BouquetIDs: p.BouquetIDs,
		LineIDs: p.LineIDs, AllowedIPs: p.AllowedIPs, Registration: p.Registration, Generation: p.SecretGeneration,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, RevokedAt: p.RevokedAt}
}

// Grant is what a partner client may do: the scopes it may ask for, the lines it may act for
// (the lines listed and every line holding a bouquet listed) and the networks it may call from.
type Grant struct {
	Scopes     []string
	BouquetIDs []int64
	LineIDs    []int64
	AllowedIPs []netip.Prefix // at least one: 0.0.0.0/0 and ::/0 say "anywhere"
}

// Limits of a grant.
const (
	maxName     = 128
	maxBouquets = 1000
	maxLines    = 10000
	maxNetworks = 64
)

// checkGrant checks g (its ids against st) and puts its networks in canonical form; prefix
// names the fields ("" or "grant.").
func checkGrant(ctx context.Context, st *store.Store, g *Grant, prefix string) error {
	if len(g.Scopes) == 0 || len(g.Scopes) > len(Scopes) {
		return input.Invalid(prefix+"scopes", "one or more of "+strings.Join(Scopes, ", "))
	}
	for i, sc := range g.Scopes {
		if !slices.Contains(Scopes, sc) || slices.Contains(g.Scopes[:i], sc) {
			return input.Invalid(prefix+"scopes", "each once, one of "+strings.Join(Scopes, ", "))
		}
	}
	if len(g.AllowedIPs) == 0 || len(g.AllowedIPs) > maxNetworks {
		return input.Invalid(prefix+"allowed_ips", "1 to 64 networks (0.0.0.0/0 and ::/0 for anywhere)")
	}
	// The canonical networks go into a slice of their own: the caller's backing array is
	// theirs (a Grant passed by value still shares it), and writing into it raced with
	// another Create given the same networks.
	nets := make([]netip.Prefix, len(g.AllowedIPs))
	for i, n := range g.AllowedIPs {
		if !n.IsValid() {
			return input.Invalid(prefix+"allowed_ips", "networks such as 192.0.2.0/24")
		}
		nets[i] = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-unmappedBits(n)).Masked()
	}
	g.AllowedIPs = nets
	if err := checkIDs(ctx, st, store.TableBouquets, prefix+"bouquet_ids", g.BouquetIDs, maxBouquets); err != nil {
		return err
	}
	return checkIDs(ctx, st, store.TableLines, prefix+"line_ids", g.LineIDs, maxLines)
}

// unmappedBits is how many bits an IPv4-mapped network loses as IPv4.
func unmappedBits(n netip.Prefix) int {
	if n.Addr().Is4In6() {
		return min(96, n.Bits())
	}
	return 0
}

// checkIDs checks a list of ids of table: positive, each once, at most limit, all existing.
func checkIDs(ctx context.Context, st *store.Store, table store.Table, field string, ids []int64, limit int) error {
	if len(ids) > limit {
		return input.Invalid(field, "at most "+strconv.Itoa(limit))
	}
	for i, id := range ids {
		if id <= 0 || slices.Contains(ids[:i], id) {
			return input.Invalid(field, "positive ids, each once")
		}
	}
	unknown, err := st.UnknownIDs(ctx, table, ids)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		return input.Invalid(field, "no such id: "+strconv.FormatInt(unknown[0], 10))
	}
	return nil
}

// checkName: a partner's name is one line of text an admin reads in lists, audit entries and
// the page's headings; a line break or other control character in it (a registrant's
// "Shop\r\nX-Injected: 1") would only ever be an attempt to forge a second line.
func checkName(field, name string) error {
	if name == "" || !input.Text(name, 4*maxName) || len([]rune(name)) > maxName {
		return input.Invalid(field, "1 to 128 characters")
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return input.Invalid(field, "no line breaks or other control characters")
	}
	return nil
}

// Credentials are a client's id and secret, handed out once (the secret prints as
// [redacted]).
type Credentials struct {
	Partner Partner
	Secret  config.Secret
}

// Create registers a partner client and returns it with its secret, shown this once.
func (s *Service) Create(ctx context.Context, a audit.Actor, name string, g Grant) (Credentials, error) {
	if err := checkName("name", name); err != nil {
		return Credentials{}, fmt.Errorf("create partner: %w", err)
	}
	if err := checkGrant(ctx, s.store, &g, ""); err != nil {
		return Credentials{}, fmt.Errorf("create partner: %w", err)
	}
	in := store.PartnerInput{Name: name, Scopes: g.Scopes, BouquetIDs: g.BouquetIDs, LineIDs: g.LineIDs, AllowedIPs: g.AllowedIPs,
		CreatedByAdminID: adminOf(a)}
	creds, err := s.create(ctx, s.store, a, in, "partner.create", nil)
	if err != nil {
		return Credentials{}, fmt.Errorf("create partner: %w", err)
	}
	s.reread(ctx, creds.Partner.ID)
	return creds, nil
}

// create stores a new client with a fresh id and secret and its audit entry (extra: more of
// it), on one transaction of st (a savepoint when st is one already).
func (s *Service) create(ctx context.Context, st *store.Store, a audit.Actor, in store.PartnerInput, action string,
	extra map[string]any) (Credentials, error) {
	secret, sum := newSecret(secretPrefix)
	var p store.Partner
	err := st.InTx(ctx, func(tx *store.Store) error {
		var err error
		if p, err = tx.CreatePartner(ctx, newClientID(), sum, in); err != nil {
			return err
		}
		view := partnerOf(p)
		return audit.Record(ctx, tx, a, audit.Entry{Action: action, TargetType: "partner", TargetID: strconv.FormatInt(p.ID, 10),
			After: map[string]any{"client_id": view.ClientID, "name": view.Name, "scopes": view.Scopes,
				"bouquet_ids": view.BouquetIDs, "line_ids": view.LineIDs, "allowed_ips": view.AllowedIPs}, Extra: extra})
	})
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{Partner: partnerOf(p), Secret: config.Secret(secret)}, nil
}

// reread reads client id into the directory at once after a change this instance made (the
// others read it on the NOTIFY); failing that, Run reads it.
func (s *Service) reread(ctx context.Context, id int64) {
	p, err := s.store.PartnerByID(ctx, id)
	if err != nil {
		s.dir.stale(id)
		s.wake()
		return
	}
	s.dir.put(id, p, p.RevokedAt == nil)
}

// List returns up to limit partner clients after afterID, in id order.
func (s *Service) List(ctx context.Context, afterID int64, limit int) ([]Partner, error) {
	rows, err := s.store.ListPartners(ctx, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	out := make([]Partner, len(rows))
	for i, p := range rows {
		out[i] = partnerOf(p)
	}
	return out, nil
}

// Get returns partner client id (not found on "id").
func (s *Service) Get(ctx context.Context, id int64) (Partner, error) {
	p, err := s.store.PartnerByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Partner{}, fmt.Errorf("partner: %w", input.NotFound("id", "no such partner"))
	} else if err != nil {
		return Partner{}, fmt.Errorf("partner: %w", err)
	}
	return partnerOf(p), nil
}

// Patch is a change of a partner client: nil fields stay.
type Patch struct {
	Name       *string
	Scopes     *[]string
	BouquetIDs *[]int64
	LineIDs    *[]int64
	AllowedIPs *[]netip.Prefix
}

// Update changes partner client id. Narrowing its scope ends, on every instance, the open
// streams its tokens opened for lines it may no longer act for; a revoked client cannot change.
func (s *Service) Update(ctx context.Context, a audit.Actor, id int64, patch Patch) (Partner, error) {
	var after store.Partner
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		before, err := lockActive(ctx, tx, id)
		if err != nil {
			return err
		}
		in := store.PartnerInput{Name: before.Name, Scopes: before.Scopes, BouquetIDs: before.BouquetIDs,
			LineIDs: before.LineIDs, AllowedIPs: before.AllowedIPs}
		apply(&in.Name, patch.Name)
		apply(&in.Scopes, patch.Scopes)
		apply(&in.BouquetIDs, patch.BouquetIDs)
		apply(&in.LineIDs, patch.LineIDs)
		apply(&in.AllowedIPs, patch.AllowedIPs)
		if err := checkName("name", in.Name); err != nil {
			return err
		}
		g := Grant{Scopes: in.Scopes, BouquetIDs: in.BouquetIDs, LineIDs: in.LineIDs, AllowedIPs: slices.Clone(in.AllowedIPs)}
		if err := checkGrant(ctx, tx, &g, ""); err != nil {
			return err
		}
		in.AllowedIPs = g.AllowedIPs
		if after, err = tx.UpdatePartner(ctx, id, in); err != nil {
			return err
		}
		b, aft := audit.Diff(partnerOf(before), partnerOf(after))
		return audit.Record(ctx, tx, a, audit.Entry{Action: "partner.update", TargetType: "partner",
			TargetID: strconv.FormatInt(id, 10), Before: b, After: aft})
	})
	if err != nil {
		return Partner{}, fmt.Errorf("update partner: %w", err)
	}
	s.reread(ctx, id)
	return partnerOf(after), nil
}

func apply[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// lockActive locks partner client id on tx: not found on "id", or refused when revoked.
func lockActive(ctx context.Context, tx *store.Store, id int64) (store.Partner, error) {
	p, err := tx.LockPartner(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Partner{}, input.NotFound("id", "no such partner")
	} else if err != nil {
		return store.Partner{}, err
	}
	if p.RevokedAt != nil {
		return store.Partner{}, input.Conflict("id", "the partner is revoked")
	}
	return p, nil
}

// RotateSecret gives partner client id a new secret, returned this once; the access tokens
// issued under the old one stop working on every instance.
func (s *Service) RotateSecret(ctx context.Context, a audit.Actor, id int64) (Credentials, error) {
	secret, sum := newSecret(secretPrefix)
	var p store.Partner
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		if _, err := lockActive(ctx, tx, id); err != nil {
			return err
		}
		var err error
		if p, err = tx.SetPartnerSecret(ctx, id, sum); err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "partner.rotate_secret", TargetType: "partner",
			TargetID: strconv.FormatInt(id, 10), Extra: map[string]any{"secret_generation": p.SecretGeneration}})
	})
	if err != nil {
		return Credentials{}, fmt.Errorf("rotate partner secret: %w", err)
	}
	s.reread(ctx, id)
	return Credentials{Partner: partnerOf(p), Secret: config.Secret(secret)}, nil
}

// Revoke revokes partner client id: its access tokens and media tokens stop working, and the
// streams its tokens opened end, on every instance. The client stays listed, revoked.
func (s *Service) Revoke(ctx context.Context, a audit.Actor, id int64) error {
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		if err := tx.RevokePartner(ctx, id); errors.Is(err, store.ErrNotFound) {
			return input.NotFound("id", "no such partner")
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "partner.revoke", TargetType: "partner", TargetID: strconv.FormatInt(id, 10)})
	})
	if err != nil {
		return fmt.Errorf("revoke partner: %w", err)
	}
	s.reread(ctx, id)
	return nil
}

// Key is a signing key as admins see it.
type Key struct {
	KID       string     `json:"kid"`
	CreatedAt time.Time  `json:"created_at"`
	RetiredAt *time.Time `json:"retired_at"`
	// VerifiesUntil is when a retired key's last tokens expire (nil: the current key).
	VerifiesUntil *time.Time `json:"verifies_until"`
}

func keyOf(k store.SigningKey) Key {
	out := Key{KID: kidOf(k.ID), CreatedAt: k.CreatedAt, RetiredAt: k.RetiredAt}
	if k.RetiredAt != nil {
		until := k.RetiredAt.Add(MaxTokenTTL + Leeway)
		out.VerifiesUntil = &until
	}
	return out
}

// Keys lists the signing keys, the current first.
func (s *Service) Keys(ctx context.Context) ([]Key, error) {
	rows, err := s.store.PartnerSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("partner keys: %w", err)
	}
	out := make([]Key, len(rows))
	for i, k := range rows {
		out[i] = keyOf(k)
	}
	return out, nil
}

// RotateKey makes a new signing key current and retires the old one, which still verifies the
// tokens it signed until they expire.
func (s *Service) RotateKey(ctx context.Context, a audit.Actor) (Key, error) {
	var k store.SigningKey
	err := s.store.InTx(ctx, func(tx *store.Store) error {
		var err error
		if k, err = tx.RotatePartnerKey(ctx); errors.Is(err, store.ErrConflict) {
			return input.Conflict("kid", "another rotation ran at the same time; try again")
		} else if err != nil {
			return err
		}
		return audit.Record(ctx, tx, a, audit.Entry{Action: "partner_key.rotate", TargetType: "partner_key", TargetID: kidOf(k.ID)})
	})
	if err != nil {
		return Key{}, fmt.Errorf("rotate partner key: %w", err)
	}
	if rows, err := s.store.PartnerSigningKeys(ctx); err == nil { // here at once, the others on the NOTIFY
		s.keys.set(rows)
	} else {
		s.keys.stale()
		s.wake()
	}
	return keyOf(k), nil
}
