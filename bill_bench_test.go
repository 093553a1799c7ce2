package hipopay

import (
	"bytes"
	"encoding/csv"
	"io"
	"runtime"
	"sync"
	"testing"

	"github.com/hipopay-go/hipopay/internal/billgen"
)

// benchBillSize is the size of the generated reconciliation file.
const benchBillSize = 64 << 20

// benchBill is the generated file, made once per test binary.
var benchBill = sync.OnceValues(func() ([]byte, int) {
	var buf bytes.Buffer
	buf.Grow(benchBillSize + 4<<10)
	n, err := billgen.Write(&buf, benchBillSize)
	if err != nil {
		panic(err) // a bytes.Buffer does not fail
	}
	return buf.Bytes(), n
})

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
