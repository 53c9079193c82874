package credential

import (
	"errors"
	"strings"
	"testing"
)

// testParams keep unit tests quick; DefaultParams are benchmarked separately.
var testParams = Params{MemoryKiB: 64, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	t.Parallel()
	h, err := Hash("s3cret", testParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("Hash = %q, want a PHC argon2id string", h)
	}
	h2, _ := Hash("s3cret", testParams)
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{{"s3cret", true}, {"s3cret ", false}, {"", false}, {"S3cret", false}} {
		ok, err := Verify(h, tt.pw)
		if err != nil || ok != tt.want {
			t.Errorf("Verify(h, %q) = %v, %v; want %v", tt.pw, ok, err, tt.want)
		}
	}
	if NeedsRehash(h, testParams) || !NeedsRehash(h, DefaultParams) {
		t.Error("NeedsRehash disagrees with the parameters used")
	}
}

func TestVerify_Malformed(t *testing.T) {
	t.Parallel()
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA"} {
		if _, err := Verify(h, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) err = %v, want ErrMalformedHash", h, err)
		}
	}
}

func FuzzVerify(f *testing.F) {
	f.Add("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "pw")
	f.Add("$argon2id$v=19$m=8,t=1,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		_, _ = Verify(encoded, pw) // must not panic or allocate without bound
	})
}

func BenchmarkHashDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Hash("correct horse battery staple", DefaultParams); err != nil {
			b.Fatal(err)
		}
	}
}
