package partner

import (
	"github.com/xtreamd/xtreamd/internal/access"
	"github.com/xtreamd/xtreamd/internal/partner"
)

// denial is how a decision's error reads on the wire: the check's code (the ten-step table's
// name, e.g. USER_BAN) and a message a partner may show its viewer.
type denial struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// messages are the viewer-facing messages of the codes, in table order. OK has none; a code a
// decision never gives (HLS_SESSION_ENDED) still has one, so every code maps.
var messages = map[access.Code]string{
	access.AuthFailed:           "the line is unknown, or this partner may not act for it",
	access.UserExpired:          "the subscription has expired",
	access.UserBan:              "the subscription is banned",
	access.UserDisabled:         "the subscription is disabled",
	access.IPBan:                "the viewer's address is not allowed",
	access.CountryDisallow:      "not available in the viewer's country",
	access.UserAgentBan:         "the viewer's device or player is not allowed",
	access.ISPLockFailed:        "the subscription is locked to another internet provider",
	access.UserAlreadyConnected: "the subscription is watching on as many screens as it may",
	access.NotInBouquet:         "the subscription's package does not include this",
	access.FormatDisallowed:     "the subscription may not use this stream format",
	access.FloodBlocked:         "the viewer's address is blocked for too many failed logins; try again later",
	access.SessionEnded:         "the viewing session has ended",
}

// denialOf maps a code to its wire form: the one place the partner surface does (STYLE C8).
// OK maps to nil.
func denialOf(code access.Code) *denial {
	if code == access.OK {
		return nil
	}
	msg, ok := messages[code]
	if !ok {
		msg = "not authorized"
	}
	return &denial{Code: code.String(), Message: msg}
}

// bounded is the settings of a call that may be denied, or 429 when the partner's denials are
// past their bound: answered before any check runs, so retrying a denial costs next to nothing.
func (h *Handler) bounded(p partner.Principal) (partner.Settings, *apiProblem) {
	st := h.d.Partners.Settings()
	if ok, wait := h.d.Partners.Denials.Allow(p.PartnerID, st); !ok {
		return st, tooMany(wait)
	}
	return st, nil
}
