package audit

import "strconv"

// Change is the entry of a change of one row: its action, the target's type and id, and the
// changed fields of before and after (two values of one struct type, compared by Diff). A
// creation compares the zero value with the new row, a deletion the old row with the zero
// value.
func Change(action, targetType string, id int64, before, after any) Entry {
	b, a := Diff(before, after)
	return Entry{Action: action, TargetType: targetType, TargetID: strconv.FormatInt(id, 10), Before: b, After: a}
}
