package astreinte

import (
	"errors"
	"fmt"
	"strings"
)

// FieldError is one problem in a configuration, located by the path of the
// field at fault, e.g. "calendar.hours.monday[1]".
type FieldError struct {
	Path string
	Msg  string
}

// Error returns "path: message", or the message alone when there is no path.
func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

// FieldErrors collects every problem found while validating a configuration,
// so that a user fixes them all in one go. Its zero value is ready to use;
// Err returns nil when nothing was added.
type FieldErrors []FieldError

// Error lists the problems, one per line.
func (e FieldErrors) Error() string {
	var b strings.Builder
	for i, fe := range e {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

// Unwrap returns each problem as an error, for errors.Is and errors.As.
func (e FieldErrors) Unwrap() []error {
	errs := make([]error, len(e))
	for i, fe := range e {
		errs[i] = fe
	}
	return errs
}

// Add records a problem at path; the message is formatted as by fmt.Sprintf.
func (e *FieldErrors) Add(path, format string, args ...any) {
	*e = append(*e, FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Append records the problems carried by err: every FieldError of a
// FieldErrors (or a single FieldError) as it is, any other error as a problem
// without a path. A nil err adds nothing.
func (e *FieldErrors) Append(err error) {
	if err == nil {
		return
	}
	var many FieldErrors
	if errors.As(err, &many) {
		*e = append(*e, many...)
		return
	}
	var one FieldError
	if errors.As(err, &one) {
		*e = append(*e, one)
		return
	}
	*e = append(*e, FieldError{Msg: err.Error()})
}

// Err returns the collected problems as an error, or nil if there are none.
func (e FieldErrors) Err() error {
	if len(e) == 0 {
		return nil
	}
	return e
}
