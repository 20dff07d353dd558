package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/astreinte/astreinte/store"
	flag "github.com/spf13/pflag"
)

func storeCopyCommand() *command {
	return &command{
		name: "store copy", short: "copy an installation's database into another store (SQLite to PostgreSQL, or back)",
		long: "Every table's rows go into the destination in one transaction; the destination must be empty\n" +
			"(a new database: it is migrated first). Each table is then counted and checksummed on both sides,\n" +
			"and the recordings the tickets name are read and checksummed where they are: the copy moves rows,\n" +
			"not audio files (--manifest writes their SHA-256 sums, for `sha256sum -c` after moving them).\n" +
			"Stop astreinte serve first: nothing may write to the source meanwhile.",
		setup: func(fs *flag.FlagSet) runner {
			from := fs.String("from", "", "the store to copy: sqlite:PATH or postgres:DSN (required)")
			to := fs.String("to", "", "the empty store to fill: sqlite:PATH or postgres:DSN (required)")
			manifest := fs.String("manifest", "", "write the recordings' SHA-256 sums to this `file` (sha256sum format)")
			return func(ctx context.Context, s stdio, _ []string) error {
				if *from == "" || *to == "" {
					return usageError("astreinte store copy: --from and --to are required, e.g. --from sqlite:data/astreinte.db --to postgres:postgres://astreinte@db/astreinte")
				}
				open := func(loc string) (*store.DB, error) {
					drv, dsn, err := store.ParseLocation(loc)
					if err != nil {
						return nil, usageError("astreinte store copy: %v", err)
					}
					if drv == store.DriverSQLite {
						if _, err := os.Stat(dsn); err != nil && loc == *from {
							return nil, exitError{1, fmt.Sprintf("astreinte store copy: --from %s: %v", loc, err)}
						}
					}
					return store.OpenDriver(drv, dsn)
				}
				src, err := open(*from)
				if err != nil {
					return err
				}
				defer src.Close()
				dst, err := open(*to)
				if err != nil {
					return err
				}
				defer dst.Close()
				rep, err := store.Copy(ctx, src, dst)
				if err != nil {
					return exitError{1, "astreinte store copy: " + err.Error()}
				}
				fmt.Fprintf(s.out, "%-22s %8s  %s\n", "TABLE", "ROWS", "SHA-256 (same on both sides)")
				var total int64
				for _, t := range rep.Tables {
					fmt.Fprintf(s.out, "%-22s %8d  %s\n", t.Name, t.Rows, t.Checksum)
					total += t.Rows
				}
				var size int64
				for _, r := range rep.Recordings {
					size += r.Size
				}
				fmt.Fprintf(s.out, "%d rows in %d tables copied from %s to %s and verified.\n", total, len(rep.Tables), src.Path(), dst.Path())
				fmt.Fprintf(s.out, "%d recording(s) read (%d bytes)", len(rep.Recordings), size)
				if len(rep.Missing) > 0 {
					fmt.Fprintf(s.out, "; %d named by tickets but missing:\n  %s\n", len(rep.Missing), strings.Join(rep.Missing, "\n  "))
				} else {
					fmt.Fprintln(s.out, ".")
				}
				if *manifest != "" {
					var b strings.Builder
					for _, r := range rep.Recordings {
						fmt.Fprintf(&b, "%s  %s\n", r.SHA256, r.Path)
					}
					if err := os.WriteFile(*manifest, []byte(b.String()), 0o600); err != nil {
						return exitError{1, "astreinte store copy: manifest: " + err.Error()}
					}
					fmt.Fprintf(s.out, "Recordings' sums written to %s.\n", *manifest)
				}
				return nil
			}
		},
	}
}
