// Package oncall decides when support is open (calendar: hours, holidays,
// closures, manual overrides), who is on call (rotations, escalation tiers,
// shift overrides) and pages them until someone acknowledges (the paging
// engine). Schedule maths are pure functions of the time they are given;
// paging state lives in the store so that it survives a restart.
package oncall
