package oncall

import (
	"fmt"
	"strings"
	"time"
)

// TakenText is the short notice a person already paged gets when someone
// else took the ticket, in their language (French unless "en"):
// "2026-000123 pris en charge par Alice à 03:12".
func TakenText(language, number, by string, at time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	en := strings.EqualFold(language, "en")
	if by == "" {
		by = map[bool]string{false: "quelqu'un d'autre", true: "someone else"}[en]
	}
	if at.IsZero() {
		if en {
			return fmt.Sprintf("%s taken by %s", number, by)
		}
		return fmt.Sprintf("%s pris en charge par %s", number, by)
	}
	if en {
		return fmt.Sprintf("%s taken by %s at %s", number, by, at.In(loc).Format("15:04"))
	}
	return fmt.Sprintf("%s pris en charge par %s à %s", number, by, at.In(loc).Format("15:04"))
}

// AlreadyTakenText is what a second acknowledgement is told: who already
// has the ticket, in the person's language.
func AlreadyTakenText(language, number, by string) string {
	if strings.EqualFold(language, "en") {
		return fmt.Sprintf("%s is already taken by %s.", number, by)
	}
	return fmt.Sprintf("%s est déjà pris en charge par %s.", number, by)
}
