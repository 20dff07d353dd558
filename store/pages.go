package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
)

// Paging state: one page per escalation (which step fires next, and when)
// and its outbox of sends. The engine changes a page only from the step it
// read (AdvancePage), and a send only after claiming it (ClaimSend), so two
// engines, or one restarted mid-step, neither skip nor repeat a step.

const pageColumns = `id, ticket_id, policy, state, step, next_at, created_at, acked_by, acked_via, acked_at`

func scanPage(s scanner, p *astreinte.Page) error {
	return s.Scan(&p.ID, &p.TicketID, &p.Policy, &p.State, &p.Step, timeCol{&p.NextAt}, timeCol{&p.CreatedAt},
		&p.AckedBy, &p.AckedVia, timeCol{&p.AckedAt})
}

const sendColumns = `s.id, s.page_id, s.ticket_id, s.step, s.channel, s.person, s.state, s.attempts,
	s.next_try_at, s.last_error, s.created_at, s.event`

func scanSend(s scanner, x *astreinte.Send) error {
	return s.Scan(&x.ID, &x.PageID, &x.TicketID, &x.Step, &x.Channel, &x.Person, &x.State, &x.Attempts,
		timeCol{&x.NextTryAt}, &x.LastError, timeCol{&x.CreatedAt}, &x.Event)
}

// DuePages returns the active pages whose next step is due at now, the
// most overdue first.
func (db *DB) DuePages(ctx context.Context, now time.Time) ([]astreinte.Page, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+pageColumns+` FROM pages
		WHERE state = ? AND next_at <= ? ORDER BY next_at, id`, astreinte.PageActive, ts(now))
	if err != nil {
		return nil, fmt.Errorf("due pages: %w", err)
	}
	defer rows.Close()
	var pages []astreinte.Page
	for rows.Next() {
		var p astreinte.Page
		if err := scanPage(rows, &p); err != nil {
			return nil, fmt.Errorf("due pages: %w", err)
		}
		pages = append(pages, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due pages: %w", err)
	}
	return pages, nil
}

// PageByTicket returns the ticket's most recent page, or an error wrapping
// astreinte.ErrNotFound when it was never paged for.
func (db *DB) PageByTicket(ctx context.Context, ticketID int64) (astreinte.Page, error) {
	var p astreinte.Page
	err := scanPage(db.rdb.QueryRowContext(ctx, `SELECT `+pageColumns+` FROM pages
		WHERE ticket_id = ? ORDER BY id DESC LIMIT 1`, ticketID), &p)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("page of ticket %d: %w", ticketID, astreinte.ErrNotFound)
	}
	if err != nil {
		return p, fmt.Errorf("page of ticket %d: %w", ticketID, err)
	}
	return p, nil
}

// AdvancePage fires a step: in one transaction, and only if the page is
// still active at step fromStep, it moves the page to toStep at nextAt,
// queues the sends and adds the events. It returns false, changing
// nothing, when the page has moved on (another engine advanced it, or it
// was acknowledged or ended).
//
// Each send is stored pending with its own Step, Channel and Person; its
// PageID and TicketID are the page's, its NextTryAt is now when zero. A
// send whose (page, step, channel, person) is already queued is ignored.
// An event with TicketID 0 gets the page's ticket.
func (db *DB) AdvancePage(ctx context.Context, pageID int64, fromStep, toStep int, nextAt time.Time,
	sends []astreinte.Send, events []astreinte.Event) (bool, error) {
	pending := make([]astreinte.Send, len(sends))
	for i, s := range sends {
		s.State = astreinte.SendPending
		pending[i] = s
	}
	_, ok, err := db.FireStep(ctx, pageID, fromStep, toStep, nextAt, time.Time{}, pending, events)
	return ok, err
}

// FireStep is AdvancePage for a step whose sends the caller delivers at
// once: a send whose State is SendSending is stored already claimed by the
// caller, as ClaimSend would leave it (leased until leaseUntil, one
// attempt counted; on PostgreSQL its lock is taken before the commit, so
// no other node ever sees it unlocked); the others are stored pending.
// Claiming them in the step's own transaction spares the engine a
// look-up and one commit per send between the step and its pages.
//
// ids[i] is the stored id of sends[i], 0 when it was already queued (and
// so not claimed by this call). It returns false, changing nothing, when
// the page has moved on.
func (db *DB) FireStep(ctx context.Context, pageID int64, fromStep, toStep int, nextAt, leaseUntil time.Time,
	sends []astreinte.Send, events []astreinte.Event) (ids []int64, ok bool, err error) {
	tx, err := db.beginUnsynced(ctx) // unsynced.go: fired again if a power cut loses it
	if err != nil {
		return nil, false, fmt.Errorf("advance page %d: %w", pageID, err)
	}
	defer tx.end()

	var ticketID int64
	err = tx.QueryRowContext(ctx, `UPDATE pages SET step = ?, next_at = ?
		WHERE id = ? AND state = ? AND step = ? RETURNING ticket_id`,
		toStep, ts(nextAt), pageID, astreinte.PageActive, fromStep).Scan(&ticketID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("advance page %d: %w", pageID, err)
	}
	ids, err = db.queueSends(ctx, tx.Tx, pageID, ticketID, sends, leaseUntil)
	if err == nil {
		err = db.queueEvents(ctx, tx.Tx, ticketID, events)
	}
	if err == nil {
		err = db.lockClaimed(ctx, sends, ids)
	}
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		db.releaseClaimed(sends, ids)
		return nil, false, fmt.Errorf("advance page %d: %w", pageID, err)
	}
	return ids, true, nil
}

// lockClaimed takes, on PostgreSQL, the locks of the sends FireStep
// stored claimed (pglease.go); nothing on SQLite, where a claim is its
// lease.
func (db *DB) lockClaimed(ctx context.Context, sends []astreinte.Send, ids []int64) error {
	if db.leases == nil {
		return nil
	}
	for i, s := range sends {
		if s.State == astreinte.SendSending && ids[i] != 0 {
			if err := db.leases.hold(ctx, ids[i]); err != nil {
				return fmt.Errorf("lock send %d: %w", ids[i], err)
			}
		}
	}
	return nil
}

// releaseClaimed gives back the locks lockClaimed took for a step that
// was not committed.
func (db *DB) releaseClaimed(sends []astreinte.Send, ids []int64) {
	if db.leases == nil {
		return
	}
	for i, s := range sends {
		if s.State == astreinte.SendSending && i < len(ids) && ids[i] != 0 {
			db.leases.release(ids[i])
		}
	}
}

// queue inserts a page's sends (pending; a send already queued under the
// same page, step, channel and person is ignored) and events.
func (db *DB) queue(ctx context.Context, tx *sql.Tx, pageID, ticketID int64, sends []astreinte.Send, events []astreinte.Event) error {
	pending := make([]astreinte.Send, len(sends))
	for i, s := range sends {
		s.State = astreinte.SendPending
		pending[i] = s
	}
	if _, err := db.queueSends(ctx, tx, pageID, ticketID, pending, time.Time{}); err != nil {
		return err
	}
	return db.queueEvents(ctx, tx, ticketID, events)
}

// queueSends inserts a page's sends and returns their ids (0 for a send
// already queued under the same page, step, channel and person: it is
// ignored). A send whose State is SendSending is stored claimed until
// leaseUntil with its first attempt counted, the others pending.
func (db *DB) queueSends(ctx context.Context, tx *sql.Tx, pageID, ticketID int64, sends []astreinte.Send, leaseUntil time.Time) ([]int64, error) {
	now := db.now()
	ids := make([]int64, len(sends))
	for i, s := range sends {
		at := s.NextTryAt
		if at.IsZero() {
			at = now
		}
		state, attempts := astreinte.SendPending, 0
		if s.State == astreinte.SendSending {
			state, attempts, at = astreinte.SendSending, 1, leaseUntil
		}
		ev := s.Event
		if ev == "" {
			ev = astreinte.NoticePage
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO sends (page_id, ticket_id, step, channel, person, state, attempts,
			next_try_at, created_at, event) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (page_id, step, channel, person) DO NOTHING RETURNING id`,
			pageID, ticketID, s.Step, s.Channel, s.Person, state, attempts, ts(at), ts(now), ev).Scan(&ids[i])
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("send %s to %q: %w", s.Channel, s.Person, err)
		}
	}
	return ids, nil
}

// queueEvents adds events to the timeline; TicketID 0 means ticketID.
func (db *DB) queueEvents(ctx context.Context, tx *sql.Tx, ticketID int64, events []astreinte.Event) error {
	for _, e := range events {
		if e.TicketID == 0 {
			e.TicketID = ticketID
		}
		if err := db.insertEvent(ctx, tx, e); err != nil {
			return err
		}
	}
	return nil
}

// ExhaustPage ends an active page at step fromStep as exhausted: in one
// transaction its pending pages are cancelled, the fallback sends (whose
// Event is not NoticePage: they are delivered although the page has ended)
// are queued and the events added. It returns false, changing nothing,
// when the page has moved on.
func (db *DB) ExhaustPage(ctx context.Context, pageID int64, fromStep int, sends []astreinte.Send, events []astreinte.Event) (bool, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("exhaust page %d: %w", pageID, err)
	}
	defer tx.Rollback()
	var ticketID int64
	err = tx.QueryRowContext(ctx, `UPDATE pages SET state = ? WHERE id = ? AND state = ? AND step = ? RETURNING ticket_id`,
		astreinte.PageExhausted, pageID, astreinte.PageActive, fromStep).Scan(&ticketID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("exhaust page %d: %w", pageID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = ?, last_error = ? WHERE page_id = ? AND state = ? AND event = ?`,
		astreinte.SendDone, "cancelled: page exhausted", pageID, astreinte.SendPending, astreinte.NoticePage); err != nil {
		return false, fmt.Errorf("exhaust page %d: sends: %w", pageID, err)
	}
	for i := range sends {
		if sends[i].Event == "" || sends[i].Event == astreinte.NoticePage {
			return false, fmt.Errorf("exhaust page %d: send %s to %q: want a fallback event", pageID, sends[i].Channel, sends[i].Person)
		}
	}
	if err := db.queue(ctx, tx, pageID, ticketID, sends, events); err != nil {
		return false, fmt.Errorf("exhaust page %d: %w", pageID, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("exhaust page %d: %w", pageID, err)
	}
	return true, nil
}

// QueueNotices queues sends that are not pages (an acknowledgement's
// webhook) for a page in any state. A send already queued under the same
// page, step, channel and person is ignored.
func (db *DB) QueueNotices(ctx context.Context, pageID int64, sends []astreinte.Send) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue notices of page %d: %w", pageID, err)
	}
	defer tx.Rollback()
	var ticketID int64
	err = tx.QueryRowContext(ctx, `SELECT ticket_id FROM pages WHERE id = ?`, pageID).Scan(&ticketID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("queue notices of page %d: %w", pageID, astreinte.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("queue notices of page %d: %w", pageID, err)
	}
	if err := db.queue(ctx, tx, pageID, ticketID, sends, nil); err != nil {
		return fmt.Errorf("queue notices of page %d: %w", pageID, err)
	}
	return tx.Commit()
}

// AckedUnannounced returns the pages acknowledged since since whose
// acknowledgement has no send of event NoticeAcknowledged on channel yet:
// the acknowledgements to announce, made by this process or another (the
// CLI writes the database only).
func (db *DB) AckedUnannounced(ctx context.Context, since time.Time, channel string) ([]astreinte.Page, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+pageColumns+` FROM pages p
		WHERE state = ? AND acked_at >= ? AND NOT EXISTS (SELECT 1 FROM sends s
			WHERE s.page_id = p.id AND s.event = ? AND s.channel = ?)
		ORDER BY acked_at, id LIMIT 100`, astreinte.PageAcked, ts(since), astreinte.NoticeAcknowledged, channel)
	if err != nil {
		return nil, fmt.Errorf("acknowledgements to announce: %w", err)
	}
	defer rows.Close()
	var pages []astreinte.Page
	for rows.Next() {
		var p astreinte.Page
		if err := scanPage(rows, &p); err != nil {
			return nil, fmt.Errorf("acknowledgements to announce: %w", err)
		}
		pages = append(pages, p)
	}
	return pages, rows.Err()
}

// ReclaimSending makes every send left in state sending pending again, due
// now, and returns how many there were. Only one engine runs per database
// (the one serve process), so at its start a send still sending belongs to
// a process that is gone (killed, crashed): waiting for its lease would
// delay the page by minutes. Its attempt stays counted.
func (db *DB) ReclaimSending(ctx context.Context) (int, error) {
	if db.pg {
		return db.pgReclaimSending(ctx) // several nodes: only those of the gone
	}
	res, err := db.db.ExecContext(ctx, `UPDATE sends SET state = ?, next_try_at = ?,
		last_error = 'interrupted: the process delivering it stopped' WHERE state = ?`,
		astreinte.SendPending, ts(db.now()), astreinte.SendSending)
	if err != nil {
		return 0, fmt.Errorf("reclaim sends: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// EndPage ends an active page as exhausted or cancelled, marks its pending
// sends done and adds ev (unless its Kind is empty; TicketID 0 means the
// page's ticket). A page that is no longer active is left as it is,
// without the event. It returns an error wrapping astreinte.ErrNotFound
// when the page does not exist.
func (db *DB) EndPage(ctx context.Context, pageID int64, state astreinte.PageState, ev astreinte.Event) error {
	if state != astreinte.PageExhausted && state != astreinte.PageCancelled {
		return fmt.Errorf("end page %d: state %q: want exhausted or cancelled", pageID, state)
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("end page %d: %w", pageID, err)
	}
	defer tx.Rollback()

	var ticketID int64
	var cur astreinte.PageState
	err = tx.QueryRowContext(ctx, `SELECT ticket_id, state FROM pages WHERE id = ?`, pageID).Scan(&ticketID, &cur)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("end page %d: %w", pageID, astreinte.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("end page %d: %w", pageID, err)
	}
	if cur != astreinte.PageActive {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = ?, last_error = ? WHERE page_id = ? AND state = ?`,
		astreinte.SendDone, "cancelled: page "+string(state), pageID, astreinte.SendPending); err != nil {
		return fmt.Errorf("end page %d: sends: %w", pageID, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE pages SET state = ? WHERE id = ?`, state, pageID); err != nil {
		return fmt.Errorf("end page %d: %w", pageID, err)
	}
	if ev.Kind != "" {
		if ev.TicketID == 0 {
			ev.TicketID = ticketID
		}
		if err := db.insertEvent(ctx, tx, ev); err != nil {
			return fmt.Errorf("end page %d: %w", pageID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("end page %d: %w", pageID, err)
	}
	return nil
}

// DueSends returns up to limit sends to make at now, oldest first: pending
// ones whose NextTryAt has come, and sending ones whose lease (NextTryAt)
// has expired because their worker died mid-send. Pages (event
// NoticePage) of pages that are no longer active are never due; the other
// notices are. limit <= 0 means 100.
func (db *DB) DueSends(ctx context.Context, now time.Time, limit int) ([]astreinte.Send, error) {
	if limit <= 0 {
		limit = 100
	}
	if db.pg {
		return db.pgDueSends(ctx, now, limit)
	}
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+sendColumns+` FROM sends s JOIN pages p ON p.id = s.page_id
		WHERE s.state IN (?, ?) AND s.next_try_at <= ? AND (p.state = ? OR s.event != ?)
		ORDER BY s.next_try_at, s.id LIMIT ?`,
		astreinte.SendPending, astreinte.SendSending, ts(now), astreinte.PageActive, astreinte.NoticePage, limit)
	if err != nil {
		return nil, fmt.Errorf("due sends: %w", err)
	}
	return collectSends(rows, "due sends")
}

// StepDelivering reports whether a page of pageID's step is being
// delivered by some process right now (a technician's phone ringing): a
// send of that step in state sending whose deliverer is alive. On
// PostgreSQL that is its lock held by a session of any node (a dead
// node's lock went with its connection); on SQLite, one process per
// file, its lease not yet expired. Sends on the channels in except (the
// policy's own channels, a webhook: they page nobody) do not count.
func (db *DB) StepDelivering(ctx context.Context, pageID int64, step int, except []string) (bool, error) {
	var q strings.Builder
	q.WriteString(`SELECT COUNT(*) FROM sends s
		WHERE s.page_id = ? AND s.step = ? AND s.state = ? AND s.event = ?`)
	args := []any{pageID, step, astreinte.SendSending, astreinte.NoticePage}
	for _, ch := range except {
		q.WriteString(` AND s.channel <> ?`)
		args = append(args, ch)
	}
	if db.pg {
		q.WriteString(` AND ` + heldBy)
	} else {
		q.WriteString(` AND s.next_try_at > ?`)
		args = append(args, ts(db.now()))
	}
	var n int
	if err := db.rdb.QueryRowContext(ctx, q.String(), args...).Scan(&n); err != nil {
		return false, fmt.Errorf("page %d step %d in delivery: %w", pageID, step, err)
	}
	return n > 0, nil
}

// Sends returns the sends of a page, by step.
func (db *DB) Sends(ctx context.Context, pageID int64) ([]astreinte.Send, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+sendColumns+` FROM sends s
		WHERE s.page_id = ? ORDER BY s.step, s.id`, pageID)
	if err != nil {
		return nil, fmt.Errorf("sends of page %d: %w", pageID, err)
	}
	return collectSends(rows, fmt.Sprintf("sends of page %d", pageID))
}

func collectSends(rows *sql.Rows, op string) ([]astreinte.Send, error) {
	defer rows.Close()
	var sends []astreinte.Send
	for rows.Next() {
		var s astreinte.Send
		if err := scanSend(rows, &s); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		sends = append(sends, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return sends, nil
}

// ClaimSend leases a due send to the caller until leaseUntil: a pending
// send whose NextTryAt has come, or a sending one whose lease has expired
// (both by the store's clock), becomes sending with NextTryAt = leaseUntil
// and one more attempt. It returns false when the send is not due, another
// worker holds it, it is finished, or its page is no longer active.
func (db *DB) ClaimSend(ctx context.Context, id int64, leaseUntil time.Time) (bool, error) {
	if db.pg {
		return db.pgClaimSend(ctx, id, leaseUntil) // pglease.go: the lease is also a lock
	}
	tx, err := db.beginUnsynced(ctx) // unsynced.go: claimed again if a power cut loses it
	if err != nil {
		return false, fmt.Errorf("claim send %d: %w", id, err)
	}
	defer tx.end()

	res, err := tx.ExecContext(ctx, `UPDATE sends SET state = ?, next_try_at = ?, attempts = attempts + 1
		WHERE id = ? AND state IN (?, ?) AND next_try_at <= ?
		AND (event != ? OR EXISTS (SELECT 1 FROM pages p WHERE p.id = sends.page_id AND p.state = ?))`,
		astreinte.SendSending, ts(leaseUntil), id, astreinte.SendPending, astreinte.SendSending, ts(db.now()), astreinte.NoticePage, astreinte.PageActive)
	if err != nil {
		return false, fmt.Errorf("claim send %d: %w", id, err)
	}
	ok, err := affected(res)
	if err != nil {
		return false, fmt.Errorf("claim send %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("claim send %d: %w", id, err)
	}
	return ok, nil
}

// FinishSend records the outcome of a claimed send: done, failed (retries
// used up) or pending again, to be retried at retryAt (now when zero).
// errText becomes its LastError. A send that is no longer sending (it was
// finished by a worker that took over its expired lease) keeps its state.
// ev, when not nil, is added to the timeline either way, since the attempt
// did happen; TicketID 0 means the send's ticket. It returns an error
// wrapping astreinte.ErrNotFound when the send does not exist.
func (db *DB) FinishSend(ctx context.Context, id int64, state astreinte.SendState, retryAt time.Time, errText string,
	ev *astreinte.Event) error {
	if state != astreinte.SendDone && state != astreinte.SendFailed && state != astreinte.SendPending {
		return fmt.Errorf("finish send %d: state %q: want done, failed or pending", id, state)
	}
	if db.leases != nil {
		defer db.leases.release(id) // once the outcome is committed (pglease.go)
	}
	tx, err := db.beginUnsynced(ctx) // unsynced.go: sent again if a power cut loses it
	if err != nil {
		return fmt.Errorf("finish send %d: %w", id, err)
	}
	defer tx.end()

	var ticketID int64
	err = tx.QueryRowContext(ctx, `SELECT ticket_id FROM sends WHERE id = ?`, id).Scan(&ticketID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("finish send %d: %w", id, astreinte.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("finish send %d: %w", id, err)
	}
	if state == astreinte.SendPending && retryAt.IsZero() {
		retryAt = db.now()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = ?, last_error = ?,
		next_try_at = COALESCE(?, next_try_at) WHERE id = ? AND state = ?`,
		state, errText, ts(retryAt), id, astreinte.SendSending); err != nil {
		return fmt.Errorf("finish send %d: %w", id, err)
	}
	// A page to retry whose page has ended meanwhile (acknowledged,
	// exhausted) is never due again: say so instead of leaving it pending.
	if _, err := tx.ExecContext(ctx, `UPDATE sends SET state = ?, last_error = last_error || ' (not retried: the page has ended)'
		WHERE id = ? AND state = ? AND event = ? AND NOT EXISTS (SELECT 1 FROM pages p WHERE p.id = sends.page_id AND p.state = ?)`,
		astreinte.SendFailed, id, astreinte.SendPending, astreinte.NoticePage, astreinte.PageActive); err != nil {
		return fmt.Errorf("finish send %d: %w", id, err)
	}
	if ev != nil {
		e := *ev
		if e.TicketID == 0 {
			e.TicketID = ticketID
		}
		if err := db.insertEvent(ctx, tx, e); err != nil {
			return fmt.Errorf("finish send %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("finish send %d: %w", id, err)
	}
	return nil
}

// NextWake returns when the paging engine next has something to do: the
// earliest next step of an active page, or next try (or lease expiry) of a
// pending or sending send of an active page. It returns false when there
// is nothing to wait for. On PostgreSQL it is never later than watchPoll
// from now: other nodes create tickets this one is not told of, and may
// die with a send in flight (pglease.go).
func (db *DB) NextWake(ctx context.Context) (time.Time, bool, error) {
	var t time.Time
	var s sql.NullString
	err := db.rdb.QueryRowContext(ctx, `SELECT MIN(at) FROM (
			SELECT MIN(next_at) AS at FROM pages WHERE state = ?
			UNION ALL
			SELECT MIN(s.next_try_at) FROM sends s JOIN pages p ON p.id = s.page_id
			WHERE s.state IN (?, ?) AND (p.state = ? OR s.event != ?)
		)`, astreinte.PageActive, astreinte.SendPending, astreinte.SendSending, astreinte.PageActive, astreinte.NoticePage).Scan(&s)
	if err != nil {
		return t, false, fmt.Errorf("next wake: %w", err)
	}
	if s.Valid {
		if err := (timeCol{&t}).Scan(s.String); err != nil {
			return t, false, fmt.Errorf("next wake: %w", err)
		}
	}
	if db.pg {
		if watch := db.now().Add(watchPoll); !s.Valid || t.After(watch) {
			return watch, true, nil
		}
	}
	return t, s.Valid, nil
}

// TakenUnannounced returns, for the pages acknowledged since since, the
// people paged on a channel (tried at least once, or being tried) other
// than the one who acknowledged, who have no NoticeTaken send yet: the
// people to tell that the ticket is taken. Fallback contacts and sends for
// nobody are left out.
func (db *DB) TakenUnannounced(ctx context.Context, since time.Time) ([]astreinte.Paged, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT DISTINCT p.id, p.ticket_id, s.person, s.channel, p.acked_by, p.acked_at
		FROM pages p JOIN sends s ON s.page_id = p.id
		WHERE p.state = ? AND p.acked_at >= ? AND s.event = ? AND s.person != '' AND s.person != p.acked_by
			AND s.person NOT LIKE ? AND (s.attempts > 0 OR s.state = ?)
			AND NOT EXISTS (SELECT 1 FROM sends n WHERE n.page_id = p.id AND n.event = ? AND n.person = s.person)
		ORDER BY p.acked_at, p.id, s.person, s.channel LIMIT 500`,
		astreinte.PageAcked, ts(since), astreinte.NoticePage, astreinte.FallbackPrefix+"%", astreinte.SendSending, astreinte.NoticeTaken)
	if err != nil {
		return nil, fmt.Errorf("people to tell the ticket is taken: %w", err)
	}
	defer rows.Close()
	var out []astreinte.Paged
	for rows.Next() {
		var x astreinte.Paged
		if err := rows.Scan(&x.PageID, &x.TicketID, &x.Person, &x.Channel, &x.AckedBy, timeCol{&x.AckedAt}); err != nil {
			return nil, fmt.Errorf("people to tell the ticket is taken: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}
