package email

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/mail"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/audio"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/recording"
)

// compose builds the page for no, and what releases its recording. The
// recording is opened now, so that the text can say when it cannot be
// attached; the message is still sent.
func (n *Notifier) compose(no oncall.Notice, from, to *mail.Address, now time.Time) (*mailer.Message, func()) {
	t := no.Ticket
	w := wordsFor(no.Person.Language)
	loc := n.Cfg.Location
	if loc == nil {
		loc = time.Local
	}
	m := &mailer.Message{Date: now.In(loc), From: from, To: []*mail.Address{to},
		MessageID: mailer.NewMessageID(t.Number, from.Address)}
	m.Add("Auto-Submitted", "auto-generated") // RFC 3834: no auto-replies
	m.Add("X-Astreinte-Ticket", t.Number)
	if no.Event == oncall.NoticeTaken {
		// A short notice, without the recording: someone else has it.
		line := oncall.TakenText(no.Person.Language, t.Number, clean(no.TakenBy), no.TakenAt, loc)
		m.Text = line + ".\n\n" + w.nothingToDo + "\n"
		m.Subject = "Ticket " + line
		return m, func() {}
	}
	if t.Urgency == astreinte.Urgent {
		m.Add("X-Priority", "1")
		m.Add("Importance", "high")
	}
	file, att := openRecording(n.Cfg.Recordings, t, n.Cfg.maxAttachment(), w)
	release := func() {}
	if file != nil {
		m.Parts = []mailer.Part{{ContentType: "audio/wav", Name: att.name, Body: wavSnapshot(file)}}
		release = func() { file.Close() }
	}

	ackURL, until := "", time.Time{}
	if n.Cfg.Links != nil && t.ID != 0 { // no link before the ticket is written (paged from memory)
		ackURL, until = n.Cfg.Links.AckURL(t.ID, no.Person.ID)
	}
	m.Text = w.body(no, loc, n.Cfg.Region, att, ackURL, until)
	m.Subject = w.subject(t, n.Cfg.Region)
	return m, release
}

// openRecording opens the ticket's newest recording (the message the page
// is about), the file here or the store's copy of one made on another
// node (open), if it can be attached, and says otherwise why not.
func openRecording(open *recording.Opener, t astreinte.Ticket, limit int64, w *words) (*recording.File, attachment) {
	path := newest(t).Path
	if path == "" {
		return nil, attachment{note: w.noRecording}
	}
	f, err := open.Open(context.Background(), path)
	if err != nil {
		return nil, attachment{note: fmt.Sprintf(w.missing, path, reason(err))}
	}
	if f.Size > limit {
		f.Close()
		size := fmt.Sprintf("%.1f MB", float64(f.Size)/1e6)
		return nil, attachment{note: fmt.Sprintf(w.tooBig, size, path)}
	}
	if n := len(t.Recordings); n > 1 {
		return f, attachment{name: fmt.Sprintf("ticket-%s-message-%d.wav", t.Number, n)}
	}
	return f, attachment{name: "ticket-" + t.Number + ".wav"}
}

// wavSnapshot is the recording as its header describes it now. A message
// paged while the call goes on (the caller still speaking after the
// prompt) keeps growing on disk; the recorder writes samples before it
// updates the sizes, so the header's data length is always there in full,
// and the attachment is a whole WAV file of that length rather than a
// header that disagrees with what follows it.
func wavSnapshot(f *recording.File) io.Reader {
	var h [audio.WAVHeaderSize]byte
	if _, err := f.ReadAt(h[:], 0); err != nil || string(h[0:4]) != "RIFF" || string(h[36:40]) != "data" {
		return f // not the recorder's canonical header: sent as it is
	}
	size := int64(binary.LittleEndian.Uint32(h[40:44]))
	return io.NewSectionReader(f, 0, audio.WAVHeaderSize+size)
}

// reason is an error without the path that the text already gives.
func reason(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}
