package portal

// mainInfo is account_info/get_main_info's js (spec §5.7): the expiry travels in "phone",
// which the stock UI displays.
type mainInfo struct {
	MAC   string `json:"mac"`
	Phone string `json:"phone"`
}

// expiryLayout is PHP's 'F j, Y, g:i a' ("March 3, 2025, 2:45 pm"), what EStalker parses.
const expiryLayout = "January 2, 2006, 3:04 pm"

func accountMainInfo(h *Handler, k *call) error {
	phone := "Unlimited"
	if k.line.ExpDate != nil {
		phone = k.line.ExpDate.In(h.zones.of(k.req.cookies.Timezone)).Format(expiryLayout)
	}
	return writeJS(k.c, mainInfo{MAC: k.dev.MAC.String(), Phone: phone})
}

// watchdogData is watchdog/get_events's js: {"data":{"msgs":0,…}} or, with an event pending,
// the event (spec §5.7).
type watchdogData struct {
	Data watchdogEvent `json:"data"`
}

type watchdogEvent struct {
	Msgs                 int             `json:"msgs"`
	ID                   string          `json:"id,omitempty"`
	Event                string          `json:"event,omitempty"`
	NeedConfirm          *int            `json:"need_confirm,omitempty"`
	Msg                  string          `json:"msg,omitempty"`
	RebootAfterOK        *int            `json:"reboot_after_ok,omitempty"`
	AutoHideTimeout      *int            `json:"auto_hide_timeout,omitempty"`
	SendTime             string          `json:"send_time,omitempty"`
	AdditionalServicesOn int             `json:"additional_services_on"`
	Updated              *watchdogUpdate `json:"updated,omitempty"`
}

type watchdogUpdate struct {
	Anec  int `json:"anec"`
	Vclub int `json:"vclub"`
}

func flag01(b bool) *int {
	n := 0
	if b {
		n = 1
	}
	return &n
}

// watchdogEvents is watchdog/get_events: the keep-alive every box polls (stalkerhek every two
// minutes), delivering the oldest queued event.
func watchdogEvents(h *Handler, k *call) error {
	e, pending, err := h.devices.NextEvent(k.ctx, k.dev)
	if err != nil {
		return err
	}
	out := watchdogEvent{Msgs: pending, AdditionalServicesOn: 1}
	if pending > 0 {
		zero := 0
		out.ID, out.Event, out.Msg = itoa(e.ID), e.Kind, e.Message
		out.NeedConfirm, out.RebootAfterOK, out.AutoHideTimeout = flag01(e.NeedConfirm), flag01(e.RebootAfterOK), &zero
		out.SendTime = e.QueuedAt.In(h.zones.of(k.req.cookies.Timezone)).Format("02-01-2006 15:04:05")
		out.Updated = &watchdogUpdate{}
	}
	return writeJS(k.c, watchdogData{Data: out})
}

// watchdogConfirm is watchdog/confirm_event: the box showed a message.
func watchdogConfirm(h *Handler, k *call) error {
	if _, err := h.devices.ConfirmEvent(k.ctx, k.dev, k.req.p.eventID); err != nil {
		return err
	}
	return writeJS(k.c, confirmed)
}

// confirmed is confirm_event's js.
var confirmed = map[string]string{"data": "ok"}
