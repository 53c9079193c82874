package admin

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// Lists page by cursor: a page answers items and, when there may be more, next_cursor, which
// the client sends back as ?cursor= for the next page. A cursor is opaque to the client; inside
// it is the sort it was made for and the last item's sort key and id (keyset paging: a page
// costs the same however deep it is, and rows added meanwhile neither repeat nor vanish).

// Page is one page of a list.
type Page[T any] struct {
	Items      []T     `json:"items" doc:"The items of this page, in the requested order."`
	NextCursor *string `json:"next_cursor" doc:"The cursor of the next page; null on the last page."`
}

// PageQuery are the paging parameters every list takes; a list's parameter struct embeds it.
type PageQuery struct {
	Limit  int    `query:"limit" api:"min=1,max=1000" doc:"Items per page (default 50)."`
	Cursor string `query:"cursor" api:"maxlen=512" doc:"The next_cursor of the previous page."`
}

// cursor is what a cursor carries.
type cursor struct {
	Sort string          `json:"s"`
	Key  json.RawMessage `json:"k,omitempty"` // the last item's sort key (absent when sorting by id)
	ID   int64           `json:"i"`
}

// encodeCursor makes the cursor after an item with this sort key and id.
func encodeCursor(sort string, key any, id int64) *string {
	c := cursor{Sort: sort, ID: id}
	if key != nil {
		c.Key, _ = json.Marshal(key)
	}
	b, _ := json.Marshal(c)
	s := base64.RawURLEncoding.EncodeToString(b)
	return &s
}

// decodeCursor reads the cursor of q for sort into key (a pointer to the sort key's type, or
// nil when sorting by id) and returns the last id (0 without a cursor). A cursor that is
// garbled or made for another sort is refused on "cursor".
func (q PageQuery) decodeCursor(sort string, key any) (int64, *badField) {
	if q.Cursor == "" {
		return 0, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
	var c cursor
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID <= 0 {
		return 0, refuse("cursor", "not a cursor of this list")
	}
	if c.Sort != sort {
		return 0, refuse("cursor", "made for another sort order")
	}
	if key != nil && (len(c.Key) == 0 || json.Unmarshal(c.Key, key) != nil) {
		return 0, refuse("cursor", "not a cursor of this list")
	}
	return c.ID, nil
}

// limit is the page size asked for (default 50).
func (q PageQuery) limit() int {
	if q.Limit <= 0 {
		return 50
	}
	return q.Limit
}

// pageOf makes a page of rows fetched with one more than the limit: the extra row proves a
// next page exists; next gives the cursor after an item.
func pageOf[T any](rows []T, limit int, next func(last T) *string) Page[T] {
	if rows == nil {
		rows = []T{}
	}
	if len(rows) <= limit {
		return Page[T]{Items: rows}
	}
	rows = rows[:limit]
	return Page[T]{Items: rows, NextCursor: next(rows[len(rows)-1])}
}

// sortOrder splits a sort parameter ("-created_at") into its key and direction.
func sortOrder(s string) (key string, desc bool) {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return rest, true
	}
	return s, false
}
