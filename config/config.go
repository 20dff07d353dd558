// Package config reads astreinte's YAML configuration: the embedded,
// commented default (printed by `astreinte config example`) or an admin's
// file, decoded strictly (unknown keys are errors) and validated with every
// problem reported at once, each with its line.
package config

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/calendar"
	"github.com/astreinte/astreinte/lang"
	"github.com/astreinte/astreinte/mailer"
	"github.com/astreinte/astreinte/oncall"
	"github.com/astreinte/astreinte/vad"
	"gopkg.in/yaml.v3"
)

//go:embed default.yaml
var defaultYAML []byte

// Example returns the commented default configuration.
func Example() []byte { return bytes.Clone(defaultYAML) }

// Config is the whole configuration.
type Config struct {
	DataDir  string                `yaml:"data_dir"`
	Log      Log                   `yaml:"log"`
	SIP      SIP                   `yaml:"sip"`
	HTTP     HTTP                  `yaml:"http"`
	Lines    []Line                `yaml:"lines"`
	Calendar calendar.Config       `yaml:"calendar"`
	OnCall   oncall.ScheduleConfig `yaml:"oncall"`
	Paging   Paging                `yaml:"paging"`
	Clock    Clock                 `yaml:"clock"`
	Trunks   Trunks                `yaml:"trunks"`   // config/trunks.go
	Security Security              `yaml:"security"` // who may call in, limits: see security.go

	Customers Customers `yaml:"customers"` // contracts and customer matching (contracts.go)
	Mail      Mail      `yaml:"mail"`      // the desk's email with requesters (mail.go)
	Space     Space     `yaml:"space"`     // the customer space and appointments (space.go)
	Store     Store     `yaml:"store"`     // the database: SQLite or PostgreSQL (store.go)

	// Source is the file the configuration came from ("" for the default).
	Source string `yaml:"-"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// SIP configures the SIP endpoint.
type SIP struct {
	Listen             string        `yaml:"listen"`
	Transports         []string      `yaml:"transports"`
	ExternalIP         string        `yaml:"external_ip"`
	RTPPorts           string        `yaml:"rtp_ports"`
	MediaTimeout       time.Duration `yaml:"media_timeout"`
	FirstPacketTimeout time.Duration `yaml:"first_packet_timeout"`
	UserAgent          string        `yaml:"user_agent"`
	DrainTimeout       time.Duration `yaml:"drain_timeout"`
	TLS                SIPTLS        `yaml:"tls"` // config/trunks.go
}

// RTPRange parses RTPPorts ("10000-20000").
func (s SIP) RTPRange() (int, int, error) {
	lo, hi, ok := strings.Cut(s.RTPPorts, "-")
	a, err1 := strconv.Atoi(strings.TrimSpace(lo))
	b, err2 := strconv.Atoi(strings.TrimSpace(hi))
	if !ok || err1 != nil || err2 != nil || a < 1024 || b > 65535 || b-a < 2 {
		return 0, 0, fmt.Errorf("%q: want MIN-MAX within 1024-65535, e.g. 10000-20000", s.RTPPorts)
	}
	return a, b, nil
}

// HTTP configures the web listener (acknowledge links, health).
type HTTP struct {
	Listen string `yaml:"listen"` // host:port; "off" disables it
	// TLSCert and TLSKey are PEM files (certificate chain, private key):
	// set both to serve HTTPS on Listen.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// BaseURL is the web pages' public address, as phones and customers
	// reach it: acknowledge links, the customer space, links in emails.
	// Empty: paging.base_url (its former key, still read), else derived
	// from Listen.
	BaseURL string `yaml:"base_url"`
}

// Open actions for a line during opening hours.
const (
	OpenVoicemail = "voicemail" // play the in-hours greeting and take a message
	OpenRedirect  = "redirect"  // 302 to the support desk
)

// Line is one support line: the numbers it answers and how.
type Line struct {
	Name           string               `yaml:"name"`
	Numbers        []string             `yaml:"numbers"`
	Language       string               `yaml:"language"`
	PromptsDir     string               `yaml:"prompts_dir"`
	AnswerAfter    time.Duration        `yaml:"answer_after"`
	OpenAction     string               `yaml:"open_action"`
	RedirectTo     string               `yaml:"redirect_to"`
	Page           astreinte.PagePolicy `yaml:"page"`
	UrgencyTimeout time.Duration        `yaml:"urgency_timeout"`
	Record         Record               `yaml:"record"`
	Due            Due                  `yaml:"due"`
	SRTP           string               `yaml:"srtp"` // "" or "offered": SRTP when the caller offers it; "required" (config/srtp.go)

	LineCaller `yaml:",inline"` // country, missed_calls (caller.go)
}

// Record bounds a voicemail.
type Record struct {
	MaxLength        time.Duration `yaml:"max_length"`
	Silence          time.Duration `yaml:"silence"`
	MinLength        time.Duration `yaml:"min_length"`
	SilenceThreshold float64       `yaml:"silence_threshold_dbfs"`
}

// Due sets when a ticket is due, in business days (0: now).
type Due struct {
	Urgent int `yaml:"urgent"`
	Normal int `yaml:"normal"`
}

// Paging configures how technicians are paged.
type Paging struct {
	BaseURL string        `yaml:"base_url"`
	LinkTTL time.Duration `yaml:"link_ttl"`
	SIP     SIPPage       `yaml:"sip"`
	Email   Email         `yaml:"email"`
	Webhook Webhook       `yaml:"webhook"`
	Retries int           `yaml:"retries"`
	// Fallback is paged when nobody acknowledged after every tier and
	// round (the webhook also gets an escalation.exhausted event).
	Fallback Fallback `yaml:"fallback"`
}

// Fallback is who is paged when escalation is exhausted.
type Fallback struct {
	Emails []string `yaml:"emails"` // needs paging.email.smtp
}

// SIPPage configures SIP call-outs to technicians.
type SIPPage struct {
	Enabled     *bool         `yaml:"enabled"`
	FromUser    string        `yaml:"from_user"`
	FromDisplay string        `yaml:"from_display"`
	RingTimeout time.Duration `yaml:"ring_timeout"`
	Proxy       string        `yaml:"proxy"`
	Username    string        `yaml:"username"`
	Password    string        `yaml:"password"`
	Message     bool          `yaml:"message"` // also send a SIP MESSAGE (SIP URI, or phone number through paging.sip.proxy); tells people paged by phone that the ticket is taken
	Trunk       string        `yaml:"trunk"`   // place call-outs through this trunk (config/trunks.go)
}

// Email configures SMTP paging.
type Email struct {
	SMTP     string `yaml:"smtp"` // host:port; empty disables email
	From     string `yaml:"from"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	TLS      string `yaml:"tls"` // starttls (default: when offered), required, none, implicit
	// CAFile is a PEM file of the certificates to trust for the SMTP
	// server (a relay with a private CA); empty: the system's roots.
	CAFile string `yaml:"ca_file"`
}

// DefaultLine is the line tickets belong to when nothing names one
// (email, the customer space, the CLI): the first.
func (c *Config) DefaultLine() string {
	if len(c.Lines) > 0 {
		return c.Lines[0].Name
	}
	return ""
}

// CustomerLanguage is the language of mail to customers whose record
// names none: the first line's.
func (c *Config) CustomerLanguage() lang.Tag {
	if len(c.Lines) > 0 {
		if t, ok := lang.Parse(c.Lines[0].Language); ok {
			return t
		}
	}
	return lang.Default
}

// SecureCookies reports whether the pages are reached over HTTPS (served
// with TLS, or behind a proxy named https in base_url): their cookies are
// then Secure.
func (h HTTP) SecureCookies() bool {
	return h.TLSCert != "" || strings.HasPrefix(h.BaseURL, "https://")
}

// Mailer is the line's one mail transport (paging.email): pages,
// the desk's copies and mail to customers all go through it. Its zero
// value (no smtp) sends nothing: mailer.ErrNotConfigured.
func (c *Config) Mailer() (mailer.Config, error) {
	e := c.Paging.Email
	m := mailer.Config{Addr: e.SMTP, From: e.From, Username: e.Username, Password: e.Password, TLS: e.TLS}
	if e.CAFile != "" {
		pool, err := LoadCAFile(e.CAFile)
		if err != nil {
			return m, fmt.Errorf("paging.email.ca_file: %w", err)
		}
		m.TLSConfig = &tls.Config{RootCAs: pool}
	}
	return m, nil
}

// Webhook configures the JSON webhook.
type Webhook struct {
	URL     string        `yaml:"url"`
	Secret  string        `yaml:"secret"`
	Timeout time.Duration `yaml:"timeout"`
}

// Clock lets tests run the service at a chosen time.
type Clock struct {
	// Now, when set (RFC 3339), makes the service's clock start at that
	// instant and run on from there. For tests and demonstrations only.
	Now string `yaml:"now"`
}

// Problem is one configuration error with its place: the line and column
// in the file, the key path (lines[0].record.silence), what is wrong and
// what is expected, in plain words, and a hint (a key's likely spelling).
type Problem struct {
	Line   int
	Column int
	Path   string
	Msg    string
	Hint   string
}

// Problems is every error found in a configuration.
type Problems struct {
	File string
	List []Problem
}

func (p *Problems) Error() string {
	var b strings.Builder
	for i, e := range p.List {
		if i > 0 {
			b.WriteByte('\n')
		}
		file := p.File
		if file == "" {
			file = "(default config)"
		}
		b.WriteString(e.where(file))
		if e.Path != "" {
			fmt.Fprintf(&b, "%s: ", e.Path)
		}
		b.WriteString(e.Msg)
		if e.Hint != "" {
			b.WriteString("; " + e.Hint)
		}
	}
	return b.String()
}

// where is "file:line:column: ", as much of it as is known.
func (e Problem) where(file string) string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: ", file, e.Line, e.Column)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: ", file, e.Line)
	}
	return file + ": "
}

// Default returns the embedded default configuration.
func Default() (*Config, error) { return Parse(defaultYAML, "") }

// Load reads and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(b, path)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// Parse decodes and validates a configuration; file names it in errors.
func Parse(b []byte, file string) (*Config, error) {
	cfg, _, probs := parse(b, file)
	if len(probs.List) > 0 {
		return nil, probs
	}
	return cfg, nil
}

// parse decodes and validates a configuration, reporting every problem
// at once: type errors and unknown keys do not hide the other problems
// (the fields in error keep their zero value, then their default, and
// what validation says of a line with a type error is left out). Only
// YAML that does not parse stops it; then cfg and root are nil.
func parse(b []byte, file string) (*Config, *yaml.Node, *Problems) {
	probs := &Problems{File: file}
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		probs.List = append(probs.List, yamlProblems(err)...)
		return nil, nil, probs
	}
	// Unknown keys and values of the wrong kind, in plain words, where they
	// are; then the decoder fills what it can (a value in error keeps its
	// zero value, then its default).
	typeLines := map[int]bool{}
	checkNode(&root, reflect.TypeFor[Config](), "", func(p Problem) {
		typeLines[p.Line] = true
		probs.List = append(probs.List, p)
	})
	cfg := &Config{Source: file}
	if root.Kind == 0 { // an empty file: all defaults
	} else if err := root.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			probs.List = append(probs.List, yamlProblems(err)...)
			return nil, nil, probs
		}
		for _, p := range yamlProblems(err) {
			if !typeLines[p.Line] { // not already said in plain words
				typeLines[p.Line] = true
				probs.List = append(probs.List, p)
			}
		}
	}
	cfg.applyDefaults()
	for _, fe := range cfg.validate() {
		line, col := posOf(&root, fe.Path)
		if line > 0 && typeLines[line] {
			continue // the value was not decoded: its type error says it
		}
		probs.List = append(probs.List, Problem{Line: line, Column: col, Path: fe.Path, Msg: fe.Msg})
	}
	probs.sort()
	return cfg, &root, probs
}

func yamlProblems(err error) []Problem {
	var te *yaml.TypeError
	var out []Problem
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, m := range msgs {
		m = strings.TrimPrefix(m, "yaml: ")
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			out = append(out, Problem{Line: n, Msg: plainYAML(sm[2])})
			continue
		}
		out = append(out, Problem{Msg: plainYAML(m)})
	}
	return out
}

var yamlTypeError = regexp.MustCompile("^cannot unmarshal !!\\w+ `(.*)` into (.*)$")

// plainYAML rewrites the decoder's words ("cannot unmarshal !!str `x`
// into time.Duration") as the rest of the report speaks.
func plainYAML(m string) string {
	sm := yamlTypeError.FindStringSubmatch(m)
	if sm == nil {
		return m
	}
	want := "a value of another kind"
	switch t := sm[2]; {
	case t == "time.Duration":
		want = expected(durationType)
	case t == "bool":
		want = "true or false"
	case strings.HasPrefix(t, "int") || strings.HasPrefix(t, "uint"):
		want = "a whole number"
	case strings.HasPrefix(t, "float"):
		want = "a number"
	case t == "string":
		want = "a text value"
	case strings.HasPrefix(t, "[]"):
		want = "a list"
	case strings.HasPrefix(t, "map["):
		want = "a mapping"
	default:
		want = "a mapping of keys (key: value)"
	}
	return fmt.Sprintf("%q: want %s", sm[1], want)
}

// applyDefaults gives every unset key its default, section by section.
func (c *Config) applyDefaults() {
	c.serviceDefaults()
	if len(c.Lines) == 0 {
		c.Lines = []Line{{Name: "support", Numbers: []string{"support"}}}
	}
	for i := range c.Lines {
		c.Lines[i].setDefaults()
	}
	c.pagingDefaults()
	c.trunkDefaults()
	c.mailDefaults()
}

// serviceDefaults: the data directory, the log, the SIP and web listeners.
func (c *Config) serviceDefaults() {
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.Store.Driver == "" {
		c.Store.Driver = StoreSQLite
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if c.Log.Format == "" {
		c.Log.Format = "text"
	}
	s := &c.SIP
	if s.Listen == "" {
		s.Listen = "0.0.0.0:5060"
	}
	if len(s.Transports) == 0 {
		s.Transports = []string{"udp", "tcp"}
	}
	if s.RTPPorts == "" {
		s.RTPPorts = "10000-20000"
	}
	if s.MediaTimeout == 0 {
		s.MediaTimeout = 15 * time.Second
	}
	if s.FirstPacketTimeout == 0 {
		s.FirstPacketTimeout = 30 * time.Second
	}
	if s.UserAgent == "" {
		s.UserAgent = "astreinte"
	}
	if s.DrainTimeout == 0 {
		s.DrainTimeout = 4 * time.Minute
	}
	if c.HTTP.Listen == "" {
		c.HTTP.Listen = "0.0.0.0:8080"
	}
}

// setDefaults gives a line its defaults: French, voicemail in opening
// hours, pages for urgent tickets, the recording limits.
func (l *Line) setDefaults() {
	if l.Language == "" {
		l.Language = "fr"
	}
	if l.OpenAction == "" {
		l.OpenAction = OpenVoicemail
	}
	if l.Page == "" {
		l.Page = astreinte.PageUrgent
	}
	if l.UrgencyTimeout == 0 {
		l.UrgencyTimeout = 6 * time.Second
	}
	if l.Record.MaxLength == 0 {
		l.Record.MaxLength = 3 * time.Minute
	}
	if l.Record.Silence == 0 {
		l.Record.Silence = 5 * time.Second
	}
	if l.Record.MinLength == 0 {
		l.Record.MinLength = 2 * time.Second
	}
	if l.Record.SilenceThreshold == 0 {
		l.Record.SilenceThreshold = vad.DefaultThreshold
	}
	if l.Due.Normal == 0 {
		l.Due.Normal = 3
	}
	l.LineCaller.setDefaults()
}

// pagingDefaults: the pages' public address (http.base_url, or its former
// key paging.base_url), retries and channel defaults.
func (c *Config) pagingDefaults() {
	p := &c.Paging
	switch {
	case c.HTTP.BaseURL == "" && p.BaseURL != "":
		c.HTTP.BaseURL = p.BaseURL // the former key
	case c.HTTP.BaseURL == "":
		c.HTTP.BaseURL = defaultBaseURL(c.HTTP.Listen)
		if c.HTTP.TLSCert != "" {
			c.HTTP.BaseURL = "https" + strings.TrimPrefix(c.HTTP.BaseURL, "http")
		}
	}
	c.HTTP.BaseURL = strings.TrimRight(c.HTTP.BaseURL, "/")
	p.BaseURL = c.HTTP.BaseURL
	if p.LinkTTL == 0 {
		p.LinkTTL = 72 * time.Hour
	}
	if p.Retries == 0 {
		p.Retries = 3
	}
	if p.SIP.RingTimeout == 0 {
		p.SIP.RingTimeout = 30 * time.Second
	}
	if p.SIP.FromUser == "" {
		p.SIP.FromUser = "astreinte"
	}
	if p.SIP.FromDisplay == "" {
		p.SIP.FromDisplay = "Astreinte"
	}
	if p.Email.TLS == "" {
		p.Email.TLS = "starttls"
	}
	if p.Webhook.Timeout == 0 {
		p.Webhook.Timeout = 10 * time.Second
	}
}

// LoadCAFile reads a PEM bundle of trusted certificates.
func LoadCAFile(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in it", path)
	}
	return pool, nil
}

// defaultBaseURL is where acknowledge links point when paging.base_url is
// not set: the web listener, named by this machine's host name when it
// listens on every address. Empty when the web listener is off.
func defaultBaseURL(listen string) string {
	if listen == "off" {
		return ""
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return ""
	}
	if ip, err := netip.ParseAddr(host); host == "" || (err == nil && ip.IsUnspecified()) {
		host = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" {
			host = h
		}
	}
	return "http://" + net.JoinHostPort(host, port)
}

// SIPEnabled reports whether SIP call-outs page technicians (default yes).
func (p Paging) SIPEnabled() bool { return p.SIP.Enabled == nil || *p.SIP.Enabled }

// MessagesPhones reports whether a technician with a phone number and no
// SIP URI is sent SIP MESSAGEs (paging.sip.message) at that number through
// paging.sip.proxy, where their call-outs ring: yes with a proxy of one's
// own, not through a carrier's trunk (paging.sip.trunk), which carries no
// MESSAGE to a mobile number.
func (p Paging) MessagesPhones() bool {
	return p.SIP.Message && p.SIP.Proxy != "" && p.SIP.Trunk == ""
}

// validate checks every section; each problem is one field error.
func (c *Config) validate() astreinte.FieldErrors {
	var errs astreinte.FieldErrors
	c.validateService(&errs)
	c.validateLines(&errs)
	c.validatePaging(&errs)
	c.validateTrunks(&errs)
	c.validateMail(&errs)
	c.validateSpace(&errs)
	c.validateStore(&errs)
	errs = append(errs, c.validateCustomers()...)
	cal, err := calendar.New(c.Calendar)
	if err != nil {
		errs = appendFieldErrors(errs, err)
		// The rota is still checked, against the default hours.
		if cal, err = calendar.New(calendar.Config{}); err != nil {
			return errs
		}
	}
	if _, err := oncall.NewSchedule(c.OnCall, cal); err != nil {
		errs = appendFieldErrors(errs, err)
	}
	return errs
}

// validateService checks the log, the SIP and web listeners.
func (c *Config) validateService(errs *astreinte.FieldErrors) {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs.Add("log.level", "%q: want debug, info, warn or error", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs.Add("log.format", "%q: want text or json", c.Log.Format)
	}
	if _, _, err := splitHostPort(c.SIP.Listen); err != nil {
		errs.Add("sip.listen", "%v", err)
	}
	for i, t := range c.SIP.Transports {
		if t != "udp" && t != "tcp" {
			errs.Add(fmt.Sprintf("sip.transports[%d]", i), "%q: want udp or tcp", t)
		}
	}
	if c.SIP.ExternalIP != "" {
		if _, err := netip.ParseAddr(c.SIP.ExternalIP); err != nil {
			errs.Add("sip.external_ip", "%q is not an IP address", c.SIP.ExternalIP)
		}
	}
	if _, _, err := c.SIP.RTPRange(); err != nil {
		errs.Add("sip.rtp_ports", "%v", err)
	}
	if (c.HTTP.TLSCert == "") != (c.HTTP.TLSKey == "") {
		errs.Add("http.tls_cert", "set both tls_cert and tls_key, or neither")
	}
	if c.HTTP.Listen != "off" {
		if _, _, err := splitHostPort(c.HTTP.Listen); err != nil {
			errs.Add("http.listen", "%v", err)
		}
	}
}

// validateLines checks that line names and numbers are unique, then each
// line.
func (c *Config) validateLines(errs *astreinte.FieldErrors) {
	seen := map[string]string{}
	names := map[string]bool{}
	for i, l := range c.Lines {
		p := fmt.Sprintf("lines[%d]", i)
		if l.Name == "" {
			errs.Add(p+".name", "a line needs a name")
		} else if names[l.Name] {
			errs.Add(p+".name", "%q is used by another line", l.Name)
		}
		names[l.Name] = true
		if len(l.Numbers) == 0 {
			errs.Add(p+".numbers", "a line needs at least one number or user to answer")
		}
		for j, n := range l.Numbers {
			if other, dup := seen[n]; dup {
				errs.Add(fmt.Sprintf("%s.numbers[%d]", p, j), "%q is already answered by line %q", n, other)
			}
			seen[n] = l.Name
		}
		l.validate(p, errs)
	}
}

// validate checks one line, at path p (lines[i]).
func (l Line) validate(p string, errs *astreinte.FieldErrors) {
	l.validateSRTP(p, errs)
	if l.Language != "fr" && l.Language != "en" {
		errs.Add(p+".language", "%q: want fr or en", l.Language)
	}
	if l.PromptsDir != "" {
		if st, err := os.Stat(l.PromptsDir); err != nil || !st.IsDir() {
			errs.Add(p+".prompts_dir", "%q is not a readable directory", l.PromptsDir)
		}
	}
	switch l.OpenAction {
	case OpenVoicemail:
	case OpenRedirect:
		if !strings.HasPrefix(l.RedirectTo, "sip:") && !strings.HasPrefix(l.RedirectTo, "sips:") && !strings.HasPrefix(l.RedirectTo, "tel:") {
			errs.Add(p+".redirect_to", "open_action redirect needs a SIP URI here, e.g. sip:desk@pbx.example.com")
		}
	default:
		errs.Add(p+".open_action", "%q: want voicemail or redirect", l.OpenAction)
	}
	if !l.Page.Valid() {
		errs.Add(p+".page", "%q: want urgent, out_of_hours or never", l.Page)
	}
	if l.Record.MaxLength < 10*time.Second || l.Record.MaxLength > time.Hour {
		errs.Add(p+".record.max_length", "%s: want between 10s and 1h", l.Record.MaxLength)
	}
	if l.Record.Silence < time.Second {
		errs.Add(p+".record.silence", "%s: want at least 1s", l.Record.Silence)
	}
	if l.Record.SilenceThreshold >= 0 || l.Record.SilenceThreshold < -90 {
		errs.Add(p+".record.silence_threshold_dbfs", "%v: want a level in dBFS between -90 and 0, e.g. -50", l.Record.SilenceThreshold)
	}
	if l.Due.Urgent < 0 || l.Due.Normal < 0 {
		errs.Add(p+".due", "business days cannot be negative")
	}
	l.LineCaller.validate(p, errs)
}

// validatePaging checks the email server, the webhook and clock.now.
func (c *Config) validatePaging(errs *astreinte.FieldErrors) {
	if c.Paging.Email.SMTP != "" {
		if _, _, err := splitHostPort(c.Paging.Email.SMTP); err != nil {
			errs.Add("paging.email.smtp", "%v", err)
		}
		if c.Paging.Email.From == "" {
			errs.Add("paging.email.from", "email paging needs a From address")
		}
		switch c.Paging.Email.TLS {
		case "starttls", "required", "none", "implicit":
		default:
			errs.Add("paging.email.tls", "%q: want starttls, required, none or implicit", c.Paging.Email.TLS)
		}
		if f := c.Paging.Email.CAFile; f != "" {
			if _, err := LoadCAFile(f); err != nil {
				errs.Add("paging.email.ca_file", "%v", err)
			}
		}
	}
	if u := c.Paging.Webhook.URL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		errs.Add("paging.webhook.url", "%q: want an http:// or https:// URL", u)
	}
	if c.Clock.Now != "" {
		if _, err := time.Parse(time.RFC3339, c.Clock.Now); err != nil {
			errs.Add("clock.now", "%q: want RFC 3339, e.g. 2026-11-24T03:00:00+01:00", c.Clock.Now)
		}
	}
}

func appendFieldErrors(errs astreinte.FieldErrors, err error) astreinte.FieldErrors {
	var fe astreinte.FieldErrors
	if errors.As(err, &fe) {
		return append(errs, fe...)
	}
	errs.Add("", "%v", err)
	return errs
}

func splitHostPort(s string) (string, int, error) {
	i := strings.LastIndex(s, ":")
	if i < 0 {
		return "", 0, fmt.Errorf("%q: want host:port", s)
	}
	port, err := strconv.Atoi(s[i+1:])
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port", s)
	}
	return s[:i], port, nil
}

var pathPart = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)
var indexPart = regexp.MustCompile(`\[(\d+)\]`)

// lineOf finds the line of a dotted path such as "lines[0].record.silence"
// in the YAML tree; it returns the deepest line found (0 when none).
func lineOf(root *yaml.Node, path string) int {
	line, _ := posOf(root, path)
	return line
}

// posOf finds the line and column of a dotted path such as
// "lines[0].record.silence" in the YAML tree: its value's, else the
// deepest key or item found (0, 0 when none).
func posOf(root *yaml.Node, path string) (line, col int) {
	n := root
	if n == nil || path == "" {
		return 0, 0
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	at := func(k, v *yaml.Node) {
		line, col = k.Line, k.Column
		if v.Kind == yaml.ScalarNode && v.Line == k.Line {
			line, col = v.Line, v.Column // the value itself
		}
	}
	for _, seg := range strings.Split(path, ".") {
		m := pathPart.FindStringSubmatch(seg)
		if m == nil {
			return line, col
		}
		if m[1] != "" {
			if n.Kind != yaml.MappingNode {
				return line, col
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == m[1] {
					at(n.Content[i], n.Content[i+1])
					n = n.Content[i+1]
					found = true
					break
				}
			}
			if !found {
				return line, col
			}
		}
		for _, im := range indexPart.FindAllStringSubmatch(m[2], -1) {
			k, _ := strconv.Atoi(im[1])
			if n.Kind != yaml.SequenceNode || k >= len(n.Content) {
				return line, col
			}
			n = n.Content[k]
			line, col = n.Line, n.Column
		}
	}
	return line, col
}
