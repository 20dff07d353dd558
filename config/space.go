package config

import (
	"net/mail"
	"net/url"
	"strings"

	"github.com/astreinte/astreinte"
)

// Space configures the customer space at /client/ (on the http listener,
// at http.base_url) and the appointments booked there.
type Space struct {
	// VideoRoom is the address of a video appointment's room, with
	// placeholders {ticket} (the ticket number), {id} (the appointment) and
	// {token} (a random word nobody can guess): Jitsi Meet
	// https://meet.jit.si/astreinte-{ticket}-{token}, BigBlueButton
	// https://bbb.example.com/rooms/{token}/join, Nextcloud Talk
	// https://cloud.example.com/call/{token}.
	VideoRoom string `yaml:"video_room"`
	// Desk is the support desk's address: it gets a copy of every
	// appointment's invitation (the technicians' side). Empty:
	// paging.email.from.
	Desk string `yaml:"desk"`
	// MaxFiles and MaxUploadMB bound a request's attachments.
	MaxFiles    int `yaml:"max_files"`
	MaxUploadMB int `yaml:"max_upload_mb"`
}

// Defaults of the space section.
const (
	DefaultVideoRoom   = "https://meet.jit.si/astreinte-{ticket}-{token}"
	DefaultMaxFiles    = 5
	DefaultMaxUploadMB = 10
)

// validateSpace fills the space section's defaults and checks it.
func (c *Config) validateSpace(errs *astreinte.FieldErrors) {
	s := &c.Space
	if s.VideoRoom == "" {
		s.VideoRoom = DefaultVideoRoom
	}
	if u, err := url.Parse(s.VideoRoom); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs.Add("space.video_room", "%q: want an http(s) address such as %s", s.VideoRoom, DefaultVideoRoom)
	} else if !strings.Contains(s.VideoRoom, "{token}") && !strings.Contains(s.VideoRoom, "{id}") {
		errs.Add("space.video_room", "%q: put {token} (or {id}) in it, so that nobody can guess a room", s.VideoRoom)
	}
	if s.Desk != "" {
		if _, err := mail.ParseAddress(s.Desk); err != nil {
			errs.Add("space.desk", "%q: want an email address", s.Desk)
		}
	}
	if s.MaxFiles == 0 {
		s.MaxFiles = DefaultMaxFiles
	}
	if s.MaxUploadMB == 0 {
		s.MaxUploadMB = DefaultMaxUploadMB
	}
	if s.MaxFiles < 0 || s.MaxFiles > 50 {
		errs.Add("space.max_files", "%d: want 1 to 50", s.MaxFiles)
	}
	if s.MaxUploadMB < 0 || s.MaxUploadMB > 100 {
		errs.Add("space.max_upload_mb", "%d: want 1 to 100", s.MaxUploadMB)
	}
}

// DeskAddress is where appointment invitations are copied: space.desk,
// else paging.email.from's address.
func (c *Config) DeskAddress() string {
	if c.Space.Desk != "" {
		return c.Space.Desk
	}
	if a, err := mail.ParseAddress(c.Paging.Email.From); err == nil {
		return a.Address
	}
	return ""
}
