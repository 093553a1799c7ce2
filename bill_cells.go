// The reconciliation file's hot path: splitting a line into cells (plain,
// or quoted as encoding/csv does with LazyQuotes) and parsing the
// Transaction Time column. Both are hand-written because the standard
// library misses the reader's target (within 25% of encoding/csv): the
// benchmarks named at each are in bill_bench_test.go.

package hipopay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"time"
)

// splitCommas records where the comma-separated cells of line start and
// end, looking at eight bytes at a time.
// Hand-written: encoding/csv and bytes.IndexByte miss the target (BenchmarkBillReaderOnCSV, BenchmarkBillSplitCommas).
func (b *BillReader) splitCommas(line []byte) {
	const (
		ones   = 0x0101010101010101
		low7   = 0x7f7f7f7f7f7f7f7f
		commas = ones * ','
	)
	n, from, i := 0, 0, 0
	comma := func(at int) {
		if n < maxBillCells {
			b.start[n], b.end[n] = from, at
		}
		n++
		from = at + 1
	}
	for ; i+8 <= len(line); i += 8 {
		x := binary.LittleEndian.Uint64(line[i:]) ^ commas // zero bytes where the commas are
		m := ^((x&low7 + low7) | x | low7)                 // the high bit of each zero byte, exactly
		for m != 0 {
			comma(i + bits.TrailingZeros64(m)>>3)
			m &= m - 1
		}
	}
	for ; i < len(line); i++ {
		if line[i] == ',' {
			comma(i)
		}
	}
	comma(len(line))
	b.n = n
}

// splitQuoted splits a record holding a quote, following encoding/csv's
// Reader with LazyQuotes: a cell starting with a quote runs to the next
// quote that is followed by a comma or the end of the line, "" in it is
// one quote, and it may span lines; a quote elsewhere is kept as text.
// Hand-written: encoding/csv misses the target (BenchmarkBillReaderOnCSV).
func (b *BillReader) splitQuoted(line []byte) error {
	first := b.line
	b.rec = b.rec[:0]
	b.n = 0
	from := 0
	end := func() {
		if b.n < maxBillCells {
			b.start[b.n], b.end[b.n] = from, len(b.rec)
		}
		b.n++
		from = len(b.rec)
	}
cells:
	for {
		if len(line) == 0 || line[0] != '"' {
			i := bytes.IndexByte(line, ',')
			if i < 0 {
				b.rec = append(b.rec, trimNL(line)...)
				end()
				break cells
			}
			b.rec = append(b.rec, line[:i]...)
			end()
			line = line[i+1:]
			continue
		}
		line = line[1:]
		for {
			if i := bytes.IndexByte(line, '"'); i >= 0 {
				b.rec = append(b.rec, line[:i]...)
				line = line[i+1:]
				switch {
				case len(line) > 0 && line[0] == '"':
					b.rec = append(b.rec, '"')
					line = line[1:]
				case len(line) > 0 && line[0] == ',':
					line = line[1:]
					end()
					continue cells
				case len(line) == 0 || (len(line) == 1 && line[0] == '\n'):
					end()
					break cells
				default:
					b.rec = append(b.rec, '"')
				}
			} else if len(line) > 0 {
				b.rec = append(b.rec, line...)
				if len(b.rec) > maxBillRecordBytes {
					return &BillParseError{Line: first, Err: fmt.Errorf("record longer than %d bytes (a quote never closed?)", maxBillRecordBytes)}
				}
				var err error
				if line, err = b.readLine(); err != nil && err != io.EOF {
					return err
				}
			} else {
				end() // the end of the input closes the cell
				break cells
			}
		}
	}
	b.text = string(b.rec) // one allocation for every cell of the record
	return nil
}

// parseBillTime reads "2006-01-02 15:04:05" in UTC+8, two digits each.
// Hand-written: time.ParseInLocation misses the target (BenchmarkBillTimeParse).
func parseBillTime(s string) (time.Time, bool) {
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	y1, y2 := digits2(s[0], s[1]), digits2(s[2], s[3])
	month, day := digits2(s[5], s[6]), digits2(s[8], s[9])
	hour, minute, sec := digits2(s[11], s[12]), digits2(s[14], s[15]), digits2(s[17], s[18])
	if y1|y2|month|day|hour|minute|sec < 0 {
		return time.Time{}, false
	}
	year := y1*100 + y2
	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
	// days_from_civil), then UTC+8: what time.Date does, faster.
	y := year
	if month <= 2 {
		y--
	}
	era := y / 400
	if y < 0 { // only year 0 in January or February
		era = -1
	}
	yoe := y - era*400
	mp := (month + 9) % 12
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	days := int64(era*146097+doe) - 719468
	unix := days*86400 + int64(hour*3600+minute*60+sec) - 8*3600
	return time.Unix(unix, 0).In(chinaZone), true
}

// digits2 reads two ASCII digits; -1 if either is not one.
func digits2(a, b byte) int {
	a -= '0'
	b -= '0'
	if a > 9 || b > 9 {
		return -1
	}
	return int(a)*10 + int(b)
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
