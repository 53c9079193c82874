package edge

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
)

// Lease is what a stream open holds from its access check until a response writer takes it
// over: a connection lease (*conns.Lease).
type Lease interface {
	Release(ctx context.Context) error
	IDString() string
}

// Opens runs stream opens so that none can forget its bookkeeping: every open records its
// outcome (the status it answered) exactly once, and a lease it holds is released exactly once
// unless a response writer took it over (Open.Handoff).
type Opens struct {
	outcomes *prometheus.CounterVec
	log      *slog.Logger
}

// NewOpens records outcomes on outcomes, a counter vector labelled container and status (e.g.
// xtreamd_stream_opens_total).
func NewOpens(outcomes *prometheus.CounterVec, log *slog.Logger) *Opens {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Opens{outcomes: outcomes, log: log}
}

// Open is one stream open in progress, from its access check to its answer.
type Open struct {
	lease     Lease
	handedOff bool
}

// Hold makes the open responsible for l (not nil), the lease its check took: Run releases it
// when fn returns, unless fn handed it off.
func (o *Open) Hold(l Lease) { o.lease = l }

// Handoff passes the held lease to the response writer, which releases it (with
// Opens.Release) when it is done: after a body stream, a hijacked connection or a timer.
func (o *Open) Handoff() { o.handedOff = true }

// Run runs fn as one open of container. When fn returns, the outcome is recorded once: the
// response status, or for an error the status the error handler will answer (500 when fn
// panics). A held lease that was not handed off is released then, on every path.
func (o *Opens) Run(c *fiber.Ctx, container string, fn func(*Open) error) error {
	var op Open
	ended := false
	defer func() {
		if !ended { // fn panicked; Recover answers 500 and logs the stack
			o.end(&op, container, fiber.StatusInternalServerError)
		}
	}()
	err := fn(&op)
	ended = true
	status := c.Response().StatusCode()
	if err != nil {
		status, _ = ErrorStatus(err)
	}
	o.end(&op, container, status)
	return err
}

func (o *Opens) end(op *Open, container string, status int) {
	if op.lease != nil && !op.handedOff {
		o.Release(op.lease)
	}
	o.outcomes.WithLabelValues(container, strconv.Itoa(status)).Inc()
}

// Release ends a lease without the request's context, which is gone or going (the lease bounds
// its own release).
func (o *Opens) Release(l Lease) {
	if err := l.Release(context.Background()); err != nil {
		o.log.Warn("releasing lease", "lease_id", l.IDString(), "err", err)
	}
}
