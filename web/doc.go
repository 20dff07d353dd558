// Package web serves the technicians' HTTP side: signed, expiring one-click
// acknowledge links sent in pages (GET shows the ticket, only POST
// acknowledges, because mail scanners prefetch links) and a health check.
// Templates are embedded; pages load nothing from elsewhere.
package web
