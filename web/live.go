package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/astreinte/astreinte/tickets"
)

// events streams ticket changes as server-sent events ("event: ticket",
// data {"kind","number"}): the list page reloads its rows on each.
func (s *Server) events(w http.ResponseWriter, r *http.Request, u *who) {
	rc := http.NewResponseController(w)
	// The server's read and write timeouts would end the stream (an
	// expired read deadline cancels the request); this one lives as long
	// as the page.
	if err := errors.Join(rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})); err != nil {
		s.log().Debug("web: events: deadlines", "error", err)
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	ch := make(chan tickets.Change, 64)
	cancel := s.Service.Subscribe(func(c tickets.Change) {
		select {
		case ch <- c:
		default: // a slow page misses an event; the next one reloads all rows
		}
	})
	defer cancel()
	fmt.Fprint(w, "retry: 3000\n: connected\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	s.log().Debug("web: events stream", "user", u.User.Name)
	beat := time.NewTicker(25 * time.Second)
	defer beat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case <-beat.C:
			fmt.Fprint(w, ": keep-alive\n\n")
		case c := <-ch:
			number := c.Number
			if number == "" {
				if t, err := s.Service.ByID(r.Context(), c.TicketID); err == nil {
					number = t.Number
				}
			}
			b, _ := json.Marshal(map[string]string{"kind": string(c.Kind), "number": number})
			fmt.Fprintf(w, "event: ticket\ndata: %s\n\n", b)
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}
