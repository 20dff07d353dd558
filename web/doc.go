// Package web is the technicians' and admins' HTTP side, on net/http:
// login (accounts), the ticket list and each ticket with its recordings,
// timeline and actions (acknowledge, call back, resolve, work, quotes),
// the calls, the on-call schedule with taking a shift and overrides, the
// customers and their statements, a live event stream, the service's
// status, and the JSON API under /api/ (tokens). Signed, expiring
// one-click acknowledge links sent in pages live here too (GET shows the
// ticket, only POST acknowledges, because mail scanners prefetch links),
// with a health check and the on-call calendar feeds. Templates and assets are
// embedded; pages load nothing from elsewhere.
package web
