package config

import "github.com/astreinte/astreinte"

// Values of Line.SRTP.
const (
	// SRTPOffered (the default, also written "") answers with SRTP when the
	// caller offers SDES keys we support, and with plain RTP otherwise.
	SRTPOffered = "offered"
	// SRTPRequired refuses calls without SRTP with 488 Not Acceptable Here.
	SRTPRequired = "required"
)

func (l *Line) validateSRTP(path string, errs *astreinte.FieldErrors) {
	switch l.SRTP {
	case "", SRTPOffered, SRTPRequired:
	default:
		errs.Add(path+".srtp", "%q: want offered or required", l.SRTP)
	}
}

// LineRequiresSRTP reports whether the line named line takes only SRTP
// calls; it fits sip.Config.SRTPRequired.
func (c *Config) LineRequiresSRTP(line string) bool {
	for _, l := range c.Lines {
		if l.Name == line {
			return l.SRTP == SRTPRequired
		}
	}
	return false
}
