package store

import "strings"

// Lists page by keyset (the last row's sort key and id), never by OFFSET, so a page costs the
// same however deep it is; these are the pieces every list query shares.

// MaxPage is the most rows one list call returns; DefaultPage is what it returns unasked.
const (
	MaxPage     = 1000
	DefaultPage = 50
)

// clampLimit bounds a list's rows: MaxPage, and the one row more that tells a caller whether
// another page follows.
func clampLimit(n int) int {
	if n <= 0 {
		return DefaultPage
	}
	return min(n, MaxPage+1)
}

// likeEscaper escapes LIKE's wildcards (and its escape character, backslash by default), so a
// prefix filter matches the text as given.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// likePrefix escapes s for "LIKE s || '%'"; "" stays "" (no filter).
func likePrefix(s string) string { return likeEscaper.Replace(s) }
