// Reading the reconciliation file as a stream: BillReader finds the title
// and the header, reads one record at a time within a bounded buffer, and
// turns its 18 cells into a BillRecord. Splitting a line into cells and
// parsing the time column are in bill_cells.go.

package hipopay

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"strconv"
	"strings"
	"unicode/utf8"
)

const (
	// maxBillRecordBytes bounds one record (a line, or the lines of a
	// record with a quoted cell spanning several): longer is not a bill.
	maxBillRecordBytes = 1 << 20
	// maxBillCells bounds the cells kept of a record; more are counted.
	maxBillCells = 64
	// billBufferSize is the read buffer of a BillReader.
	billBufferSize = 64 << 10
)

// BillReader reads the reconciliation file ([Client.DownloadBill]) as a
// stream of [BillRecord], like encoding/csv's Reader: it holds one record
// at a time (at most 1 MiB) beside a 64 KiB buffer, however large the
// file. It is not safe for concurrent use.
//
// The first line is the title (it may be missing), the next the header of
// 18 columns, mapped by position whatever their language. A UTF-8 BOM,
// CRLF line ends, blank lines and cells quoted as encoding/csv does with
// LazyQuotes (holding commas, doubled quotes, line breaks) are read.
type BillReader struct {
	br      *bufio.Reader
	line    int   // number of the last line read
	started bool  // the title and the header were read
	err     error // sticky: io.EOF, a read error, a bad title or header
	title   string
	pending int    // when > 0, the last record (read with the head) is still to return; its first line
	raw     []byte // a line longer than br's buffer
	rec     []byte // the unquoted text of a record with quotes
	// The last record: its text, its number of cells (which may exceed
	// maxBillCells) and where each of its first maxBillCells cells starts
	// and ends in text.
	text       string
	n          int
	start, end [maxBillCells]int
}

// NewBillReader returns a [BillReader] of the reconciliation file in r.
// Nothing is read until [BillReader.Title] or [BillReader.Read] is called.
func NewBillReader(r io.Reader) *BillReader {
	return &BillReader{br: bufio.NewReaderSize(r, billBufferSize)}
}

// Title returns the file's title line (e.g. "Test: company's reconciliation
// report of 20190101 to 20190120"), reading the title and the header first
// if [BillReader.Read] was not called yet.
//
// It returns "" when the file has no title line or could not be read;
// [BillReader.Read] then returns the error.
func (b *BillReader) Title() string {
	if !b.started && b.err == nil {
		b.err = b.readHead()
	}
	return b.title
}

// Read returns the next record, and io.EOF after the last one. Its first
// call reads the title and the header.
//
// Every other error is a [*BillParseError] naming the line (and the column
// of a bad cell): an empty file, a title only, a header of other than 18
// columns (an HTML page or a JSON error body), a line of another number of
// cells, a time not like "2006-01-02 15:04:05", an amount not like
// "<decimal> <CURRENCY>", a record over 1 MiB, a failure of the underlying
// reader. After an error in a record, Read goes on with the next line; an
// error in the title or header, a read error and an over-long record are
// returned again by every later call.
func (b *BillReader) Read() (*BillRecord, error) {
	if b.err != nil {
		return nil, b.err
	}
	if !b.started {
		if b.err = b.readHead(); b.err != nil {
			return nil, b.err
		}
	}
	start := b.pending
	if start > 0 {
		b.pending = 0 // the record read with the head
	} else {
		var err error
		if start, err = b.next(); err != nil {
			b.err = err
			return nil, err
		}
	}
	if b.n != billColumnCount {
		return nil, &BillParseError{Line: start, Err: fmt.Errorf("has %d cells, want %d", b.n, billColumnCount)}
	}
	return b.record(start)
}

// All iterates over the remaining records of [BillReader.Read]. It stops
// after the first error, which it yields with a nil record; it does not
// yield io.EOF.
func (b *BillReader) All() iter.Seq2[*BillRecord, error] {
	return func(yield func(*BillRecord, error) bool) {
		for {
			rec, err := b.Read()
			if err == io.EOF {
				return
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// utf8BOM is the UTF-8 byte order mark some editors put first in a file.
const utf8BOM = "\xef\xbb\xbf"

// readHead reads the title line (the first line that is not blank) and the
// header line. A file whose first line is already an 18-column header
// (every cell filled) is read as a file without a title, unless the line
// after it looks like a header too: then the first line is the title.
func (b *BillReader) readHead() error {
	b.started = true
	if p, _ := b.br.Peek(len(utf8BOM)); string(p) == utf8BOM {
		_, _ = b.br.Discard(len(utf8BOM))
	}
	var title []byte
	for {
		line, err := b.readLine()
		if err == io.EOF {
			return &BillParseError{Line: b.line + 1, Err: errors.New("the file is empty: no title line")}
		}
		if err != nil {
			return err
		}
		if line = trimNL(line); !blankLine(line) {
			title = line
			break
		}
	}
	titleLine := b.line
	t := bytes.TrimSpace(title)
	switch {
	case bytes.IndexByte(t, 0) >= 0:
		return &BillParseError{Line: titleLine, Err: errors.New("has NUL bytes: not a UTF-8 reconciliation file (UTF-16?)")}
	case len(t) > 0 && (t[0] == '{' || t[0] == '['):
		return &BillParseError{Line: titleLine, Err: errors.New("looks like JSON (an error answer?), not the reconciliation file's title")}
	case len(t) > 0 && t[0] == '<':
		return &BillParseError{Line: titleLine, Err: errors.New("looks like HTML, not the reconciliation file's title")}
	}
	if cells := bytes.Split(title, []byte(",")); len(cells) == billColumnCount && bytes.IndexByte(title, '"') < 0 {
		full := true
		for _, c := range cells {
			full = full && len(bytes.TrimSpace(c)) > 0
		}
		if full {
			// The header of a file without a title, or a title with 17
			// commas: the next line tells.
			if err := b.checkHeader(titleLine, string(cells[1])); err != nil {
				return err
			}
			title := billTitle(bytes.TrimRight(t, ", \t")) // before next() reuses the buffer
			start, err := b.next()
			switch {
			case err == io.EOF:
				return nil // a header without records
			case err != nil:
				return err
			case b.headerLike():
				b.title = title // and this line is the header
				return nil
			}
			b.pending = start // no title: the first line is the header, this one a record
			return nil
		}
	}
	b.title = billTitle(bytes.TrimRight(t, ", \t"))
	start, err := b.next()
	if err == io.EOF {
		return &BillParseError{Line: b.line + 1, Err: errors.New("no header line after the title")}
	}
	if err != nil {
		return err
	}
	if b.n != billColumnCount {
		return &BillParseError{Line: start, Err: fmt.Errorf("the header has %d columns, want %d", b.n, billColumnCount)}
	}
	return b.checkHeader(start, b.cell(1))
}

// billTitle is the title line's text, unquoted if a tool that saved the
// file quoted it as a CSV cell.
func billTitle(t []byte) string {
	if n := len(t); n >= 2 && t[0] == '"' && t[n-1] == '"' {
		return strings.ReplaceAll(string(t[1:n-1]), `""`, `"`)
	}
	return string(t)
}

// headerLike reports whether the last record could be a header: 18 cells,
// each filled (neither empty nor "-"), none an amount, and no time in the
// Transaction Time column. A record has amounts, or at least "-" cells.
func (b *BillReader) headerLike() bool {
	if b.n != billColumnCount {
		return false
	}
	for i := range billColumnCount {
		c := strings.TrimSpace(billText(b.cell(i)))
		if c == "" {
			return false
		}
		if _, ok := parseBillMoney(c); ok {
			return false
		}
	}
	_, isTime := parseBillTime(billText(b.cell(1)))
	return !isTime
}

// checkHeader refuses a "header" whose time column holds a time: a record
// where the header should be.
func (b *BillReader) checkHeader(line int, timeCell string) error {
	if _, ok := parseBillTime(timeCell); ok {
		return &BillParseError{Line: line, Err: errors.New("is a record where the header line should be")}
	}
	return nil
}

// readLine returns the next line with a final "\r\n" turned into "\n" and,
// at the end of the input, a final "\r" dropped, as encoding/csv does. The
// line is valid until the next call. It returns io.EOF only with an empty
// line.
func (b *BillReader) readLine() ([]byte, error) {
	line, err := b.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		b.raw = append(b.raw[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(b.raw) > maxBillRecordBytes {
				return nil, &BillParseError{Line: b.line + 1, Err: fmt.Errorf("longer than %d bytes: not a reconciliation file", maxBillRecordBytes)}
			}
			line, err = b.br.ReadSlice('\n')
			b.raw = append(b.raw, line...)
		}
		line = b.raw
	}
	if err != nil && err != io.EOF {
		return nil, &BillParseError{Line: b.line + 1, Err: err}
	}
	if len(line) > 0 {
		b.line++
	}
	if err == io.EOF && len(line) > 0 {
		err = nil
		if line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, err
}

func trimNL(line []byte) []byte {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		return line[:n-1]
	}
	return line
}

// blankLine reports whether line holds nothing but spaces, tabs and line ends.
func blankLine(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

// next reads the next record that is not blank into b.text, b.n, b.start
// and b.end, and returns its first line. A line without quotes becomes one
// string, its cells are sliced from it; a line with a quote is parsed as
// encoding/csv does with LazyQuotes.
func (b *BillReader) next() (int, error) {
	for {
		line, err := b.readLine()
		if err != nil {
			return 0, err
		}
		if bytes.IndexByte(line, '"') >= 0 {
			return b.line, b.splitQuoted(line)
		}
		line = trimNL(line)
		if blankLine(line) {
			continue
		}
		b.splitCommas(line)
		b.text = string(line) // one allocation for every cell of the line
		return b.line, nil
	}
}

// cell returns cell i (< min(b.n, maxBillCells)) of the last record.
func (b *BillReader) cell(i int) string { return b.text[b.start[i]:b.end[i]] }

// record turns the 18 cells of the record starting at line into a
// BillRecord.
func (b *BillReader) record(line int) (*BillRecord, error) {
	r := new(BillRecord)
	r.Type = billText(b.cell(0))
	if s := billText(b.cell(1)); s != "" {
		t, ok := parseBillTime(s)
		if !ok {
			return nil, &BillParseError{Line: line, Column: billColumnNames[1], Err: fmt.Errorf("%s is not a time of the form 2006-01-02 15:04:05", quoteCell(s))}
		}
		r.Time = t
	}
	r.OrderNo = billText(b.cell(2))
	r.ExternalOrderNo = billText(b.cell(3))
	r.SettlementRate = billText(b.cell(8))
	r.RefundOrderNo = billText(b.cell(11))
	r.ExternalRefundOrderNo = billText(b.cell(12))
	r.ConvertedCurrency = billText(b.cell(14))
	r.ConversionRate = billText(b.cell(15))
	r.PaymentChannel = billText(b.cell(17))
	if err := b.money(line, 4, &r.Credit); err != nil {
		return nil, err
	}
	if err := b.money(line, 5, &r.Debit); err != nil {
		return nil, err
	}
	if err := b.money(line, 6, &r.Balance); err != nil {
		return nil, err
	}
	if err := b.money(line, 7, &r.TransactionAmount); err != nil {
		return nil, err
	}
	if err := b.money(line, 9, &r.ServiceFee); err != nil {
		return nil, err
	}
	if err := b.money(line, 10, &r.RefundAmount); err != nil {
		return nil, err
	}
	if err := b.money(line, 13, &r.WithdrawalFee); err != nil {
		return nil, err
	}
	if err := b.money(line, 16, &r.AmountAfterConversion); err != nil {
		return nil, err
	}
	return r, nil
}

// money reads the amount in cell col into dst; "-" leaves dst empty.
func (b *BillReader) money(line, col int, dst *Money) error {
	s := b.cell(col)
	if s == "-" { // most amounts of a line
		return nil
	}
	return b.parseMoney(line, col, billText(s), dst)
}

func (b *BillReader) parseMoney(line, col int, s string, dst *Money) error {
	if s == "" {
		return nil
	}
	m, ok := parseBillMoney(s)
	if !ok {
		return &BillParseError{Line: line, Column: billColumnNames[col], Err: fmt.Errorf("%s is not an amount of the form \"<decimal> <CURRENCY>\"", quoteCell(s))}
	}
	*dst = m
	return nil
}

// billText cleans a cell: a leading backtick (a number kept as text) is
// dropped, then "-" is empty ("`-" too).
func billText(s string) string {
	if len(s) > 0 && s[0] == '`' {
		s = s[1:]
	}
	if s == "-" {
		return ""
	}
	return s
}

// quoteCell quotes a cell for an error message, cut to a readable length.
func quoteCell(s string) string {
	const max = 40
	if len(s) > max {
		s = s[:max]
		for len(s) > 0 && !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return strconv.Quote(s) + "..."
	}
	return strconv.Quote(s)
}
