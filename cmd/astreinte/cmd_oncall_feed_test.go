package main

import "testing"

func TestOncallFeedPrintsTheAddress(t *testing.T) {
	c := newCLI(t, "2026-11-16 09:00")
	c.want([]string{"oncall", "feed", "alice"}, "On-call calendar of Alice Martin", "/oncall/alice.ics?token=")
}
