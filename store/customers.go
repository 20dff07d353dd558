package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/customers"
	"github.com/mattn/go-sqlite3"
)

var _ customers.Store = (*DB)(nil)

// requestKind names what made a ticket, for its first timeline entry.
func requestKind(t *astreinte.Ticket) string {
	if t.Channel == astreinte.ChannelEmail {
		return "email"
	}
	return "voicemail"
}

// ErrCustomerExists is returned when adding a customer whose number is taken.
var ErrCustomerExists = errors.New("customer number already used")

// ErrContactTaken is returned when a phone number or address belongs to
// another customer.
var ErrContactTaken = errors.New("phone number or address belongs to another customer")

// CustomerByNumber returns one customer, or an error wrapping
// astreinte.ErrNotFound.
func (db *DB) CustomerByNumber(ctx context.Context, number string) (customers.Customer, error) {
	return db.customerWhere(ctx, `number = ?`, number)
}

// CustomerByPhone returns the customer who has the E.164 number.
func (db *DB) CustomerByPhone(ctx context.Context, e164 string) (customers.Customer, error) {
	return db.customerWhere(ctx, `number = (SELECT customer FROM customer_phones WHERE phone = ?)`, e164)
}

// CustomerByEmail returns the customer who has the (lower case) address.
func (db *DB) CustomerByEmail(ctx context.Context, addr string) (customers.Customer, error) {
	return db.customerWhere(ctx, `number = (SELECT customer FROM customer_emails WHERE email = ?)`, strings.ToLower(addr))
}

func (db *DB) customerWhere(ctx context.Context, where string, arg any) (customers.Customer, error) {
	var c customers.Customer
	err := db.rdb.QueryRowContext(ctx, `SELECT number, name, contract, notes, language FROM customers WHERE `+where, arg).
		Scan(&c.Number, &c.Name, &c.Contract, &c.Notes, (*string)(&c.Language))
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("customer %v: %w", arg, customers.ErrNoCustomer)
	}
	if err != nil {
		return c, fmt.Errorf("customer %v: %w", arg, err)
	}
	if err := db.contacts(ctx, &c); err != nil {
		return c, err
	}
	return c, nil
}

func (db *DB) contacts(ctx context.Context, c *customers.Customer) error {
	var err error
	if c.Phones, err = db.strings(ctx, `SELECT phone FROM customer_phones WHERE customer = ? ORDER BY phone`, c.Number); err != nil {
		return fmt.Errorf("customer %s: phones: %w", c.Number, err)
	}
	if c.Emails, err = db.strings(ctx, `SELECT email FROM customer_emails WHERE customer = ? ORDER BY email`, c.Number); err != nil {
		return fmt.Errorf("customer %s: emails: %w", c.Number, err)
	}
	return nil
}

func (db *DB) strings(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := db.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// HasCustomers reports whether any customer is listed (one indexed row
// read, whatever their number: the caller's flow asks it on every
// unidentified call out of hours).
func (db *DB) HasCustomers(ctx context.Context) (bool, error) {
	var n int
	err := db.rdb.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM customers)`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("any customer: %w", err)
	}
	return n == 1, nil
}

// Customers lists every customer, by number.
func (db *DB) Customers(ctx context.Context) ([]customers.Customer, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT number, name, contract, notes, language FROM customers ORDER BY number`)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	var out []customers.Customer
	for rows.Next() {
		var c customers.Customer
		if err := rows.Scan(&c.Number, &c.Name, &c.Contract, &c.Notes, (*string)(&c.Language)); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list customers: %w", err)
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	for i := range out {
		if err := db.contacts(ctx, &out[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ImportCustomers adds or replaces the customers in one transaction: all
// of them are stored, or none. A customer already stored gets the name,
// contract, notes, language, phones and addresses given (notes and
// language kept when empty). It
// returns how many were added and how many updated.
func (db *DB) ImportCustomers(ctx context.Context, cs []customers.Customer) (added, updated int, err error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("import customers: %w", err)
	}
	defer tx.Rollback()
	for _, c := range cs {
		res, err := tx.ExecContext(ctx, `UPDATE customers SET name = ?, contract = ?,
			notes = CASE WHEN ? = '' THEN notes ELSE ? END, language = CASE WHEN ? = '' THEN language ELSE ? END
			WHERE number = ?`, c.Name, c.Contract, c.Notes, c.Notes, c.Language, c.Language, c.Number)
		if err != nil {
			return 0, 0, fmt.Errorf("import customer %s: %w", c.Number, err)
		}
		if ok, _ := affected(res); ok {
			updated++
		} else {
			if err := insertCustomer(ctx, tx, c, ts(db.now())); err != nil {
				return 0, 0, err
			}
			added++
		}
		if err := setContacts(ctx, tx, c); err != nil {
			return 0, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("import customers: %w", err)
	}
	return added, updated, nil
}

func insertCustomer(ctx context.Context, tx *sql.Tx, c customers.Customer, at any) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO customers (number, name, contract, notes, language, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		c.Number, c.Name, c.Contract, c.Notes, c.Language, at)
	if err != nil {
		if isConstraint(err) {
			return fmt.Errorf("customer %s: %w", c.Number, ErrCustomerExists)
		}
		return fmt.Errorf("customer %s: %w", c.Number, err)
	}
	return nil
}

// setContacts replaces a customer's phones and addresses.
func setContacts(ctx context.Context, tx *sql.Tx, c customers.Customer) error {
	for _, q := range []string{`DELETE FROM customer_phones WHERE customer = ?`, `DELETE FROM customer_emails WHERE customer = ?`} {
		if _, err := tx.ExecContext(ctx, q, c.Number); err != nil {
			return fmt.Errorf("customer %s: %w", c.Number, err)
		}
	}
	for _, p := range c.Phones {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_phones (phone, customer) VALUES (?, ?)`, p, c.Number); err != nil {
			if isConstraint(err) {
				return fmt.Errorf("customer %s: phone %s: %w", c.Number, p, ErrContactTaken)
			}
			return fmt.Errorf("customer %s: phone %s: %w", c.Number, p, err)
		}
	}
	for _, e := range c.Emails {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_emails (email, customer) VALUES (?, ?)`, e, c.Number); err != nil {
			if isConstraint(err) {
				return fmt.Errorf("customer %s: email %s: %w", c.Number, e, ErrContactTaken)
			}
			return fmt.Errorf("customer %s: email %s: %w", c.Number, e, err)
		}
	}
	return nil
}

// AddCustomer stores a new customer.
func (db *DB) AddCustomer(ctx context.Context, c customers.Customer) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertCustomer(ctx, tx, c, ts(db.now())); err != nil {
		return err
	}
	if err := setContacts(ctx, tx, c); err != nil {
		return err
	}
	return tx.Commit()
}

// UpdateCustomer replaces a stored customer's fields, phones and addresses.
func (db *DB) UpdateCustomer(ctx context.Context, c customers.Customer) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE customers SET name = ?, contract = ?, notes = ?, language = ? WHERE number = ?`,
		c.Name, c.Contract, c.Notes, c.Language, c.Number)
	if err != nil {
		return fmt.Errorf("customer %s: %w", c.Number, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("customer %s: %w", c.Number, errors.Join(err, customers.ErrNoCustomer))
	}
	if err := setContacts(ctx, tx, c); err != nil {
		return err
	}
	return tx.Commit()
}

// RemoveCustomer deletes a customer with its phones and addresses; its
// tickets keep its number.
func (db *DB) RemoveCustomer(ctx context.Context, number string) error {
	res, err := db.db.ExecContext(ctx, `DELETE FROM customers WHERE number = ?`, number)
	if err != nil {
		return fmt.Errorf("customer %s: %w", number, err)
	}
	if ok, err := affected(res); err != nil || !ok {
		return fmt.Errorf("customer %s: %w", number, errors.Join(err, customers.ErrNoCustomer))
	}
	return nil
}

// TicketsOfCustomer lists a customer's tickets, oldest first.
func (db *DB) TicketsOfCustomer(ctx context.Context, number string) ([]astreinte.Ticket, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT `+ticketColumns+` FROM tickets WHERE customer = ? ORDER BY created_at, id`, number)
	if err != nil {
		return nil, fmt.Errorf("tickets of %s: %w", number, err)
	}
	defer rows.Close()
	var out []astreinte.Ticket
	for rows.Next() {
		var t astreinte.Ticket
		if err := scanTicket(rows, &t); err != nil {
			return nil, fmt.Errorf("tickets of %s: %w", number, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint || isPgConstraint(err)
}

// ContractsInUse counts the customers on each contract.
func (db *DB) ContractsInUse(ctx context.Context) (map[string]int, error) {
	rows, err := db.rdb.QueryContext(ctx, `SELECT contract, COUNT(*) FROM customers GROUP BY contract`)
	if err != nil {
		return nil, fmt.Errorf("contracts in use: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var name string
		var n int
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("contracts in use: %w", err)
		}
		out[name] = n
	}
	return out, rows.Err()
}
