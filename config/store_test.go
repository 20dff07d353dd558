package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestStore(t *testing.T) {
	tests := []struct {
		name, yaml string
		wantDSN    string // "" with wantErr
		wantErr    string
	}{
		{"default: SQLite in data_dir", "data_dir: /var/lib/astreinte\n", filepath.Join("/var/lib/astreinte", "astreinte.db"), ""},
		{"SQLite file named", "store: {driver: sqlite, dsn: /srv/a.db}\n", "/srv/a.db", ""},
		{"PostgreSQL URL", "store: {driver: postgres, dsn: 'postgres://astreinte@db:5432/astreinte'}\n", "postgres://astreinte@db:5432/astreinte", ""},
		{"PostgreSQL key=value", "store: {driver: postgres, dsn: 'host=db dbname=astreinte'}\n", "host=db dbname=astreinte", ""},
		{"PostgreSQL without dsn", "store: {driver: postgres}\n", "", "store.dsn"},
		{"PostgreSQL dsn not one", "store: {driver: postgres, dsn: db.example.net}\n", "", "store.dsn"},
		{"unknown driver", "store: {driver: mysql}\n", "", "store.driver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.yaml), "test.yaml")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse: %v, want an error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.StoreDSN(); got != tt.wantDSN {
				t.Errorf("StoreDSN() = %q, want %q", got, tt.wantDSN)
			}
		})
	}
}
