package phone

// Directory maps called numbers to support lines: a called user is looked
// up as written first ("support"), then in E.164, so that a line listing
// "0493918009" answers a trunk that delivers "+33493918009" or
// "33493918009".
type Directory struct {
	region string
	exact  map[string]string
	e164   map[string]string
}

// NewDirectory returns an empty directory reading national numbers in
// region (DefaultRegion when empty).
func NewDirectory(region string) *Directory {
	if region == "" {
		region = DefaultRegion
	}
	return &Directory{region: region, exact: map[string]string{}, e164: map[string]string{}}
}

// Add makes number (a number in any usual form, or a SIP user name) reach
// line. The first line added for a number keeps it.
func (d *Directory) Add(number, line string) {
	if _, ok := d.exact[number]; !ok {
		d.exact[number] = line
	}
	if n, ok := E164(number, d.region); ok {
		if _, dup := d.e164[n]; !dup {
			d.e164[n] = line
		}
	}
}

// Lookup returns the line answering the called user.
func (d *Directory) Lookup(user string) (string, bool) {
	if l, ok := d.exact[user]; ok {
		return l, true
	}
	if n, ok := E164(user, d.region); ok {
		l, ok := d.e164[n]
		return l, ok
	}
	return "", false
}
