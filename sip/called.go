package sip

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// calledUsers lists where an INVITE may say which number was called, in
// the order they are tried: the configured header (a trunk that puts its
// customer's registered contact in the Request-URI and the dialled number
// in P-Called-Party-ID), the Request-URI user, the To user.
func calledUsers(req *sip.Request, header string) []string {
	users := make([]string, 0, 3)
	if header != "" {
		if h := req.GetHeader(header); h != nil {
			if u := addressUser(h.Value()); u != "" {
				users = append(users, u)
			}
		}
	}
	if u := req.Recipient.User; u != "" {
		users = append(users, u)
	}
	if to := req.To(); to != nil && to.Address.User != "" {
		users = append(users, to.Address.User)
	}
	return users
}

// addressUser is the user part of a name-addr or addr-spec header value
// (`"Support" <sip:+33493918009@example.net;user=phone>`, `<tel:+33493918009>`),
// or the number of a tel: URI.
func addressUser(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
		if j := strings.IndexByte(v, '>'); j >= 0 {
			v = v[:j]
		}
	} else if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i] // header parameters of an addr-spec
	}
	if len(v) > 4 && strings.EqualFold(v[:4], "tel:") {
		num, _, _ := strings.Cut(v[4:], ";")
		return num
	}
	var uri sip.Uri
	if err := sip.ParseUri(v, &uri); err != nil {
		return ""
	}
	return uri.User
}
