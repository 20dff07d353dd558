package oncall

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
)

// TierConfig is one step of the escalation policy, fed by a rotation or a
// fixed person (exactly one of the two).
type TierConfig struct {
	Name     string `yaml:"name"`     // default "primary", "secondary", then "tier N"
	Rotation string `yaml:"rotation"` // a rotation's name…
	Person   string `yaml:"person"`   // …or a person's id
	Delay    string `yaml:"delay"`    // wait for an acknowledgement before the next tier; default "5m"
}

// PolicyConfig is the escalation policy (astreinte.EscalationDefault, the
// name its pages record): its tiers, paged in order, and how
// many times the whole list runs (default 2).
type PolicyConfig struct {
	Tiers  []TierConfig `yaml:"tiers"`
	Repeat int          `yaml:"repeat"`
	// AckTarget is how long an urgent ticket may wait for someone to take
	// it before the pages show it overdue (default "15m").
	AckTarget string `yaml:"ack_target"`
}

// SwapsConfig is how shift swaps are made (oncall.swaps).
type SwapsConfig struct {
	// RequireApproval: a swap taken by a technician waits for an admin's
	// approval before it becomes an override.
	RequireApproval bool `yaml:"require_approval"`
}

// ScheduleConfig is the "oncall" section of the configuration.
type ScheduleConfig struct {
	People     []Person         `yaml:"people"`
	Rotations  []RotationConfig `yaml:"rotations"`
	Escalation PolicyConfig     `yaml:"escalation"`
	Swaps      SwapsConfig      `yaml:"swaps"`
	Pay        PayRates         `yaml:"pay"`
}

// PayRates are the on-call pay rates, in integer cents per hour
// (oncall.pay; astreinte oncall pay and the admin's pay page).
type PayRates struct {
	// WeekdayNight is paid, in cents per hour, on call in a working
	// day's closed hours.
	WeekdayNight int64 `yaml:"weekday_night"`
	// Weekend is paid, in cents per hour, on call on Saturdays and
	// Sundays.
	Weekend int64 `yaml:"weekend"`
	// Holiday is paid, in cents per hour, on call on the calendar's public
	// holidays.
	Holiday int64 `yaml:"holiday"`
	// Intervention is paid, in cents per hour, for work logged on
	// acknowledged pages.
	Intervention int64 `yaml:"intervention"`
}

// Escalation defaults.
const (
	DefaultDelay  = 5 * time.Minute
	DefaultRepeat = 2
	// DefaultAckTarget: an urgent ticket nobody took within it is overdue.
	DefaultAckTarget = 15 * time.Minute
)

// Tier is a validated escalation tier.
type Tier struct {
	Name     string
	Rotation string // "" for a fixed person
	Person   string // "" for a rotation
	Delay    time.Duration
}

// Schedule knows the technicians, their rotations and the escalation
// tiers, and answers who is on call when. It is immutable and safe for
// concurrent use.
type Schedule struct {
	cal       *calendar.Calendar
	people    []Person
	byID      map[string]Person
	rotations []*rotation
	tiers     []Tier
	repeat    int
	ackTarget time.Duration
	swaps     SwapsConfig
	pay       PayRates
}

// NewSchedule validates cfg against cal (whose zone the rotations' times
// are in; nil means the default calendar). The error, if any, is a
// astreinte.FieldErrors with paths starting with "oncall.".
func NewSchedule(cfg ScheduleConfig, cal *calendar.Calendar) (*Schedule, error) {
	if cal == nil {
		var err error
		if cal, err = calendar.New(calendar.Config{}); err != nil {
			return nil, err
		}
	}
	var errs astreinte.FieldErrors
	s := &Schedule{cal: cal, byID: map[string]Person{}, repeat: cfg.Escalation.Repeat}
	s.addPeople(cfg.People, &errs)
	rotAt := s.addRotations(cfg.Rotations, &errs)
	s.addTiers(cfg.Escalation.Tiers, rotAt, &errs)
	s.setPolicy(cfg, &errs)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// addPeople checks and adds the technicians: an id each, unique; the name
// defaults to the id and the language to French.
func (s *Schedule) addPeople(people []Person, errs *astreinte.FieldErrors) {
	firstAt := map[string]int{}
	for i, p := range people {
		path := fmt.Sprintf("oncall.people[%d]", i)
		p.ID = strings.TrimSpace(p.ID)
		switch j, dup := firstAt[p.ID]; {
		case p.ID == "":
			errs.Add(path+".id", "required")
			continue
		case dup:
			errs.Add(path+".id", "duplicate id %q (also people[%d])", p.ID, j)
			continue
		}
		firstAt[p.ID] = i
		if p.Name == "" {
			p.Name = p.ID
		}
		switch p.Language {
		case "":
			p.Language = "fr"
		case "fr", "en":
		default:
			errs.Add(path+".language", "unknown language %q (want fr or en)", p.Language)
		}
		s.people = append(s.people, p)
		s.byID[p.ID] = p
	}
}

// addRotations checks and adds the rotations (after the people, whom
// they name); it returns where each name was first seen, for the tiers.
func (s *Schedule) addRotations(rcs []RotationConfig, errs *astreinte.FieldErrors) map[string]int {
	rotAt := map[string]int{}
	for i, rc := range rcs {
		path := fmt.Sprintf("oncall.rotations[%d]", i)
		ok := true
		if j, dup := rotAt[rc.Name]; rc.Name == "" || dup {
			ok = false
			if rc.Name == "" {
				errs.Add(path+".name", "required")
			} else {
				errs.Add(path+".name", "duplicate name %q (also rotations[%d])", rc.Name, j)
			}
		} else {
			rotAt[rc.Name] = i
		}
		if r, valid := s.rotationOf(path, rc, errs); ok && valid {
			s.rotations = append(s.rotations, r)
		}
	}
	return rotAt
}

// rotationOf reads one rotation (its name checked by the caller): known
// participants, its shift (default a week), its first hand-off and its
// coverage. valid is false when it cannot be used.
func (s *Schedule) rotationOf(path string, rc RotationConfig, errs *astreinte.FieldErrors) (r *rotation, valid bool) {
	r = &rotation{name: rc.Name, loc: s.cal.Location(), all: rc.Coverage == CoverageAll}
	valid = true
	if len(rc.Participants) == 0 {
		errs.Add(path+".participants", "required")
		valid = false
	}
	for j, id := range rc.Participants {
		if _, known := s.byID[id]; !known {
			errs.Add(fmt.Sprintf("%s.participants[%d]", path, j), "unknown person %q", id)
			valid = false
		}
		r.people = append(r.people, id)
	}
	shift := rc.Shift
	if shift == "" {
		shift = "1w"
	}
	var err error
	if r.days, r.dur, err = parseShift(shift); err != nil {
		errs.Add(path+".shift", "bad shift %q (want e.g. 12h, 1d, 7d or 1w)", rc.Shift)
		valid = false
	}
	if rc.Start == "" {
		errs.Add(path+".start", "required (first hand-off, e.g. \"2026-01-05 09:00\")")
		valid = false
	} else if r.start, _, err = calendar.ParseDateTime(rc.Start, s.cal.Location()); err != nil { // a date alone: midnight
		errs.Add(path+".start", "%v", err)
		valid = false
	}
	switch rc.Coverage {
	case "", CoverageOutOfHours, CoverageAll:
	default:
		errs.Add(path+".coverage", "unknown coverage %q (want out_of_hours or all)", rc.Coverage)
	}
	return r, valid
}

// addTiers checks and adds the escalation tiers: a unique name (default
// primary, secondary…), exactly one known rotation (rotAt) or person, a
// delay (default DefaultDelay).
func (s *Schedule) addTiers(tcs []TierConfig, rotAt map[string]int, errs *astreinte.FieldErrors) {
	tierAt := map[string]int{}
	for i, tc := range tcs {
		path := fmt.Sprintf("oncall.escalation.tiers[%d]", i)
		t := Tier{Name: tc.Name, Rotation: tc.Rotation, Person: tc.Person, Delay: DefaultDelay}
		if t.Name == "" {
			t.Name = defaultTierName(i)
		}
		if j, dup := tierAt[t.Name]; dup {
			errs.Add(path+".name", "duplicate name %q (also tiers[%d])", t.Name, j)
		}
		tierAt[t.Name] = i
		switch {
		case (tc.Rotation == "") == (tc.Person == ""):
			errs.Add(path, "set exactly one of rotation or person")
		case tc.Rotation != "":
			if _, known := rotAt[tc.Rotation]; !known {
				errs.Add(path+".rotation", "unknown rotation %q", tc.Rotation)
			}
		default:
			if _, known := s.byID[tc.Person]; !known {
				errs.Add(path+".person", "unknown person %q", tc.Person)
			}
		}
		if tc.Delay != "" {
			d, err := time.ParseDuration(tc.Delay)
			if err != nil || d <= 0 {
				errs.Add(path+".delay", "bad delay %q (want e.g. 5m)", tc.Delay)
			}
			t.Delay = d
		}
		s.tiers = append(s.tiers, t)
	}
}

// setPolicy checks and sets the rest of the policy: the acknowledgement
// target, the pay rates (not negative), the swaps, the number of rounds.
func (s *Schedule) setPolicy(cfg ScheduleConfig, errs *astreinte.FieldErrors) {
	s.ackTarget, s.swaps, s.pay = DefaultAckTarget, cfg.Swaps, cfg.Pay
	if a := cfg.Escalation.AckTarget; a != "" {
		d, err := time.ParseDuration(a)
		if err != nil || d <= 0 {
			errs.Add("oncall.escalation.ack_target", "bad duration %q (want e.g. 15m)", a)
		}
		s.ackTarget = d
	}
	for _, r := range []struct {
		name string
		v    int64
	}{{"weekday_night", cfg.Pay.WeekdayNight}, {"weekend", cfg.Pay.Weekend}, {"holiday", cfg.Pay.Holiday},
		{"intervention", cfg.Pay.Intervention}} {
		if r.v < 0 {
			errs.Add("oncall.pay."+r.name, "%d: a rate in cents must not be negative", r.v)
		}
	}
	switch {
	case s.repeat < 0:
		errs.Add("oncall.escalation.repeat", "%d: must not be negative", s.repeat)
	case s.repeat == 0:
		s.repeat = DefaultRepeat
	}
}

func defaultTierName(i int) string {
	switch i {
	case 0:
		return "primary"
	case 1:
		return "secondary"
	}
	return fmt.Sprintf("tier %d", i+1)
}

// Calendar returns the calendar the schedule was built with.
func (s *Schedule) Calendar() *calendar.Calendar { return s.cal }

// Person returns the technician with that id.
func (s *Schedule) Person(id string) (Person, bool) {
	p, ok := s.byID[id]
	return p, ok
}

// People returns every technician, in configuration order.
func (s *Schedule) People() []Person { return slices.Clone(s.people) }

// Tiers returns the escalation tiers, in paging order.
func (s *Schedule) Tiers() []Tier { return slices.Clone(s.tiers) }

// AckTarget is how long an urgent ticket may wait for someone to take it
// before it is overdue (oncall.escalation.ack_target).
func (s *Schedule) AckTarget() time.Duration { return s.ackTarget }

// SwapApproval reports whether a taken swap waits for an admin
// (oncall.swaps.require_approval).
func (s *Schedule) SwapApproval() bool { return s.swaps.RequireApproval }

// PayRates are the configured on-call pay rates (oncall.pay).
func (s *Schedule) PayRates() PayRates { return s.pay }

// Repeat returns how many times the whole escalation policy runs.
func (s *Schedule) Repeat() int { return s.repeat }

// person resolves an id; an id unknown to the configuration (an override
// set before a technician left) still pages by id.
func (s *Schedule) person(id string) Person {
	if id == "" {
		return Person{}
	}
	if p, ok := s.byID[id]; ok {
		return p
	}
	return Person{ID: id, Name: id, Language: "fr"}
}

func (s *Schedule) rotation(name string) *rotation {
	for _, r := range s.rotations {
		if r.name == name {
			return r
		}
	}
	return nil
}
