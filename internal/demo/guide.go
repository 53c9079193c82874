package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/xtreamd/xtreamd/internal/store"
)

// Each channel's day is a fixed schedule of 30–60 minute slots from midnight UTC, so the guide
// is a pure function of time: a later load extends it without overlapping an earlier one, and
// a load at the same time writes nothing.
type show struct{ title, desc string }

func shows(category string) []show {
	switch category {
	case "News":
		return []show{
			{"Morning Briefing", "The headlines of the day, weather and traffic."},
			{"World Report", "Correspondents around the globe on the stories that matter."},
			{"Business Today", "Markets, companies and the economy in focus."},
			{"Newsroom Live", "Breaking news as it happens, with analysis from the studio."},
			{"The Interview", "One guest, thirty minutes, no easy questions."},
			{"Weather Watch", "The forecast for the days ahead, region by region."},
			{"Evening Edition", "A calm look back at everything that happened today."},
		}
	case "Sports":
		return []show{
			{"Match Day Live", "Live coverage with build-up, commentary and reaction."},
			{"Goals & Highlights", "Every goal of the weekend in one programme."},
			{"The Paddock", "News from the pit lane and the grid."},
			{"Training Ground", "Coaches explain the tactics behind the results."},
			{"Classic Matches", "A legendary game, replayed in full."},
			{"Sports Desk", "Scores, transfers and interviews."},
		}
	default:
		return []show{
			{"Cartoon Hour", "Back-to-back animated adventures."},
			{"Why Is The Sky Blue?", "Curious questions answered with experiments at home."},
			{"Story Time", "A favourite story read aloud, with pictures."},
			{"Puzzle Pals", "Riddles and puzzles to solve together."},
			{"Animal Friends", "Meet the animals of the farm, the forest and the sea."},
			{"Draw With Me", "Step-by-step drawing for young artists."},
		}
	}
}

// programmes returns the demo guide of every channel overlapping [from, to).
func programmes(from, to time.Time) []store.Programme {
	slotPattern := [...]int{30, 60, 45, 30, 60, 60, 45, 30} // minutes
	var out []store.Programme
	f := from.UTC()
	for ci, c := range channels() {
		list := shows(c.category)
		day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, time.UTC)
		for ; day.Before(to); day = day.AddDate(0, 0, 1) {
			start, slot := day, 0
			end := day.AddDate(0, 0, 1)
			for start.Before(end) {
				stop := start.Add(time.Duration(slotPattern[(ci+slot)%len(slotPattern)]) * time.Minute)
				if stop.After(end) {
					stop = end
				}
				if stop.After(from) && start.Before(to) {
					s := list[(ci+slot)%len(list)]
					out = append(out, store.Programme{ChannelID: c.epgID, StartAt: start, StopAt: stop, Title: s.title,
						Description: fmt.Sprintf("%s (%s, demo programme)", s.desc, c.name), Lang: "en", Category: c.category})
				}
				start, slot = stop, slot+1
			}
		}
	}
	return out
}

func loadGuide(ctx context.Context, st *store.Store, now time.Time) error {
	progs := programmes(now.Add(-12*time.Hour), now.Add(24*time.Hour))
	var chans []store.EPGChannel
	for _, c := range channels() {
		chans = append(chans, store.EPGChannel{ID: c.epgID, DisplayName: c.name})
	}
	_, err := st.ImportEPG(ctx, store.EPGFromSlices(chans, progs))
	return err
}
