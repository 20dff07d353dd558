// Package astreinte holds the domain types shared by the answering machine
// (voicemail), the pager (oncall), the store and the user interfaces: calls,
// tickets and their timelines, the paging state (pages, sends, overrides).
// It has no dependencies beyond the standard library; storage and
// transport live in sub-packages.
package astreinte
