// The reconciliation file: downloading it to a file or standard output,
// as HipoPay sends it (raw) or converted.

package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// runBill downloads the reconciliation file of -start..-end to -out (or
// standard output), showing progress on stderr when it is a terminal. It
// has no time limit unless -timeout is given.
func runBill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("bill", "", stderr)
	// A large file can take longer than the other commands' minute: no
	// limit unless asked (an interrupt still stops the download).
	cfg := addAPIFlagsWithTimeout(fs, 0, "give up after this long (default: no limit; an interrupt stops the download)")
	start := fs.String("start", "", "first day, YYYYMMDD in UTC+8 (required)")
	end := fs.String("end", "", "last day, YYYYMMDD in UTC+8 (default: -start)")
	out := fs.String("out", "-", `file to write ("-": standard output)`)
	format := fs.String("format", "raw", "raw (the file as HipoPay sends it), csv (cleaned cells, plain amounts, a Currency column) or jsonl (an object per entry)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems usageProblems
	problems.require("start", *start)
	cfg.requireCredentials(&problems)
	if fs.NArg() > 0 {
		problems.invalidf("unexpected arguments %q", fs.Args())
	}
	if *end == "" {
		*end = *start
	}
	var req hipopay.BillRequest
	var err error
	if *start != "" {
		if req.StartDate, err = time.ParseInLocation("20060102", *start, hipopay.ChinaTimeZone()); err != nil {
			problems.invalidf("-start %q is not YYYYMMDD", *start)
		}
		if req.EndDate, err = time.ParseInLocation("20060102", *end, hipopay.ChinaTimeZone()); err != nil {
			problems.invalidf("-end %q is not YYYYMMDD", *end)
		}
	}
	convert, err := billConverter(*format)
	if err != nil {
		problems.invalidf("%v", err)
	}
	if err := problems.report(fs); err != nil {
		return err
	}

	client, err := cfg.newClient()
	if err != nil {
		return err
	}
	ctx, cancel := cfg.withTimeout(ctx)
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
	case "csv":
		return billToCSV, nil
	case "jsonl":
		return billToJSONL, nil
	}
	return nil, fmt.Errorf("-format %q: want raw, csv or jsonl", format)
}

// billCSVHeader is the header of the CSV conversion: HipoPay's 18
// columns, then the currency of the line's amounts.
func billCSVHeader() []string {
	return append(hipopay.BillColumns(), "Currency")
}

// billToCSV converts the file for a spreadsheet: HipoPay's columns with
// backticks and "-" removed, amounts as plain decimals, and a last
// "Currency" column with the currency of the line's amounts (Amount After
// Conversion is in Converted Currency).
func billToCSV(w io.Writer, r io.Reader) error {
	br := hipopay.NewBillReader(r)
	cw := csv.NewWriter(w)
	if err := cw.Write(billCSVHeader()); err != nil {
		return err
	}
	for rec, err := range br.All() {
		if err != nil {
			return err
		}
		row := []string{
			rec.Type, formatHipoPayTime(rec.Time), rec.OrderNo, rec.ExternalOrderNo,
			rec.Credit.Value, rec.Debit.Value, rec.Balance.Value, rec.TransactionAmount.Value, rec.SettlementRate,
			rec.ServiceFee.Value, rec.RefundAmount.Value, rec.RefundOrderNo, rec.ExternalRefundOrderNo,
			rec.WithdrawalFee.Value, rec.ConvertedCurrency, rec.ConversionRate, rec.AmountAfterConversion.Value,
			rec.PaymentChannel, string(lineCurrency(rec)),
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// lineCurrency is the currency of a record's amounts: that of its first
// amount that is set.
func lineCurrency(rec *hipopay.BillRecord) hipopay.Currency {
	for _, m := range []hipopay.Money{rec.Credit, rec.Debit, rec.Balance, rec.TransactionAmount, rec.ServiceFee, rec.RefundAmount, rec.WithdrawalFee} {
		if m.Currency != "" {
			return m.Currency
		}
	}
	return ""
}

// billToJSONL converts the file to JSON Lines: one [hipopay.BillRecord]
// per line as it marshals (amounts as {"value": "0.99", "currency": "HKD"}
// with the exact decimal text, times as "2006-01-02 15:04:05" in UTC+8,
// empty cells left out).
func billToJSONL(w io.Writer, r io.Reader) error {
	br := hipopay.NewBillReader(r)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for rec, err := range br.All() {
		if err != nil {
			return err
		}
		if err := enc.Encode(rec); err != nil {
			return err
		}
	}
	return nil
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

// humanBytes writes a byte count for a person: bytes, KiB or MiB.
func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
