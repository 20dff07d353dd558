package config

import (
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/astreinte/astreinte"
	"github.com/astreinte/astreinte/phone"
)

// Trunks configures the SIP trunks astreinte registers with, and how the
// numbers they deliver are read.
type Trunks struct {
	// Region is the ISO 3166 region national numbers are read in, both in
	// lines[].numbers and in incoming calls ("0493918009" is +33493918009
	// in FR). Default FR.
	Region string `yaml:"region"`
	// CalledHeader names a header that carries the called number, looked
	// at before the Request-URI and To (e.g. P-Called-Party-ID). Empty:
	// Request-URI user, then To user.
	CalledHeader string `yaml:"called_header"`
	// Register lists the trunks astreinte keeps a registration with.
	Register []Trunk `yaml:"register"`
}

// Trunk is one registration with a carrier's or a PBX's registrar.
type Trunk struct {
	Name      string `yaml:"name"`
	Host      string `yaml:"host"`      // registrar host name or IP
	Port      int    `yaml:"port"`      // default 5060, 5061 for tls
	Transport string `yaml:"transport"` // udp (default), tcp or tls
	// Domain is the domain of the address of record (sip:username@domain);
	// default Host.
	Domain       string        `yaml:"domain"`
	Username     string        `yaml:"username"`
	AuthUsername string        `yaml:"auth_username"` // default Username
	Password     string        `yaml:"password"`
	Realm        string        `yaml:"realm"`  // optional: only answer challenges for this realm
	Expiry       time.Duration `yaml:"expiry"` // asked for; the registrar's grant is used
	// RetryMin and RetryMax bound the back-off between failed attempts
	// (doubling, jittered). Defaults 5s and 5m.
	RetryMin time.Duration `yaml:"retry_min"`
	RetryMax time.Duration `yaml:"retry_max"`
}

// SIPTLS configures SIP over TLS (sip.tls); it is on when cert_file is set.
type SIPTLS struct {
	// Listen is the TLS listening address; default the host of sip.listen
	// with port 5061.
	Listen   string `yaml:"listen"`
	CertFile string `yaml:"cert_file"` // PEM certificate chain
	KeyFile  string `yaml:"key_file"`  // PEM private key
	// CAFile is a PEM file of the certificates to trust when astreinte
	// connects over TLS (a trunk with transport tls and a private CA);
	// empty: the system's roots. It does not turn the listener on.
	CAFile string `yaml:"ca_file"`
}

// Enabled reports whether SIP over TLS is configured.
func (t SIPTLS) Enabled() bool { return t.CertFile != "" }

func (c *Config) trunkDefaults() {
	tr := &c.Trunks
	if tr.Region == "" {
		tr.Region = phone.DefaultRegion
	}
	for i := range tr.Register {
		t := &tr.Register[i]
		if t.Transport == "" {
			t.Transport = "udp"
		}
		if t.Port == 0 {
			t.Port = 5060
			if t.Transport == "tls" {
				t.Port = 5061
			}
		}
		if t.Domain == "" {
			t.Domain = t.Host
		}
		if t.AuthUsername == "" {
			t.AuthUsername = t.Username
		}
		if t.Expiry == 0 {
			t.Expiry = 10 * time.Minute
		}
		if t.RetryMin == 0 {
			t.RetryMin = 5 * time.Second
		}
		if t.RetryMax == 0 {
			t.RetryMax = 5 * time.Minute
		}
	}
	// Paging through a trunk: its registrar as the outbound proxy, its
	// credentials for the digest challenge, its account as caller ID
	// (carriers refuse a From that is not the account) unless set.
	if ps := &c.Paging.SIP; ps.Trunk != "" {
		for _, t := range tr.Register {
			if t.Name != ps.Trunk {
				continue
			}
			if ps.Proxy == "" {
				ps.Proxy = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
			}
			if ps.Username == "" && ps.Password == "" {
				ps.Username, ps.Password = t.AuthUsername, t.Password
			}
			if ps.FromUser == "" || ps.FromUser == "astreinte" {
				ps.FromUser = t.Username
			}
		}
	}
	if s := &c.SIP.TLS; s.Enabled() && s.Listen == "" {
		host, _, err := net.SplitHostPort(c.SIP.Listen)
		if err == nil {
			s.Listen = net.JoinHostPort(host, "5061")
		}
	}
}

func (c *Config) validateTrunks(errs *astreinte.FieldErrors) {
	tr := c.Trunks
	if !phone.ValidRegion(tr.Region) {
		errs.Add("trunks.region", "%q: want a two-letter region code such as FR, BE, CH", tr.Region)
	}
	names := map[string]bool{}
	for i, t := range tr.Register {
		p := fmt.Sprintf("trunks.register[%d]", i)
		switch {
		case t.Name == "":
			errs.Add(p+".name", "a trunk needs a name")
		case names[t.Name]:
			errs.Add(p+".name", "%q is used by another trunk", t.Name)
		}
		names[t.Name] = true
		if t.Host == "" {
			errs.Add(p+".host", "the registrar's host is required")
		}
		if t.Port < 1 || t.Port > 65535 {
			errs.Add(p+".port", "%d: want 1-65535", t.Port)
		}
		switch t.Transport {
		case "udp", "tcp":
			// Calls come back to our contact on the same transport.
			if !slices.Contains(c.SIP.Transports, t.Transport) {
				errs.Add(p+".transport", "%s: add %s to sip.transports, the registrar sends calls to it", t.Transport, t.Transport)
			}
		case "tls":
			if !c.SIP.TLS.Enabled() {
				errs.Add(p+".transport", "tls: configure sip.tls (cert_file, key_file), the registrar sends calls to it")
			}
		default:
			errs.Add(p+".transport", "%q: want udp, tcp or tls", t.Transport)
		}
		if t.Username == "" {
			errs.Add(p+".username", "the account's user name is required")
		}
		if t.Password == "" {
			errs.Add(p+".password", "the account's password is required (the registrar challenges every REGISTER)")
		}
		if t.Expiry < 30*time.Second || t.Expiry > 24*time.Hour {
			errs.Add(p+".expiry", "%s: want between 30s and 24h", t.Expiry)
		}
		if t.RetryMin < 100*time.Millisecond || t.RetryMax < t.RetryMin {
			errs.Add(p+".retry_min", "want retry_min ≥ 100ms and retry_max ≥ retry_min")
		}
	}
	if name := c.Paging.SIP.Trunk; name != "" && !names[name] {
		errs.Add("paging.sip.trunk", "%q is not a trunk in trunks.register", name)
	}
	// Two lines answering one number written two ways.
	region := tr.Region
	if !phone.ValidRegion(region) {
		region = phone.DefaultRegion
	}
	seen := map[string]string{}
	for i, l := range c.Lines {
		for j, n := range l.Numbers {
			e, ok := phone.E164(n, region)
			if !ok {
				continue
			}
			if other, dup := seen[e]; dup && other != l.Name {
				errs.Add(fmt.Sprintf("lines[%d].numbers[%d]", i, j), "%q is %s, already answered by line %q", n, e, other)
			}
			seen[e] = l.Name
		}
	}
	if f := c.SIP.TLS.CAFile; f != "" {
		if _, err := LoadCAFile(f); err != nil {
			errs.Add("sip.tls.ca_file", "%v", err)
		}
	}
	if s := c.SIP.TLS; s.Enabled() || s.KeyFile != "" {
		if _, _, err := splitHostPort(s.Listen); err != nil {
			errs.Add("sip.tls.listen", "%v", err)
		}
		if s.CertFile == "" || s.KeyFile == "" {
			errs.Add("sip.tls", "SIP over TLS needs both cert_file and key_file")
		} else if _, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile); err != nil {
			errs.Add("sip.tls.cert_file", "%v", err)
		}
	}
}
