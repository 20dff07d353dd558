// Package calendar says whether support is open at a time and why: weekly
// opening hours in one time zone, public holidays (French by default),
// one-off closures and exceptional openings, and the manual "force open
// or closed" override set from the CLI (Calendar.StateAt, NextOpen). It
// also moves due times by business days (AddBusinessDays). Calendar is
// pure: times and the override are inputs; Live reads the override from
// the store at each question.
package calendar
