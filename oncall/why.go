package oncall

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Reason says why nobody will be called now about an urgent request, or
// that someone will (ReasonNone).
type Reason int

// The reasons nobody is called now.
const (
	ReasonNone Reason = iota // someone on call is reachable: they are being called
	// ReasonContractWithoutOnCall: the caller's contract covers working
	// hours only; nobody is meant to be woken.
	ReasonContractWithoutOnCall
	// ReasonNobodyOnRota: no tier has anyone on call at that time.
	ReasonNobodyOnRota
	// ReasonNoChannel: people are on call, but no configured channel
	// reaches them (no SIP URI, phone or email the channels can use).
	ReasonNoChannel
	// ReasonChannelsFailing: every channel that reaches the people on call
	// is failing (Engine.Failing says so).
	ReasonChannelsFailing
)

// String is the reason's name, for logs and the timeline.
func (r Reason) String() string {
	switch r {
	case ReasonNone:
		return "someone is being called"
	case ReasonContractWithoutOnCall:
		return "contract without on-call"
	case ReasonNobodyOnRota:
		return "nobody on the rota"
	case ReasonNoChannel:
		return "nobody on call can be reached by a configured channel"
	case ReasonChannelsFailing:
		return "every channel is failing"
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// WhyNobody says whether an urgent request at at would page someone, and
// if not why: the contract (onCall false: the caller's contract has no
// on-call), then the rota, then the channels. The caller's flow says the
// matching words (Words) with the callback day instead of a vague
// "nobody can be reached". A store error reads as ReasonNobodyOnRota:
// better an honest callback day than a false promise.
func (e *Engine) WhyNobody(ctx context.Context, at time.Time, onCall bool) Reason {
	if !onCall {
		return ReasonContractWithoutOnCall
	}
	ovs, err := e.Store.ShiftOverrides(ctx, at.Add(-24*time.Hour), at.Add(24*time.Hour))
	if err != nil {
		return ReasonNobodyOnRota
	}
	calOv, err := e.Store.CalendarOverride(ctx)
	if err != nil {
		return ReasonNobodyOnRota
	}
	someone, reached := false, false
	for _, oc := range e.Schedule.WhoAt(at, ovs, calOv) {
		if oc.Person.ID == "" {
			continue
		}
		someone = true
		for _, ch := range e.ChannelsOf(oc.Person) {
			reached = true
			if e.Failing == nil || !e.Failing(ctx, ch) {
				return ReasonNone
			}
		}
	}
	switch {
	case !someone:
		return ReasonNobodyOnRota
	case !reached:
		return ReasonNoChannel
	}
	return ReasonChannelsFailing
}

// Words is what the reason tells a reader (the web page, an email), in
// their language (French unless "en"), with the day they will be called
// back by, in loc.
func (r Reason) Words(language string, callbackBy time.Time, loc *time.Location) string {
	en := strings.EqualFold(language, "en")
	day := dayFR(callbackBy, loc)
	if en {
		day = dayEN(callbackBy, loc)
	}
	var fr, eng string
	switch r {
	case ReasonNone:
		return map[bool]string{false: "Le technicien d'astreinte est appelé maintenant.", true: "The on-call technician is being called now."}[en]
	case ReasonContractWithoutOnCall:
		fr, eng = "Le contrat de ce client couvre les heures ouvrées, sans astreinte : personne n'est appelé la nuit.",
			"This customer's contract covers working hours, without on-call: nobody is called out of hours."
	case ReasonNobodyOnRota:
		fr, eng = "Personne n'est d'astreinte en ce moment (planning vide).",
			"Nobody is on call right now (nobody on the rota)."
	case ReasonNoChannel:
		fr, eng = "La personne d'astreinte n'a aucun moyen d'être appelée (ni numéro, ni adresse SIP, ni e-mail utilisables).",
			"The person on call cannot be paged (no phone, SIP address or email the pager can use)."
	case ReasonChannelsFailing:
		fr, eng = "Tous les moyens d'appeler la personne d'astreinte sont en panne.",
			"Every way of paging the person on call is failing."
	}
	if en {
		return eng + " The caller will be called back by " + day + "."
	}
	return fr + " Rappel prévu au plus tard " + day + "."
}

var (
	weekdaysFR = [7]string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	monthsFR   = [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// dayFR is "jeudi 3 décembre", "lundi 1er juin".
func dayFR(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	t = t.In(loc)
	d := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return weekdaysFR[t.Weekday()] + " " + d + " " + monthsFR[t.Month()-1]
}

// dayEN is "Thursday 3 December".
func dayEN(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format("Monday 2 January")
}
