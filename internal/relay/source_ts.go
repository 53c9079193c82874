package relay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxJunk is how many bytes a TS upstream may send without a valid packet before it is declared not MPEG-TS.
const maxJunk = 64 << 10

// errStalled is the cause of a request cancelled by the stall watchdog.
var errStalled = errors.New("stalled")

// get starts a GET with the relay's User-Agent. The request is cancelled when ctx ends or when the returned
// watchdog fires: it is armed for ConnectTimeout until the response headers, and callers re-arm it with
// Reset(StallTimeout) after each read.
func (h *hub) get(ctx context.Context, rawURL string) (*http.Response, *time.Timer, context.CancelCauseFunc, error) {
	o := &h.m.opts
	rctx, cancel := context.WithCancelCause(ctx)
	watchdog := time.AfterFunc(o.ConnectTimeout, func() { cancel(errStalled) })
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
	if err != nil {
		watchdog.Stop()
		cancel(nil)
		return nil, nil, nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("User-Agent", o.UserAgent)
	resp, err := o.HTTPClient.Do(req)
	if err != nil {
		err = UpstreamError(err) // the URL stays out of logs and events
		watchdog.Stop()
		cause := context.Cause(rctx)
		cancel(nil)
		if errors.Is(cause, errStalled) {
			return nil, nil, nil, fmt.Errorf("connect: %w", errStalled)
		}
		return nil, nil, nil, fmt.Errorf("connect: %w", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		watchdog.Stop()
		resp.Body.Close()
		cancel(nil)
		return nil, nil, nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	watchdog.Reset(o.StallTimeout)
	return resp, watchdog, cancel, nil
}

// pullTS reads an HTTP MPEG-TS source into the ring until it fails or ctx ends.
func (h *hub) pullTS(ctx context.Context, rawURL string, up *upstream) error {
	resp, watchdog, cancel, err := h.get(ctx, rawURL)
	if err != nil {
		return err
	}
	defer cancel(nil)
	defer resp.Body.Close()
	defer watchdog.Stop()
	ing := h.ing
	stall := h.m.opts.StallTimeout
	junk0, pk0 := ing.junk, ing.packets
	for {
		in0 := ing.bytesIn
		n, err := ing.readFrom(resp.Body)
		if n > 0 {
			watchdog.Reset(stall)
			h.m.c.bytesIn.Add(ing.bytesIn - in0)
			if ing.packets > pk0 {
				up.open()
			} else if ing.junk-junk0 > maxJunk {
				return errors.New("not mpeg-ts")
			}
		}
		if err != nil {
			if ctx.Err() == nil && errors.Is(context.Cause(resp.Request.Context()), errStalled) {
				return fmt.Errorf("read: %w", errStalled)
			}
			if errors.Is(err, io.EOF) {
				return errors.New("upstream closed the stream")
			}
			return fmt.Errorf("read: %w", err)
		}
	}
}
