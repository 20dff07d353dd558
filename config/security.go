package config

import (
	"cmp"
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"gopkg.in/yaml.v3"
)

// Refusal modes for callers who may not call in.
const (
	RefuseReject = "reject" // answer 403 Forbidden
	RefuseDrop   = "drop"   // send nothing: a scanner learns nothing
)

// Security says who may call in and bounds what one source can cost.
type Security struct {
	// Trusted lists the networks (CIDR, or a bare address) whose INVITEs
	// are served without authentication: the PBX, the trunk's signalling
	// addresses when they are known. Registered trunks' addresses are
	// trusted too, without being listed here.
	Trusted []string `yaml:"trusted"`
	// Refuse is what a stranger's INVITE gets: reject (403) or drop.
	Refuse string `yaml:"refuse"`
	// Realm of the digest challenges sent to callers outside Trusted when
	// Accounts is not empty.
	Realm string `yaml:"realm"`
	// Accounts may call in from anywhere by passing digest authentication.
	Accounts []Account `yaml:"accounts"`
	// ScannerUserAgents are User-Agent substrings (any case) whose
	// requests are dropped unread: SIP scanners announce themselves.
	ScannerUserAgents []string `yaml:"scanner_user_agents"`
	Limits            Limits   `yaml:"limits"`
	// LogPerMinute is how many lines one source may put in the log per
	// minute for one kind of refused or malformed traffic; the rest is
	// counted and summed up in one line.
	LogPerMinute int `yaml:"log_per_minute"`
}

// Account is a SIP digest account allowed to call in.
type Account struct {
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Limits bound the work one source, and all of them together, can cause.
type Limits struct {
	// RequestsPerSecond and RequestsBurst bound every SIP request from one
	// address; requests past them are dropped before they are parsed.
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	RequestsBurst     int     `yaml:"requests_burst"`
	// CallsPerSecond and CallsBurst bound new calls (INVITEs) from one
	// address; past them: 503 with Retry-After.
	CallsPerSecond float64 `yaml:"calls_per_second"`
	CallsBurst     int     `yaml:"calls_burst"`
	// CallsPerSource and MaxCalls cap calls in progress from one address
	// and in all; past them: 503 with Retry-After, before any RTP port is
	// taken.
	CallsPerSource int `yaml:"calls_per_source"`
	MaxCalls       int `yaml:"max_calls"`
	// Sources is how many addresses the rate limits remember at once (the
	// least recently seen is forgotten first), which bounds their memory.
	Sources int `yaml:"sources"`
	// RetryAfter is the Retry-After sent with 503.
	RetryAfter time.Duration `yaml:"retry_after"`
}

// DefaultTrusted is the built-in trusted list: loopback, the private IPv4
// ranges (RFC 1918), link-local and IPv6 unique-local addresses. A first
// run on a LAN thus answers the office PBX and softphones, while nothing
// arriving from the internet is served until it is listed, registered as a
// trunk or authenticated: private source addresses are not routed on the
// internet.
var DefaultTrusted = []string{
	"127.0.0.0/8", "::1/128",
	"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
	"169.254.0.0/16", "fe80::/10",
	"fc00::/7",
}

// DefaultScannerUserAgents are the User-Agent strings of the SIP scanners
// seen on the internet.
var DefaultScannerUserAgents = []string{
	"friendly-scanner", "sipvicious", "sipcli", "vaxsipuseragent", "sip-scan",
	"sipsak", "iwar", "sundayddr", "sipptk", "smap", "pplsip", "sipbomber", "voipbuster",
}

// WithDefaults returns s with every unset field at its default; the zero
// Security (no "security" section in the file) gives the built-in policy.
func (s Security) WithDefaults() Security {
	s.Trusted = slices.Clone(s.Trusted)
	s.applyDefaults()
	return s
}

// UnmarshalYAML decodes the section strictly (unknown keys are errors, as
// everywhere else in the file) and validates it, each problem with its line.
// Defaults are applied by WithDefaults, so that a file without this section
// gets them too.
func (s *Security) UnmarshalYAML(n *yaml.Node) error {
	type plain Security
	var msgs []string
	unknownKeys(n, reflect.TypeOf(Security{}), "security", &msgs)
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	if err := n.Decode((*plain)(s)); err != nil {
		return err
	}
	var errs astreinte.FieldErrors
	s.WithDefaults().validate(&errs)
	for _, fe := range errs {
		rel := strings.TrimPrefix(strings.TrimPrefix(fe.Path, "security"), ".")
		line := lineOf(n, rel)
		if line == 0 {
			line = n.Line
		}
		msgs = append(msgs, fmt.Sprintf("line %d: %s: %s", line, fe.Path, fe.Msg))
	}
	if len(msgs) > 0 {
		return &yaml.TypeError{Errors: msgs}
	}
	return nil
}

// unknownKeys reports mapping keys of n that t has no yaml field for.
func unknownKeys(n *yaml.Node, t reflect.Type, path string, msgs *[]string) {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		if t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				unknownKeys(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), msgs)
			}
			return
		}
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct || n.Kind != yaml.MappingNode {
		return
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		ft, ok := fields[k.Value]
		if !ok {
			*msgs = append(*msgs, fmt.Sprintf("line %d: field %s not found in %s", k.Line, k.Value, path))
			continue
		}
		unknownKeys(n.Content[i+1], ft, path+"."+k.Value, msgs)
	}
}

func (s *Security) applyDefaults() {
	if s.Trusted == nil {
		s.Trusted = append([]string(nil), DefaultTrusted...)
	}
	if s.Refuse == "" {
		s.Refuse = RefuseReject
	}
	if s.Realm == "" {
		s.Realm = "astreinte"
	}
	if s.ScannerUserAgents == nil {
		s.ScannerUserAgents = append([]string(nil), DefaultScannerUserAgents...)
	}
	s.LogPerMinute = cmp.Or(s.LogPerMinute, 5)
	l := &s.Limits
	l.RequestsPerSecond = cmp.Or(l.RequestsPerSecond, 100)
	l.RequestsBurst = cmp.Or(l.RequestsBurst, 200)
	l.CallsPerSecond = cmp.Or(l.CallsPerSecond, 10)
	l.CallsBurst = cmp.Or(l.CallsBurst, 20)
	l.CallsPerSource = cmp.Or(l.CallsPerSource, 50)
	l.MaxCalls = cmp.Or(l.MaxCalls, 200)
	l.Sources = cmp.Or(l.Sources, 10000)
	l.RetryAfter = cmp.Or(l.RetryAfter, 30*time.Second)
}

// TrustedPrefixes parses Trusted (validated by Parse).
func (s Security) TrustedPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, t := range s.Trusted {
		if p, err := ParsePrefix(t); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// ParsePrefix reads "192.168.1.0/24" or a bare address ("192.0.2.7", a
// network of one).
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q: want an address or a CIDR network, e.g. 192.168.1.0/24", s)
		}
		return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: want an address or a CIDR network, e.g. 192.168.1.0/24", s)
	}
	return p.Masked(), nil
}

func (s Security) validate(errs *astreinte.FieldErrors) {
	for i, t := range s.Trusted {
		if _, err := ParsePrefix(t); err != nil {
			errs.Add(fmt.Sprintf("security.trusted[%d]", i), "%v", err)
		}
	}
	if s.Refuse != RefuseReject && s.Refuse != RefuseDrop {
		errs.Add("security.refuse", "%q: want reject or drop", s.Refuse)
	}
	users := map[string]bool{}
	for i, a := range s.Accounts {
		p := fmt.Sprintf("security.accounts[%d]", i)
		if a.Username == "" || strings.ContainsAny(a.Username, "\" \t\r\n") {
			errs.Add(p+".username", "an account needs a username without spaces or quotes")
		} else if users[a.Username] {
			errs.Add(p+".username", "%q is listed twice", a.Username)
		}
		users[a.Username] = true
		if len(a.Password) < 12 {
			errs.Add(p+".password", "use at least 12 characters: the account answers from the internet")
		}
	}
	for i, ua := range s.ScannerUserAgents {
		if strings.TrimSpace(ua) == "" {
			errs.Add(fmt.Sprintf("security.scanner_user_agents[%d]", i), "empty string would match every request")
		}
	}
	if s.LogPerMinute < 1 {
		errs.Add("security.log_per_minute", "%d: want at least 1", s.LogPerMinute)
	}
	l := s.Limits
	if l.RequestsPerSecond < 1 || l.RequestsBurst < 1 {
		errs.Add("security.limits.requests_per_second", "want a rate and a burst of at least 1")
	}
	if l.CallsPerSecond <= 0 || l.CallsBurst < 1 {
		errs.Add("security.limits.calls_per_second", "want a rate above 0 and a burst of at least 1")
	}
	if l.CallsPerSource < 1 || l.MaxCalls < 1 {
		errs.Add("security.limits.max_calls", "calls_per_source and max_calls must be at least 1")
	}
	if l.CallsPerSource > l.MaxCalls {
		errs.Add("security.limits.calls_per_source", "%d is above max_calls (%d)", l.CallsPerSource, l.MaxCalls)
	}
	if l.Sources < 16 {
		errs.Add("security.limits.sources", "%d: want at least 16", l.Sources)
	}
	if l.RetryAfter < time.Second {
		errs.Add("security.limits.retry_after", "%s: want at least 1s", l.RetryAfter)
	}
}
