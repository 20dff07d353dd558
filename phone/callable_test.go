package phone

import "testing"

func TestCallable(t *testing.T) {
	tests := []struct {
		raw, region, want string
		ok                bool
	}{
		{"0612345678", "FR", "+33612345678", true},
		{"+33612345678", "FR", "+33612345678", true},
		{"0033612345678", "FR", "+33612345678", true},
		{"tel:+33140000000", "FR", "+33140000000", true},
		{"sip:0612345678@pbx.example.com;user=phone", "FR", "+33612345678", true},
		{"SIPS:+33612345678@trunk", "FR", "+33612345678", true},
		{"0612345678", "", "+33612345678", true},
		{"020 7946 0018", "GB", "+442079460018", true},
		{"anonymous", "FR", "", false},
		{"", "FR", "", false},
		{"alice", "FR", "", false},
		{"123", "FR", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, ok := Callable(tt.raw, tt.region)
			if got != tt.want || ok != tt.ok {
				t.Errorf("Callable(%q, %q) = %q, %v; want %q, %v", tt.raw, tt.region, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestNational(t *testing.T) {
	if got := National("+33612345678", "FR"); got != "06 12 34 56 78" {
		t.Errorf("National FR = %q", got)
	}
	if got := National("+442079460018", "FR"); got != "+44 20 7946 0018" {
		t.Errorf("National GB from FR = %q", got)
	}
}
