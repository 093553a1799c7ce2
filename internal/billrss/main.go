// Command billrss checks that reading a large reconciliation file takes
// bounded memory: it generates a bill of -size MiB (default 512) of
// realistic collections and refunds, streams it through
// hipopay.BillReader, and prints the record count and the Go heap figures.
// Measure the peak resident set with:
//
//	go build -o /tmp/billrss ./internal/billrss && /usr/bin/time -v /tmp/billrss
//
// and read "Maximum resident set size". With -tmpfile the bill is written
// to a temporary file first and read from it; by default a generator
// goroutine writes it into an io.Pipe.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"runtime"
	"time"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/internal/billgen"
)

func main() {
	sizeMiB := flag.Int64("size", 512, "size of the generated bill in MiB")
	tmpfile := flag.Bool("tmpfile", false, "write the bill to a temporary file first, then read it")
	flag.Parse()
	size := *sizeMiB << 20

	var src io.Reader
	if *tmpfile {
		f, err := os.CreateTemp("", "billrss-*.txt")
		if err != nil {
			log.Fatal(err)
		}
		defer os.Remove(f.Name())
		defer f.Close()
		w := bufio.NewWriterSize(f, 1<<20)
		if _, err := billgen.Write(w, size); err != nil {
			log.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			log.Fatal(err)
		}
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			log.Fatal(err)
		}
		src = f
	} else {
		pr, pw := io.Pipe()
		go func() {
			w := bufio.NewWriterSize(pw, 64<<10)
			if _, err := billgen.Write(w, size); err != nil {
				pw.CloseWithError(err) // the reader stopped
				return
			}
			pw.CloseWithError(w.Flush())
		}()
		src = pr
	}

	start := time.Now()
	r := hipopay.NewBillReader(src)
	records, payments, refunds := 0, 0, 0
	for rec, err := range r.All() {
		if err != nil {
			log.Fatal(err)
		}
		records++
		switch rec.Kind() {
		case hipopay.BillEntryPayment:
			payments++
		case hipopay.BillEntryRefund:
			refunds++
		}
	}
	elapsed := time.Since(start)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("%d records (%d payments, %d refunds) from %d MiB in %v (%.0f MB/s)\n",
		records, payments, refunds, *sizeMiB, elapsed.Round(time.Millisecond), float64(size)/elapsed.Seconds()/1e6)
	fmt.Printf("Go heap: HeapSys %d MiB, Sys %d MiB, %d GC cycles\n", ms.HeapSys>>20, ms.Sys>>20, ms.NumGC)
}
