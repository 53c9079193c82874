package relay

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNewHTTPClient: defaults fill the zero options, and options reach the transport.
func TestNewHTTPClient(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name              string
		in                HTTPOptions
		header, tls       time.Duration
		idle              int
		noGzip, forceHTTP bool
	}{
		{"defaults", HTTPOptions{}, 10 * time.Second, 10 * time.Second, 8, false, false},
		{"relay", HTTPOptions{ConnectTimeout: 3 * time.Second, HTTP2: true}, 3 * time.Second, 3 * time.Second, 8, false, true},
		{"vod", HTTPOptions{ConnectTimeout: 10 * time.Second, HeaderTimeout: 15 * time.Second, MaxIdleConnsPerHost: 16,
			DisableCompression: true}, 15 * time.Second, 10 * time.Second, 16, true, false},
	} {
		tr := NewHTTPClient(tt.in).Transport.(*http.Transport)
		if tr.ResponseHeaderTimeout != tt.header || tr.TLSHandshakeTimeout != tt.tls || tr.MaxIdleConnsPerHost != tt.idle ||
			tr.DisableCompression != tt.noGzip || tr.ForceAttemptHTTP2 != tt.forceHTTP {
			t.Errorf("%s: transport header %v tls %v idle %d gzip off %v h2 %v", tt.name, tr.ResponseHeaderTimeout,
				tr.TLSHandshakeTimeout, tr.MaxIdleConnsPerHost, tr.DisableCompression, tr.ForceAttemptHTTP2)
		}
	}
}

// TestUpstreamError: an upstream's credentials in its URL never reach the error.
func TestUpstreamError(t *testing.T) {
	t.Parallel()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://127.0.0.1:1/live/user/secret-pass/1.ts", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewHTTPClient(HTTPOptions{ConnectTimeout: time.Second}).Do(req)
	if err == nil {
		t.Fatal("Do on a closed port succeeded")
	}
	if got := UpstreamError(err); got == nil || strings.Contains(got.Error(), "secret-pass") {
		t.Fatalf("UpstreamError(%v) = %v, want the error without the URL", err, got)
	}
	plain := errors.New("status 500")
	if got := UpstreamError(plain); got != plain {
		t.Errorf("UpstreamError(%v) = %v, want it unchanged", plain, got)
	}
}
