package admin

import (
	"net/url"
	"slices"
	"testing"
)

func TestEntryOp_Apply(t *testing.T) {
	t.Parallel()
	ids := []int64{1, 2, 3, 4}
	tests := []struct {
		name string
		form url.Values
		add  []int64
		want []int64
	}{
		{"up", url.Values{"op": {"up:3"}}, nil, []int64{1, 3, 2, 4}},
		{"up at the top stays", url.Values{"op": {"up:1"}}, nil, []int64{1, 2, 3, 4}},
		{"down", url.Values{"op": {"down:1"}}, nil, []int64{2, 1, 3, 4}},
		{"down at the bottom stays", url.Values{"op": {"down:4"}}, nil, []int64{1, 2, 3, 4}},
		{"to a position", url.Values{"op": {"to:4"}, "pos:4": {"1"}}, nil, []int64{4, 1, 2, 3}},
		{"to beyond the end", url.Values{"op": {"to:1"}, "pos:1": {"99"}}, nil, []int64{2, 3, 4, 1}},
		{"remove", url.Values{"op": {"remove:2"}}, nil, []int64{1, 3, 4}},
		{"an id not in the list", url.Values{"op": {"up:9"}}, nil, []int64{1, 2, 3, 4}},
		{"add, known ones kept in place", url.Values{"op": {"add"}}, []int64{9, 2, 8}, []int64{1, 2, 3, 4, 9, 8}},
		{"apply every changed position", url.Values{"op": {"apply"}, "pos:1": {"1"}, "pos:2": {"2"}, "pos:3": {"1"}, "pos:4": {"4"}},
			nil, []int64{3, 1, 2, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op, err := parseEntryOp(tt.form)
			if err != nil {
				t.Fatal(err)
			}
			if got := op.apply(ids, tt.add, positionFields(tt.form)); !slices.Equal(got, tt.want) {
				t.Fatalf("apply(%v) = %v, want %v", tt.form, got, tt.want)
			}
		})
	}
	for _, bad := range []url.Values{{"op": {"up:x"}}, {"op": {"drop:1"}}, {"op": {"to:1"}, "pos:1": {"0"}}, {}} {
		if _, err := parseEntryOp(bad); err == nil {
			t.Errorf("parseEntryOp(%v) accepted it", bad)
		}
	}
}

func TestCompactRows(t *testing.T) {
	t.Parallel()
	form := url.Values{"name": {"x"}, "sources[0].url": {" "}, "sources[0].kind": {"ts"}, "sources[2].url": {"http://b/"},
		"sources[2].kind": {"hls"}, "sources[5].url": {"http://c/"}, "sources[x].url": {"http://d/"}, "sources[999].url": {"http://e/"}}
	got := compactRows(form, "sources", "url")
	want := url.Values{"name": {"x"}, "sources[0].url": {"http://b/"}, "sources[0].kind": {"hls"}, "sources[1].url": {"http://c/"}}
	if len(got) != len(want) {
		t.Fatalf("compactRows = %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Fatalf("compactRows[%s] = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}
