package sip

import (
	"context"
	"log/slog"
)

// maxLoggedValue bounds a string logged by the SIP stack: sipgo logs a
// datagram it cannot parse whole, and a peer sending 60 kB of garbage must
// not write 60 kB log lines.
const maxLoggedValue = 256

// shortValues is a slog.Handler that cuts long string values.
type shortValues struct{ slog.Handler }

func (h shortValues) Handle(ctx context.Context, r slog.Record) error {
	long := false
	r.Attrs(func(a slog.Attr) bool {
		long = long || isLong(a.Value)
		return !long
	})
	if !long && len(r.Message) <= maxLoggedValue {
		return h.Handler.Handle(ctx, r)
	}
	out := slog.NewRecord(r.Time, r.Level, cut(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		if isLong(a.Value) {
			a.Value = slog.StringValue(cut(a.Value.String()))
		}
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h shortValues) WithAttrs(as []slog.Attr) slog.Handler {
	return shortValues{h.Handler.WithAttrs(as)}
}

func (h shortValues) WithGroup(name string) slog.Handler {
	return shortValues{h.Handler.WithGroup(name)}
}

func isLong(v slog.Value) bool {
	switch v.Kind() {
	case slog.KindString:
		return len(v.String()) > maxLoggedValue
	case slog.KindAny:
		if b, ok := v.Any().([]byte); ok {
			return len(b) > maxLoggedValue
		}
	}
	return false
}

func cut(s string) string {
	if len(s) <= maxLoggedValue {
		return s
	}
	return s[:maxLoggedValue] + "…(cut)"
}

// stackLogger is the logger handed to sipgo.
func stackLogger(l *slog.Logger) *slog.Logger {
	return slog.New(shortValues{l.Handler()}).With("component", "sipgo")
}
