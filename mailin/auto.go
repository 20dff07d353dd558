package mailin

import (
	"mime"
	"net/mail"
	"regexp"
	"strings"
)

var msgIDRe = regexp.MustCompile(`<([^<>\s]+)>`)

// msgIDs reads a list of Message-IDs ("<a@b> <c@d>"), without the angle
// brackets; a lone id without brackets is taken as it is.
func msgIDs(s string) []string {
	var ids []string
	for _, sm := range msgIDRe.FindAllStringSubmatch(s, 50) {
		ids = append(ids, sm[1])
	}
	if len(ids) == 0 {
		if f := strings.Fields(s); len(f) == 1 && strings.Contains(f[0], "@") {
			ids = append(ids, strings.Trim(f[0], "<>"))
		}
	}
	return ids
}

// Sender local parts of mail that programs send.
var robots = []string{"mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply", "bounce", "bounces"}

// automatic says why a program sent the message, or "" for a person: the
// Auto-Submitted field (RFC 3834), Precedence bulk, list or junk, the
// auto-reply fields of common mail programs, a mailing list, a delivery
// or read report, or a robot's address.
func automatic(h mail.Header, from string) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && !strings.HasPrefix(v, "no") {
		return "Auto-Submitted: " + v
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v {
	case "bulk", "list", "junk", "auto_reply":
		return "Precedence: " + v
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id", "List-Unsubscribe", "Feedback-ID"} {
		if h.Get(k) != "" {
			return k
		}
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt == "multipart/report" {
		return "report (" + params["report-type"] + ")"
	}
	if rp := strings.TrimSpace(h.Get("Return-Path")); rp == "<>" {
		return "null return path (a bounce)"
	}
	local, _, _ := strings.Cut(from, "@")
	for _, r := range robots {
		if local == r || strings.HasPrefix(local, r+"+") || strings.HasPrefix(local, r+"-") {
			return "robot sender " + from
		}
	}
	return ""
}
