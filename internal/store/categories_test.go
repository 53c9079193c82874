package store_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/xtreamd/xtreamd/internal/store"
)

func TestEnsureCategories_CreatesMissingInOrderOnce(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, added, err := st.EnsureCategories(ctx, store.KindLive, []string{"News", "Sports", "News"})
	if err != nil || added != 2 || len(ids) != 2 {
		t.Fatalf("EnsureCategories = %v, %d, %v, want 2 ids, 2 added", ids, added, err)
	}
	v := catalogVersion(t, st)
	ids2, added, err := st.EnsureCategories(ctx, store.KindLive, []string{"Sports", "Kids", "News"})
	if err != nil || added != 1 || ids2["News"] != ids["News"] || ids2["Sports"] != ids["Sports"] {
		t.Fatalf("EnsureCategories again = %v, %d, %v", ids2, added, err)
	}
	cats, err := st.Categories(ctx, store.KindLive)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cats {
		names = append(names, c.Name)
	}
	if diff := cmp.Diff([]string{"News", "Sports", "Kids"}, names); diff != "" {
		t.Fatalf("categories by position (-want +got):\n%s", diff)
	}
	if got := catalogVersion(t, st); got != v+1 {
		t.Fatalf("catalog version = %d, want %d (one insert)", got, v+1)
	}
	if _, added, err := st.EnsureCategories(ctx, store.KindLive, []string{"Kids"}); err != nil || added != 0 {
		t.Fatalf("EnsureCategories(existing) = %d, %v", added, err)
	}
	if got := catalogVersion(t, st); got != v+1 {
		t.Fatalf("catalog version after a no-op = %d, want %d", got, v+1)
	}
	// A movie category of the same name is another category.
	mids, _, err := st.EnsureCategories(ctx, store.KindMovie, []string{"News"})
	if err != nil || mids["News"] == ids["News"] {
		t.Fatalf("movie News = %v, %v; live News = %d", mids, err, ids["News"])
	}
}

func TestCategory_UpdateDelete(t *testing.T) {
	t.Parallel()
	st := newStore(t)
	ctx := t.Context()
	ids, _, err := st.EnsureCategories(ctx, store.KindLive, []string{"A"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateCategory(ctx, store.Category{ID: ids["A"], Name: "Adults", Position: 7, IsAdult: true}); err != nil {
		t.Fatal(err)
	}
	cats, _ := st.Categories(ctx, "")
	if len(cats) != 1 || cats[0].Name != "Adults" || cats[0].Position != 7 || !cats[0].IsAdult {
		t.Fatalf("categories = %+v", cats)
	}
	if err := st.DeleteCategory(ctx, ids["A"]); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCategory(ctx, ids["A"]); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("DeleteCategory(gone) = %v, want ErrNotFound", err)
	}
}
