// The reconciliation file: downloading it to a file or standard output,
// as HipoPay sends it (raw) or converted.

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// runBill downloads the reconciliation file of -start..-end to -out (or
// standard output), showing progress on stderr when it is a terminal.
func runBill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bill", "", stderr)
	cfg := addAPIFlags(fs)
	start := fs.String("start", "", "first day, YYYYMMDD in UTC+8 (required)")
	end := fs.String("end", "", "last day, YYYYMMDD in UTC+8 (default: -start)")
	out := fs.String("out", "-", `file to write ("-": standard output)`)
	format := fs.String("format", "raw", "raw (the file as HipoPay sends it), csv or jsonl")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "unexpected arguments %q", fs.Args())
	}
	if *start == "" {
		return usageError(fs, "-start YYYYMMDD is required")
	}
	if *end == "" {
		*end = *start
	}
	var req hipopay.BillRequest
	var err error
	if req.StartDate, err = time.ParseInLocation("20060102", *start, hipopay.ChinaTimeZone()); err != nil {
		return usageError(fs, "-start %q is not YYYYMMDD", *start)
	}
	if req.EndDate, err = time.ParseInLocation("20060102", *end, hipopay.ChinaTimeZone()); err != nil {
		return usageError(fs, "-end %q is not YYYYMMDD", *end)
	}
	convert, err := billConverter(*format)
	if err != nil {
		return usageError(fs, "%v", err)
	}

	client, err := cfg.client(fs)
	if err != nil {
		return err
	}
	ctx, cancel := cfg.context(ctx)
	defer cancel()
	body, err := client.DownloadBill(ctx, &req)
	if err != nil {
		return err
	}
	defer body.Close()

	var src io.Reader = body
	if *out != "-" && isTerminal(stderr) {
		p := &progress{w: stderr, start: time.Now()}
		defer p.done()
		src = io.TeeReader(body, p)
	}
	if *out == "-" {
		return convert(stdout, src)
	}
	return writeFileAtomically(*out, func(w io.Writer) error { return convert(w, src) })
}

// billConverter returns the conversion of a format.
func billConverter(format string) (func(w io.Writer, r io.Reader) error, error) {
	switch format {
	case "raw":
		return func(w io.Writer, r io.Reader) error { _, err := io.Copy(w, r); return err }, nil
	case "csv", "jsonl":
		return nil, fmt.Errorf("-format %s needs the SDK's BillReader, which this build does not have yet: use -format raw", format)
	}
	return nil, fmt.Errorf("-format %q: want raw, csv or jsonl", format)
}

// writeFileAtomically writes path through write into a temporary file
// beside it, renamed into place only when write succeeded.
func writeFileAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.part")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a successful rename, a no-op
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress shows the bytes downloaded so far, at most every 200 ms.
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
	n     int64
	last  time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n += int64(len(b))
	if now := time.Now(); now.Sub(p.last) >= 200*time.Millisecond {
		p.last = now
		fmt.Fprintf(p.w, "\rdownloading the reconciliation file: %s", humanBytes(p.n))
	}
	return len(b), nil
}

func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "\rdownloaded the reconciliation file: %s in %v\n", humanBytes(p.n), time.Since(p.start).Round(time.Millisecond))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
