// Package webhook pages by POSTing a signed JSON document to a URL, for
// chat bridges, ticketing systems or home-made integrations. The format,
// headers and signature are described in docs/webhook.md; Verify is the
// receiving side of Sign.
//
// A Notifier error means "not delivered, try again": anything but a 2xx
// answer within the timeout. Retries are the paging engine's job.
package webhook

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte/oncall"
)

// Version is the version of the JSON document, sent as "version".
const Version = 1

// Defaults for the zero Notifier.
const (
	DefaultTimeout = 10 * time.Second
)

// HTTP headers of a webhook request.
const (
	HeaderTimestamp = "X-Astreinte-Timestamp" // unix seconds, signed
	HeaderSignature = "X-Astreinte-Signature" // "sha256=<hex>", see Sign
	HeaderDelivery  = "X-Astreinte-Delivery"  // unique per attempt
)

// Notifier posts pages to a URL. Only URL is required. It implements
// oncall.Notifier.
type Notifier struct {
	URL string
	// Secret signs each request (X-Astreinte-Signature); without it the
	// header is left out.
	Secret string
	// Client sends the requests (default: one that does not follow
	// redirects, so that a moved endpoint shows as an error).
	Client  *http.Client
	Timeout time.Duration // per attempt (default 10 s)
	// Links makes the acknowledge link (ack_url) for notices that name a
	// person (none when nil).
	Links oncall.AckLinks
	Now   func() time.Time // default time.Now
}

var _ oncall.Notifier = (*Notifier)(nil)

// Reaches is false for everyone: the webhook is posted once per escalation
// step, naming the person paged, and once per acknowledgement and end of
// escalation (Engine.PolicyChannels), not as one of a person's channels.
func (n *Notifier) Reaches(oncall.Person) bool { return false }

// Rings reports false: the posts for two tickets go together.
func (n *Notifier) Rings() bool { return false }

// Payload is the JSON document posted (version 1).
type Payload struct {
	Version  int    `json:"version"`
	Event    string `json:"event"`    // "page", "escalation.exhausted" or "ticket.acknowledged"
	Delivery string `json:"delivery"` // as X-Astreinte-Delivery: unique per attempt
	// PageKey is the same for every attempt of one page to one recipient
	// ("<ticket id>/<step>/<person id>"), or of one other event
	// ("<ticket id>/<event>"): receivers deduplicate on it.
	PageKey string `json:"page_key"`
	SentAt  string `json:"sent_at"` // RFC 3339
	Ticket  Ticket `json:"ticket"`
	Tier    string `json:"tier"`
	Step    int    `json:"step"`
	Round   int    `json:"round"`
	// Person is the technician paged (page), who acknowledged
	// (ticket.acknowledged), or null when nobody is on call for the step
	// and in escalation.exhausted.
	Person *Person `json:"person"`
	AckURL string  `json:"ack_url,omitempty"` // signed one-click link for Person, on a page
}

// Ticket is the ticket as sent in a Payload.
type Ticket struct {
	ID           int64  `json:"id"`
	Number       string `json:"number"`
	Urgency      string `json:"urgency"` // "urgent" or "normal"
	Status       string `json:"status"`
	Case         string `json:"case"`
	Line         string `json:"line"`
	CallerNumber string `json:"caller_number"` // "" when withheld
	// CallbackNumber is the number to call back in E.164: the caller ID
	// when it is a number, or the number a hidden caller typed; "" when
	// none is known.
	CallbackNumber  string  `json:"callback_number,omitempty"`
	CallerName      string  `json:"caller_name"`
	CreatedAt       string  `json:"created_at"` // RFC 3339
	DueAt           *string `json:"due_at"`     // RFC 3339, null when none
	DurationSeconds int     `json:"duration_seconds"`
	RecordingPath   string  `json:"recording_path"` // on the astreinte server: the first call's
	// RecordingCount is how many messages the ticket has: more than one
	// when the same caller called again while it was open.
	RecordingCount int `json:"recording_count"`
	// Recordings are every message, newest first (the one paged for).
	Recordings []Recording `json:"recordings"`
}

// Recording is one message of the ticket, as sent in a Payload.
type Recording struct {
	Seq             int    `json:"seq"`     // in call order: 1 for the first call's
	At              string `json:"at"`      // RFC 3339
	Urgency         string `json:"urgency"` // "urgent" or "normal", as the caller chose on that call
	DurationSeconds int    `json:"duration_seconds"`
	Path            string `json:"path"` // on the astreinte server
}

// Person is the technician paged, as sent in a Payload.
type Person struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	SIP   string `json:"sip"`
}

// defaultClient does not follow redirects: a 3xx is reported as such.
var defaultClient = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

func (n *Notifier) now() time.Time {
	if n.Now != nil {
		return n.Now()
	}
	return time.Now()
}

// NewPayload builds the document for a notice.
func (n *Notifier) NewPayload(no oncall.Notice, now time.Time, delivery string) Payload {
	t := no.Ticket
	event := no.Event
	if event == "" {
		event = oncall.NoticePage
	}
	id := strconv.FormatInt(t.ID, 10)
	if t.ID == 0 {
		id = "unsaved:" + t.Recording // paged from memory before it could be written
	}
	key := fmt.Sprintf("%s/%d/%s", id, no.Step, no.Person.ID)
	if len(t.Recordings) > 1 { // a page restarted by a later message is a new page
		key += fmt.Sprintf("/m%d", len(t.Recordings))
	}
	if event != oncall.NoticePage {
		key = fmt.Sprintf("%s/%s", id, event)
	}
	p := Payload{
		Version: Version, Event: event, Delivery: delivery,
		PageKey: key,
		SentAt:  now.Format(time.RFC3339),
		Ticket: Ticket{
			ID: t.ID, Number: t.Number, Urgency: string(t.Urgency), Status: string(t.Status), Case: string(t.Case),
			Line: t.Line, CallerNumber: t.CallerNumber, CallbackNumber: t.CallbackNumber, CallerName: t.CallerName,
			CreatedAt:       t.CreatedAt.Format(time.RFC3339),
			DurationSeconds: int(t.Duration.Round(time.Second) / time.Second),
			RecordingPath:   t.Recording,
			RecordingCount:  len(t.Recordings),
			Recordings:      []Recording{},
		},
		Tier: no.Tier, Step: no.Step, Round: no.Round,
	}
	for i, r := range t.Recordings {
		p.Ticket.Recordings = append(p.Ticket.Recordings, Recording{Seq: len(t.Recordings) - i, At: r.At.Format(time.RFC3339),
			Urgency: string(r.Urgency), DurationSeconds: int(r.Duration.Round(time.Second) / time.Second), Path: r.Path})
	}
	if len(t.Recordings) == 0 && t.Recording != "" { // paged from memory: its own recording only
		p.Ticket.RecordingCount = 1
		p.Ticket.Recordings = append(p.Ticket.Recordings, Recording{Seq: 1, At: t.CreatedAt.Format(time.RFC3339),
			Urgency: string(t.Urgency), DurationSeconds: p.Ticket.DurationSeconds, Path: t.Recording})
	}
	if !t.DueAt.IsZero() {
		due := t.DueAt.Format(time.RFC3339)
		p.Ticket.DueAt = &due
	}
	if no.Person.ID != "" {
		p.Person = &Person{ID: no.Person.ID, Name: no.Person.Name, Email: no.Person.Email, SIP: no.Person.SIP}
		if n.Links != nil && event == oncall.NoticePage && t.ID != 0 {
			p.AckURL, _ = n.Links.AckURL(t.ID, no.Person.ID)
		}
	}
	return p
}

// Notify posts the notice. A 2xx answer is a delivery (Detail "HTTP 200");
// anything else, a transport error or the timeout is an error giving the
// status and the start of the answer. Errors name the URL's host only: its
// path may hold a token.
func (n *Notifier) Notify(ctx context.Context, no oncall.Notice) (oncall.Result, error) {
	u, err := url.Parse(n.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return oncall.Result{}, errors.New("webhook: URL is not an http(s) URL")
	}
	now := n.now()
	delivery := strings.ToLower(rand.Text())
	body, err := json.Marshal(n.NewPayload(no, now, delivery))
	if err != nil {
		return oncall.Result{}, fmt.Errorf("webhook: encode: %w", err)
	}
	timeout := n.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(body))
	if err != nil {
		return oncall.Result{}, fmt.Errorf("webhook %s: %w", u.Host, err)
	}
	ts := strconv.FormatInt(now.Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "astreinte")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderDelivery, delivery)
	if n.Secret != "" {
		req.Header.Set(HeaderSignature, Sign([]byte(n.Secret), ts, body))
	}
	client := n.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // its text repeats the whole URL
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return oncall.Result{}, fmt.Errorf("webhook %s: no answer within %s: %w", u.Host, timeout, err)
		}
		return oncall.Result{}, fmt.Errorf("webhook %s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // so that the connection can be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return oncall.Result{Detail: "HTTP " + strconv.Itoa(resp.StatusCode)}, nil
	}
	msg := fmt.Sprintf("webhook %s: HTTP %d", u.Host, resp.StatusCode)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (redirects are not followed)"
	}
	if s := strings.TrimSpace(strings.ToValidUTF8(string(head), "")); s != "" {
		msg += ": " + strconv.Quote(s)
	}
	return oncall.Result{}, errors.New(msg)
}
