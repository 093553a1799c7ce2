package hipopay

import (
	"bytes"
	"encoding/csv"
	"io"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// benchBillSize is the size of the generated reconciliation file.
const benchBillSize = 64 << 20

// benchBill is the generated file, made once per test binary.
var benchBill = sync.OnceValues(func() ([]byte, int) {
	var buf bytes.Buffer
	buf.Grow(benchBillSize + 4<<10)
	n := writeBenchBill(&buf, benchBillSize)
	return buf.Bytes(), n
})

// writeBenchBill writes a realistic reconciliation file of at least size
// bytes to w: the sample's title and header, then collections and (about
// one in seven) refunds of earlier collections, as the sample has them. It
// returns the number of records.
func writeBenchBill(w io.Writer, size int64) int {
	rng := rand.New(rand.NewPCG(1, 2))
	line := make([]byte, 0, 512)
	line = append(line, "Test: company's reconciliation report of 20190101 to 20190331\n"...)
	line = append(line, "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n"...)
	written := int64(0)
	at := time.Date(2019, 1, 1, 0, 0, 0, 0, chinaZone)
	balance := int64(0)
	type paid struct {
		no, out string
		amount  int64
	}
	recent := make([]paid, 0, 64)
	records := 0
	money := func(b []byte, n int64) []byte {
		return append(append(b, formatMinor(n, 2)...), " HKD,"...)
	}
	digits := func(b []byte, n int) []byte {
		for i := 0; i < n; i++ {
			b = append(b, byte('0'+rng.IntN(10)))
		}
		return b
	}
	for written < size {
		at = at.Add(time.Duration(1+rng.IntN(30)) * time.Second)
		stamp := at.Format(timeLayout)
		no := digits(append(make([]byte, 0, 25), at.Format("20060102150405")...), 11)
		if len(recent) > 8 && rng.IntN(7) == 0 {
			p := recent[rng.IntN(len(recent))]
			refund := p.amount
			if rng.IntN(3) == 0 {
				refund = 1 + rng.Int64N(p.amount)
			}
			debit := refund - refund*6/1000
			balance -= debit
			line = append(line, "Refund,"...)
			line = append(line, stamp...)
			line = append(line, ",`"...)
			line = append(line, no...)
			line = append(line, ",`,-,"...)
			line = money(line, -debit)
			line = money(line, balance)
			line = append(line, "-,-,-,"...)
			line = money(line, refund)
			line = append(line, '`')
			line = append(line, p.no...)
			line = append(line, ",`"...)
			line = append(line, p.out...)
			line = append(line, ",-,-,-,-,WECHATPAYCN\n"...)
		} else {
			amount := 100 + rng.Int64N(99900)
			fee := amount * 6 / 1000
			balance += amount - fee
			out := "13260056057_wechat_" + strconv.FormatInt(at.UnixMilli(), 10)
			line = append(line, "Collection via WeChat Pay,"...)
			line = append(line, stamp...)
			line = append(line, ",`"...)
			line = append(line, no...)
			line = append(line, ",`"...)
			line = append(line, out...)
			line = append(line, ',')
			line = money(line, amount-fee)
			line = append(line, "-,"...)
			line = money(line, balance)
			line = money(line, amount)
			line = append(line, "1,"...)
			line = money(line, fee)
			line = append(line, "-,-,-,-,-,-,-,WECHATPAYCN\n"...)
			if len(recent) == cap(recent) {
				recent = append(recent[:0], recent[32:]...)
			}
			recent = append(recent, paid{string(no), out, amount})
		}
		records++
		n, _ := w.Write(line)
		written += int64(n)
		line = line[:0]
	}
	return records
}

// BenchmarkBillReader reads every record of a 64 MiB file with the typed
// BillReader. Compare with BenchmarkBillRawCSV, the floor.
func BenchmarkBillReader(b *testing.B) {
	data, records := benchBill()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var sink *BillRecord
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := NewBillReader(bytes.NewReader(data))
		n := 0
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			sink = rec
			n++
		}
		if n != records {
			b.Fatalf("read %d records, want %d", n, records)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	_ = sink
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*records), "allocs/record")
}

// BenchmarkBillRawCSV is the floor: encoding/csv (ReuseRecord, LazyQuotes,
// any number of fields) reading the same bytes and doing nothing with the
// records.
func BenchmarkBillRawCSV(b *testing.B) {
	data, records := benchBill()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := csv.NewReader(bytes.NewReader(data))
		r.ReuseRecord = true
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		n := 0
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != records+2 {
			b.Fatalf("read %d lines, want %d", n, records+2)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N*records), "allocs/record")
}
