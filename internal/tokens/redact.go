package tokens

import (
	"context"
	"log/slog"
	"regexp"
)

// tokenShape matches GitHub token formats: gho_ (OAuth), ghu_ (user-to-server),
// ghr_ (refresh), ghs_ (installation), ghp_ (classic PAT), github_pat_ (fine-grained).
var tokenShape = regexp.MustCompile(`gh[pousr]_[A-Za-z0-9_]+|github_pat_[A-Za-z0-9_]+`)

// olderToken matches GitHub's older token format, 40 hex digits, where a
// token is given ("token …", "Bearer …", "access_token=…"); alone, 40 hex
// digits are more likely a commit SHA and are kept.
var olderToken = regexp.MustCompile(`(?i)(token|bearer)([\s:="']+)[0-9a-f]{40}\b`)

// Redact replaces anything shaped like a GitHub token in s.
func Redact(s string) string {
	s = tokenShape.ReplaceAllString(s, "[REDACTED]")
	return olderToken.ReplaceAllString(s, "${1}${2}[REDACTED]")
}

// RedactingHandler wraps a slog.Handler so that no message or attribute
// (errors included) carries a GitHub token, whatever the caller logged.
func RedactingHandler(next slog.Handler) slog.Handler { return redacting{next} }

type redacting struct{ next slog.Handler }

func (h redacting) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h redacting) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h redacting) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = redactAttr(a)
	}
	return redacting{h.next.WithAttrs(clean)}
}

func (h redacting) WithGroup(name string) slog.Handler { return redacting{h.next.WithGroup(name)} }

func redactAttr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, Redact(v.String()))
	case slog.KindGroup:
		g := v.Group()
		clean := make([]any, len(g))
		for i, ga := range g {
			clean[i] = redactAttr(ga)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		// errors, Stringers, structs: render then redact.
		switch x := v.Any().(type) {
		case error:
			return slog.String(a.Key, Redact(x.Error()))
		case interface{ String() string }:
			return slog.String(a.Key, Redact(x.String()))
		default:
			return slog.String(a.Key, Redact(slog.AnyValue(x).String()))
		}
	}
	return slog.Attr{Key: a.Key, Value: v}
}
