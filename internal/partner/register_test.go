package partner

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xtreamd/xtreamd/internal/audit"
	"github.com/xtreamd/xtreamd/internal/input"
)

// TestRegister: dynamic registration needs the setting and a live initial access token whose
// networks hold the caller; it grants at most what the token grants, as often as it may.
func TestRegister(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	rt, err := f.svc.CreateRegistrationToken(ctx, audit.CLI, NewRegistrationToken{Name: "onboarding",
		Grant: Grant{Scopes: []string{ScopeDecisions, ScopeMediaTokens}, AllowedIPs: partnerIn}, MaxUses: 2,
		ExpiresAt: time.Now().Add(time.Hour)})
	must(t, err)
	tok := rt.Token.Reveal()
	md := ClientMetadata{ClientName: "Self"}
	if _, err := f.svc.Register(ctx, tok, md, callerIP); !errors.Is(err, ErrRegistrationClosed) {
		t.Fatalf("Register with the setting off = %v, want ErrRegistrationClosed", err)
	}
	f.settings.Registration = true
	for _, tt := range []struct {
		name  string
		tok   string
		md    ClientMetadata
		from  error
		field string
	}{
		{"unknown token", "xpr_nope", md, ErrInvalidRegistrationToken, ""},
		{"outside its networks", tok, md, ErrInvalidRegistrationToken, ""},
		{"more scope than granted", tok, ClientMetadata{ClientName: "x", Scopes: []string{ScopeLogout}}, nil, "scope"},
		{"another grant type", tok, ClientMetadata{ClientName: "x", GrantTypes: []string{"authorization_code"}}, nil, "grant_types"},
		{"no name", tok, ClientMetadata{}, nil, "client_name"},
		{"a line break in the name", tok, ClientMetadata{ClientName: "Shop\r\nX-Injected: 1"}, nil, "client_name"},
		{"a tab in the name", tok, ClientMetadata{ClientName: "Shop\tB"}, nil, "client_name"},
	} {
		ip := callerIP
		if tt.name == "outside its networks" {
			ip = outsideIP
		}
		_, err := f.svc.Register(ctx, tt.tok, tt.md, ip)
		var fe *input.FieldError
		if tt.from != nil && !errors.Is(err, tt.from) || tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field) {
			t.Errorf("Register(%s) = %v, want %v / field %q", tt.name, err, tt.from, tt.field)
		}
	}
	reg, err := f.svc.Register(ctx, tok, ClientMetadata{ClientName: "Self", Scopes: []string{ScopeDecisions}}, callerIP)
	must(t, err)
	if reg.Metadata.TokenEndpointAuthMethod != AuthSecretBasic || len(reg.Partner.Scopes) != 1 || reg.Partner.Registration != "dynamic" {
		t.Fatalf("registered %+v", reg)
	}
	if _, err := f.svc.IssueToken(TokenRequest{ClientID: reg.Partner.ClientID, Secret: reg.Secret.Reveal(), IP: callerIP}); err != nil {
		t.Fatalf("the registered client's token = %v", err)
	}
	_, err = f.svc.Register(ctx, tok, md, callerIP) // the second and last use (the refusals spent none)
	must(t, err)
	if _, err := f.svc.Register(ctx, tok, md, callerIP); !errors.Is(err, ErrInvalidRegistrationToken) {
		t.Fatalf("Register after max_uses = %v, want ErrInvalidRegistrationToken", err)
	}
	if got := f.audit(t, "partner.register"); len(got) != 2 || got[0].Actor == "" {
		t.Fatalf("registrations audited: %+v", got)
	}
}
