// Fuzz targets of the reconciliation file reader (bill_reader.go,
// bill_cells.go); seed corpora in testdata/fuzz/<target>/.

package hipopay

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
)

// billFuzzSeeds are the sample and broken variants of it.
func billFuzzSeeds(t testing.TB) []string {
	sample := billSample(t)
	lines := billSampleLines(t)
	return []string{
		sample,
		"\ufeff" + strings.ReplaceAll(sample, "\n", "\r\n") + "\r\n\r\n",
		"",
		lines[0],
		lines[0] + "\n" + lines[1] + "\n" + `"Refund","a""b",c` + "\n",
		lines[0] + "\n" + lines[1] + "\n" + strings.Replace(lines[2], "0.99 HKD", "0.9x HKD", 1) + "\n",
		lines[0] + "\n" + lines[1] + "\n" + strings.Replace(lines[2], "WECHATPAYCN", "\"WECHAT\nPAY\"", 1) + "\n",
		lines[0] + "\n" + lines[1] + "\n\"" + lines[2],
		"<html><body>502</body></html>",
		`{"is_success": false, "error": "PAYMENT_NOT_FOUND"}`,
		"a,b,c,d,e\n1,2,3,4,5\n",
		lines[1] + "\n" + lines[2] + "\n",
	}
}

// FuzzBillReader feeds the reader arbitrary bytes: it must not panic, must
// end, must return only records with well-formed amounts, and every error
// must be a *BillParseError naming a line.
func FuzzBillReader(f *testing.F) {
	for _, s := range billFuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewBillReader(bytes.NewReader(data))
		_ = r.Title()
		maxCalls := bytes.Count(data, []byte("\n")) + 3
		var last error
		for range maxCalls {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				if rec != nil {
					t.Fatalf("a record with the error %v", err)
				}
				var pe *BillParseError
				if !errors.As(err, &pe) || pe.Line < 1 || pe.Err == nil {
					t.Fatalf("error %#v is not a *BillParseError naming a line", err)
				}
				_ = err.Error()
				if err == last {
					break // a sticky error
				}
				last = err
				continue
			}
			for _, m := range []Money{rec.Credit, rec.Debit, rec.Balance, rec.TransactionAmount, rec.ServiceFee,
				rec.RefundAmount, rec.WithdrawalFee, rec.AmountAfterConversion} {
				if m.Value == "" {
					if m.Currency != "" {
						t.Fatalf("a currency without a value: %#v", m)
					}
					continue
				}
				if !plainDecimal(m.Value) || !m.Currency.wellFormed() {
					t.Fatalf("a malformed amount: %#v", m)
				}
				if back, ok := parseBillMoney(m.String()); !ok || back != m {
					t.Fatalf("%#v does not round-trip", m)
				}
				_, _ = m.Minor()
				_ = m.IsZero()
			}
			_ = rec.Kind()
		}
		if _, err := r.Read(); err != io.EOF && err != last {
			t.Fatalf("Read went on after %d calls for %d lines: %v", maxCalls, maxCalls-3, err)
		}

		failed := false
		for _, err := range NewBillReader(bytes.NewReader(data)).All() {
			if failed {
				t.Fatal("All went on after an error")
			}
			failed = err != nil
		}
	})
}

// FuzzBillSplitCSV checks that the reader splits cells as encoding/csv
// (FieldsPerRecord -1, LazyQuotes) does, on lines with quotes and without.
func FuzzBillSplitCSV(f *testing.F) {
	for _, s := range billFuzzSeeds(f) {
		f.Add([]byte(s))
	}
	f.Add([]byte("a,\"b\nc\"\"d\",e\r\n\"x\"y,\"\",\n\"unterminated\n,"))
	f.Add([]byte("\"a\"\"\",b\"c,\"d\"e\"\r\n,,\n\"\r\n\""))
	f.Fuzz(func(t *testing.T, data []byte) {
		if bytes.HasPrefix(data, []byte(utf8BOM)) {
			return
		}
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(line) > 0 && blankLine(line) && !bytes.Equal(line, []byte("\r")) {
				return // the reader skips lines of blanks, encoding/csv does not
			}
		}
		cr := csv.NewReader(bytes.NewReader(data))
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		br := NewBillReader(bytes.NewReader(data))
		br.started = true
		for i := 0; ; i++ {
			want, werr := cr.Read()
			_, gerr := br.next()
			if werr == io.EOF || gerr == io.EOF {
				if werr != gerr {
					t.Fatalf("record %d: csv %v (%q), reader %v", i, werr, want, gerr)
				}
				return
			}
			if werr != nil || gerr != nil {
				t.Fatalf("record %d: csv %v, reader %v", i, werr, gerr)
			}
			if len(want) == 1 && blankLine([]byte(want[0])) && br.n == 1 && br.cell(0) != want[0] {
				t.Fatalf("record %d: csv %q, reader %q", i, want, br.cell(0))
			}
			if br.n != len(want) {
				t.Fatalf("record %d: csv %d cells %q, reader %d", i, len(want), want, br.n)
			}
			for j := 0; j < min(br.n, maxBillCells); j++ {
				if br.cell(j) != want[j] {
					t.Fatalf("record %d cell %d: csv %q, reader %q", i, j, want[j], br.cell(j))
				}
			}
		}
	})
}
