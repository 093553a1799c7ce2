// The reconciliation file: downloading it (GET download_bill, Version 3.0)
// and reading it as a stream of typed records.

package hipopay

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/bits"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// BillRequest asks for the reconciliation file of a range of days, both
// included. A time at midnight in its location is that calendar day
// (time.Date(2019, 1, 20, 0, 0, 0, 0, time.UTC) is 20190120, whatever the
// zone); any other time is an instant, sent as its day in UTC+8, HipoPay's
// time zone (time.Now() is today in China). HipoPay serves at most the
// last three months.
type BillRequest struct {
	StartDate time.Time
	EndDate   time.Time
}

// billDay is the YYYYMMDD day of t as BillRequest documents it.
func billDay(t time.Time) string {
	if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0 {
		return t.Format(dateLayout)
	}
	return t.In(chinaZone).Format(dateLayout)
}

// billParams are download_bill's query parameters.
type billParams struct {
	MerchantNo string `url:"merchant_no"`
	StartDate  string `url:"start_date"` // YYYYMMDD
	EndDate    string `url:"end_date"`   // YYYYMMDD
}

func (r *BillRequest) validate() error {
	if r == nil {
		return invalid("request", "is nil")
	}
	if r.StartDate.IsZero() {
		return invalid("start_date", "is required")
	}
	if r.EndDate.IsZero() {
		return invalid("end_date", "is required")
	}
	if start, end := billDay(r.StartDate), billDay(r.EndDate); start > end {
		return invalid("start_date", "%s is after end_date %s", start, end)
	}
	return nil
}

// DownloadBill returns the raw reconciliation file as a stream; the caller
// must Close it. Read it with NewBillReader.
//
// HipoPay endpoint: GET download_bill (header Version 3.0).
//
// A missing date or a start after the end is a *ValidationError before any
// network call; the three-month window and future dates are HipoPay's to
// judge. A JSON error answer is an *APIError. The download is bounded by
// ctx, not by the default 30 s timeout, so large files can stream.
func (c *Client) DownloadBill(ctx context.Context, req *BillRequest) (io.ReadCloser, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	params := encodeParams(billParams{
		MerchantNo: c.merchantNo,
		StartDate:  billDay(req.StartDate),
		EndDate:    billDay(req.EndDate),
	})
	return c.stream(ctx, call{method: http.MethodGet, path: "download_bill", version: billAPIVersion, params: params})
}

// billColumnCount is the number of columns of the reconciliation file.
const billColumnCount = 18

// billColumnNames are the reconciliation file's columns in order, as the
// API reference names them; errors name a column by these.
var billColumnNames = [billColumnCount]string{
	"Transaction Type", "Transaction Time", "Order No.", "External order No.",
	"Credit", "Debit", "Balance", "Transaction Amount",
	"Exchange Rate Adopted for Settlement", "Service Fee", "Refund Amount", "Refund Order",
	"External Refund Order No.", "Fee for Withdrawal", "Converted Currency",
	"Exchange Rate Adopted for Conversion", "Amount After Conversion", "Payment Channel",
}

const (
	// maxBillRecordBytes bounds one record (a line, or the lines of a
	// record with a quoted cell spanning several): longer is not a bill.
	maxBillRecordBytes = 1 << 20
	// maxBillCells bounds the cells kept of a record; more are counted.
	maxBillCells = 64
	// billBufferSize is the read buffer of a BillReader.
	billBufferSize = 64 << 10
)

// The entry types of the reconciliation file that the API reference shows.
// Others exist (fees, withdrawals, conversions); a BillReader passes every
// type through as it is written.
const (
	BillTypeCollection = "Collection via WeChat Pay" // a payment received (the reference's example)
	BillTypeRefund     = "Refund"                    // a refund paid back
)

// BillEntryKind classifies a line of the reconciliation file for
// reconciliation: a payment, a refund, or anything else.
type BillEntryKind int

// Kinds of entries.
const (
	BillEntryOther   BillEntryKind = iota // fees, withdrawals, conversions, unknown types
	BillEntryPayment                      // a collection: the buyer paid an order
	BillEntryRefund                       // a refund of (part of) a payment
)

// String names k: "payment", "refund" or "other".
func (k BillEntryKind) String() string {
	switch k {
	case BillEntryPayment:
		return "payment"
	case BillEntryRefund:
		return "refund"
	case BillEntryOther:
		return "other"
	}
	return "BillEntryKind(" + strconv.Itoa(int(k)) + ")"
}

// Money is an amount of the reconciliation file: the exact decimal text
// and its currency, as written ("-0.99 HKD" is Value "-0.99", Currency HKD).
type Money struct {
	Value    string   // exact decimal text, e.g. "-0.99"; "" when the cell was "-"
	Currency Currency // "" when the cell was "-"
}

// IsZero reports whether m is empty or numerically zero ("0.00", "-0").
func (m Money) IsZero() bool {
	for i := 0; i < len(m.Value); i++ {
		if c := m.Value[i]; c != '0' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// Minor returns m in minor units of its currency: cents for two-decimal
// currencies, whole units for JPY and KRW. An empty m is 0. Decimals
// beyond the currency's that are all zeros are exact and accepted
// ("100.00 JPY" is 100, "0.990 HKD" is 99).
//
// It never rounds: a non-zero decimal beyond the currency's ("1.5 JPY",
// "0.999 HKD"), a value that is not a plain decimal, a missing or
// malformed currency, or an amount beyond int64 is an error.
func (m Money) Minor() (int64, error) {
	n, err := m.minor()
	if err != nil {
		return 0, errors.New("hipopay: " + err.Error())
	}
	return n, nil
}

// minor is Minor with errors that do not start with "hipopay: ".
func (m Money) minor() (int64, error) {
	if m.Value == "" {
		return 0, nil
	}
	if !m.Currency.wellFormed() {
		return 0, fmt.Errorf("amount %q: %q is not a three-letter currency code", m.Value, string(m.Currency))
	}
	decimals := m.Currency.Decimals()
	n, err := parseMinor(trimZeroDecimals(m.Value, decimals), decimals)
	if err != nil {
		return 0, fmt.Errorf("amount %s: %w", m, err)
	}
	return n, nil
}

// trimZeroDecimals drops the decimals of v beyond the first decimals when
// they are all zeros ("100.00" with none is "100", "0.990" with two is
// "0.99"); any other v is returned as it is, for parseMinor to judge.
func trimZeroDecimals(v string, decimals int) string {
	dot := strings.IndexByte(v, '.')
	if dot < 0 || len(v)-dot-1 <= decimals {
		return v
	}
	keep := dot + 1 + decimals
	for i := keep; i < len(v); i++ {
		if v[i] != '0' {
			return v
		}
	}
	if decimals == 0 {
		keep = dot // no dot left behind: "100." is not a plain decimal
	}
	return v[:keep]
}

// String writes m as the file does, "-0.99 HKD"; "" when m is empty.
func (m Money) String() string {
	if m.Value == "" {
		return ""
	}
	return m.Value + " " + string(m.Currency)
}

// moneyFromMinor writes n minor units of c as a Money.
func moneyFromMinor(n int64, c Currency) Money {
	return Money{Value: formatMinor(n, c.Decimals()), Currency: c}
}

// BillRecord is one entry (one line) of the reconciliation file. A leading
// backtick (a number kept as text) is removed, then cells written "-" are
// empty (so "`-" is empty too), amounts are Money and the time is in
// UTC+8.
//
// On a Refund line, as the reference's example shows, OrderNo is the
// refund's own HipoPay number (refund_no), ExternalOrderNo the merchant's
// refund number (empty in the example), RefundOrderNo the HipoPay number of
// the payment refunded (payment_no) and ExternalRefundOrderNo the merchant's
// number of that payment (out_trade_id).
//
// The strings of a record share one allocation: keeping any of them keeps
// the text of its whole line.
type BillRecord struct {
	Type                  string // "Collection via WeChat Pay", "Refund", ...
	Time                  time.Time
	OrderNo               string
	ExternalOrderNo       string
	Credit, Debit         Money
	Balance               Money
	TransactionAmount     Money
	SettlementRate        string
	ServiceFee            Money
	RefundAmount          Money
	RefundOrderNo         string
	ExternalRefundOrderNo string
	WithdrawalFee         Money
	ConvertedCurrency     string
	ConversionRate        string
	AmountAfterConversion Money
	PaymentChannel        string
}

// Kind classifies r by its Type: BillEntryPayment for "Collection via
// WeChat Pay" and the other "Collection via ..." types, BillEntryRefund
// for "Refund" (and "Refund via ..."), BillEntryOther for every other type
// (fees, withdrawals, conversions, types in another language).
func (r *BillRecord) Kind() BillEntryKind {
	switch {
	case strings.HasPrefix(r.Type, "Collection via "):
		return BillEntryPayment
	case r.Type == BillTypeRefund || strings.HasPrefix(r.Type, "Refund via "):
		return BillEntryRefund
	}
	return BillEntryOther
}

// BillParseError reports a reconciliation file that cannot be read: the
// line (1-based, counting the title line, blank lines and every physical
// line of a multi-line record) and, for a bad cell, the column. Err says
// what is wrong; for a failure of the underlying reader it is that
// reader's error (errors.Is sees through).
type BillParseError struct {
	Line   int    // 1-based line number; for a multi-line record, its first line
	Column string // the column's name as the API reference gives it, e.g. "Credit"; "" for a whole line
	Err    error
}

func (e *BillParseError) Error() string {
	msg := "hipopay: reconciliation file line " + strconv.Itoa(e.Line)
	if e.Column != "" {
		msg += ", column " + strconv.Quote(e.Column)
	}
	if e.Err == nil {
		return msg + ": unreadable"
	}
	return msg + ": " + e.Err.Error()
}

func (e *BillParseError) Unwrap() error { return e.Err }

// BillReader reads the reconciliation file as a stream of records, like
// encoding/csv's Reader: it holds one record at a time (at most 1 MiB)
// beside a 64 KiB buffer, however large the file.
//
// It accepts a UTF-8 byte order mark, CRLF line ends and blank lines
// anywhere. The file's first line is the title, the second the header of
// 18 columns; cells are mapped by position, so a header in another
// language reads the same. A file that starts with the header (18 filled
// cells) is read as one without a title, unless its second line looks like
// a header too (18 filled cells, none an amount, no time in the second):
// then the first line is a title that happens to hold 17 commas. Cells are
// comma-separated and may be quoted as in encoding/csv (with LazyQuotes): a
// quoted cell may hold commas, doubled quotes and line breaks.
//
// A BillReader is not safe for concurrent use.
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

// NewBillReader returns a reader of the reconciliation file in r. Nothing
// is read until Title or Read is called.
func NewBillReader(r io.Reader) *BillReader {
	return &BillReader{br: bufio.NewReaderSize(r, billBufferSize)}
}

// Title returns the file's title line (e.g. "Test: company's reconciliation
// report of 20190101 to 20190120"). It reads the title and the header
// first if Read was not called yet.
//
// It returns "" when the file has no title line or could not be read;
// Read then returns the error.
func (b *BillReader) Title() string {
	if !b.started && b.err == nil {
		b.err = b.readHead()
	}
	return b.title
}

// Read returns the next record, and io.EOF after the last one. Its first
// call reads the title and the header.
//
// Every other error is a *BillParseError naming the line (and the column
// for a bad cell): a file that is empty, has a title only, or whose header
// has another number of columns than 18 (an HTML page or a JSON error body
// fails this way); a line with another number of cells; a time not in the
// form "2006-01-02 15:04:05"; an amount not of the form "<decimal>
// <CURRENCY>"; a record longer than 1 MiB; a failure of the underlying
// reader. After an error in a record Read may be called again to go on
// with the next line; an error in the title or header, a read error and
// an over-long record are returned again by every later call.
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

// All iterates over the remaining records. It stops after the first error,
// which it yields with a nil record; it does not yield io.EOF.
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

// splitCommas records where the comma-separated cells of line start and
// end. It looks at eight bytes at a time: cells are short, a call of
// bytes.IndexByte per cell costs more.
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

// parseBillMoney reads "<decimal> <CUR>": a plain decimal, optionally
// negative, one space, three upper-case letters.
func parseBillMoney(s string) (Money, bool) {
	n := len(s)
	if n < 5 || s[n-4] != ' ' {
		return Money{}, false
	}
	cur := Currency(s[n-3:])
	if !cur.wellFormed() {
		return Money{}, false
	}
	v := s[:n-4]
	if !plainDecimal(v) {
		return Money{}, false
	}
	return Money{Value: v, Currency: cur}, true
}

// plainDecimal reports whether s is digits, optionally with a leading '-'
// and a fraction of at least one digit: "-0.99", "100", "1.5".
func plainDecimal(s string) bool {
	if len(s) > 0 && s[0] == '-' {
		s = s[1:]
	}
	digits, dot := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot && digits > 0:
			dot, digits = true, 0
		default:
			return false
		}
	}
	return digits > 0
}

// parseBillTime reads "2006-01-02 15:04:05" in UTC+8 without time.Parse.
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

// BillRecords downloads the reconciliation file and iterates over its
// records, closing the download when the loop ends (also on break).
//
// HipoPay endpoint: GET download_bill (Version 3.0).
//
// The download's errors (see DownloadBill: a *ValidationError, an
// *APIError, a network error) are yielded once with a nil record; a file
// that cannot be read yields a *BillParseError. Either ends the iteration.
// The title line is not available this way: use DownloadBill and
// NewBillReader for it.
func (c *Client) BillRecords(ctx context.Context, req *BillRequest) iter.Seq2[*BillRecord, error] {
	return func(yield func(*BillRecord, error) bool) {
		body, err := c.DownloadBill(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		defer body.Close()
		for rec, err := range NewBillReader(body).All() {
			if !yield(rec, err) {
				return
			}
		}
	}
}

// BillTotal sums the lines of one entry type in one currency. Every amount
// is the sum of the cells of that column in that currency (debits are
// negative, as in the file); the running Balance is not summed.
type BillTotal struct {
	Type     string   // e.g. BillTypeCollection
	Currency Currency // "" for lines without any amount
	// Count is the number of lines of Type with an amount (Balance
	// included) in Currency. A line with amounts in two currencies counts
	// in both.
	Count                 int
	Credit                Money
	Debit                 Money
	TransactionAmount     Money
	ServiceFee            Money
	RefundAmount          Money
	WithdrawalFee         Money
	AmountAfterConversion Money
}

// BillSummary is the totals of a reconciliation file.
type BillSummary struct {
	Records int         // lines read
	Totals  []BillTotal // one per entry type and currency, by type then currency
}

// BillTotals adds up records per entry type and currency, exactly, in
// minor units. Its zero value is ready; feed it with Add.
type BillTotals struct {
	records int
	sums    map[billTotalKey]*billSums
}

type billTotalKey struct {
	typ string
	cur Currency
}

// billSums are the summed columns of one BillTotal, in minor units, in the
// order of billSummed.
type billSums struct {
	count int
	minor [7]int64
}

// billSummed picks the summed columns of a record, in BillTotal's order.
func billSummed(r *BillRecord) [7]Money {
	return [7]Money{r.Credit, r.Debit, r.TransactionAmount, r.ServiceFee, r.RefundAmount, r.WithdrawalFee, r.AmountAfterConversion}
}

var billSummedNames = [7]string{"Credit", "Debit", "Transaction Amount", "Service Fee", "Refund Amount", "Fee for Withdrawal", "Amount After Conversion"}

// Add adds rec to the totals. An amount that is not exact in its currency
// ("1.5 JPY") or a sum beyond int64 minor units is an error, and rec is
// then not added at all. A nil rec is an error too, and changes nothing.
func (t *BillTotals) Add(rec *BillRecord) error {
	if rec == nil {
		return errors.New("hipopay: BillTotals.Add: nil record")
	}
	cells := billSummed(rec)
	var minor [7]int64
	for i, m := range cells {
		n, err := m.minor()
		if err != nil {
			return fmt.Errorf("hipopay: %s %s, column %q: %w", rec.Type, rec.OrderNo, billSummedNames[i], err)
		}
		minor[i] = n
	}
	if t.sums == nil {
		t.sums = make(map[billTotalKey]*billSums)
	}
	// Work on copies so that an overflow leaves t unchanged.
	touched := make(map[Currency]*billSums, 2)
	get := func(c Currency) *billSums {
		if s, ok := touched[c]; ok {
			return s
		}
		s := new(billSums)
		if old, ok := t.sums[billTotalKey{rec.Type, c}]; ok {
			*s = *old
		}
		s.count++
		touched[c] = s
		return s
	}
	for i, m := range cells {
		if m.Value == "" {
			continue
		}
		s := get(m.Currency)
		sum := s.minor[i] + minor[i]
		if (minor[i] > 0 && sum < s.minor[i]) || (minor[i] < 0 && sum > s.minor[i]) {
			return fmt.Errorf("hipopay: %s %s: the %s total overflows", rec.Type, rec.OrderNo, billSummedNames[i])
		}
		s.minor[i] = sum
	}
	if rec.Balance.Value != "" {
		get(rec.Balance.Currency)
	}
	if len(touched) == 0 {
		get("")
	}
	for c, s := range touched {
		t.sums[billTotalKey{rec.Type, c}] = s
	}
	t.records++
	return nil
}

// Summary returns the totals so far.
func (t *BillTotals) Summary() *BillSummary {
	sum := &BillSummary{Records: t.records, Totals: make([]BillTotal, 0, len(t.sums))}
	for k, s := range t.sums {
		m := func(i int) Money {
			if k.cur == "" {
				return Money{}
			}
			return moneyFromMinor(s.minor[i], k.cur)
		}
		sum.Totals = append(sum.Totals, BillTotal{
			Type: k.typ, Currency: k.cur, Count: s.count,
			Credit: m(0), Debit: m(1), TransactionAmount: m(2), ServiceFee: m(3),
			RefundAmount: m(4), WithdrawalFee: m(5), AmountAfterConversion: m(6),
		})
	}
	sort.Slice(sum.Totals, func(i, j int) bool {
		a, b := sum.Totals[i], sum.Totals[j]
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.Currency < b.Currency
	})
	return sum
}

// SummarizeBill adds up the records of records (e.g. BillReader.All or
// Client.BillRecords) per entry type and currency.
//
// It stops at the first error of records or of BillTotals.Add and returns
// it.
func SummarizeBill(records iter.Seq2[*BillRecord, error]) (*BillSummary, error) {
	var t BillTotals
	for rec, err := range records {
		if err != nil {
			return nil, err
		}
		if err := t.Add(rec); err != nil {
			return nil, err
		}
	}
	return t.Summary(), nil
}

// ExpectedEntry is a payment or refund the merchant's own books hold, to be
// found in the reconciliation file. It is found by HipoPay's number or by
// the merchant's number (at least one is required; when both are given
// the HipoPay number is tried first).
//
// A payment is looked for on the Collection lines: HipoPayNo (payment_no)
// in the Order No. column, OutID (out_trade_id) in the External order No.
// column; Amount is compared with the Transaction Amount (the order
// amount, e.g. "1.00 HKD"; Credit is that amount net of the service fee).
//
// A refund is looked for on the Refund lines: HipoPayNo (refund_no) in the
// Order No. column, OutID (out_refund_id) in the External order No.
// column; Amount is compared with the Refund Amount. The reference's
// example leaves External order No. of its Refund line empty, so key
// refunds by refund_no where possible. (On a Refund line, Refund Order and
// External Refund Order No. name the payment refunded, not the refund.)
type ExpectedEntry struct {
	Kind      BillEntryKind // BillEntryPayment or BillEntryRefund
	HipoPayNo string        // payment_no of a payment, refund_no of a refund
	OutID     string        // out_trade_id of a payment, out_refund_id of a refund
	Amount    string        // decimal in Currency's major unit, e.g. "1.00"
	Currency  Currency
}

// MismatchReason says what differs between an expected entry and its line.
type MismatchReason string

// Reasons for a mismatch, checked in this order.
const (
	MismatchCurrency  MismatchReason = "currency"  // the bill's amount is in another currency
	MismatchAmount    MismatchReason = "amount"    // same currency, another amount (or one that is not exact)
	MismatchReference MismatchReason = "reference" // found by one number, the other number differs
)

// BillMismatch is an expected entry found in the file with another amount,
// currency or reference.
type BillMismatch struct {
	Expected ExpectedEntry
	Record   *BillRecord
	Bill     Money // the amount compared: Transaction Amount or Refund Amount
	Reason   MismatchReason
}

// Reconciliation is the outcome of comparing the merchant's expected
// entries with the reconciliation file.
type Reconciliation struct {
	Matched       []ExpectedEntry // found with the same amount and currency, in the file's order
	Mismatched    []BillMismatch  // found, but something differs
	MissingInBill []ExpectedEntry // expected, not in the file, in the order given
	// UnexpectedInBill are payment and refund lines that no expected
	// entry names, and lines for an entry already found (a duplicate).
	UnexpectedInBill []*BillRecord
	Ignored          int // lines of other types (fees, withdrawals, ...), not reconciled
}

// OK reports whether the file and the expected entries agree entirely.
func (r *Reconciliation) OK() bool {
	return len(r.Mismatched) == 0 && len(r.MissingInBill) == 0 && len(r.UnexpectedInBill) == 0
}

// Reconciler compares a stream of records with the merchant's expected
// entries without holding the records: feed it with Add, then read Result.
// It holds the expected entries and the lines it reports.
type Reconciler struct {
	expected []ExpectedEntry
	minor    []int64
	found    []bool
	byNo     map[billEntryKey]int
	byOut    map[billEntryKey]int
	res      Reconciliation
}

type billEntryKey struct {
	kind BillEntryKind
	id   string
}

// NewReconciler prepares the comparison with expected.
//
// An entry without a valid kind, without either number, with an amount
// that is not a positive decimal exact in its currency, with a malformed
// currency, or with a number another entry of the same kind already has,
// is a *ValidationError naming it ("expected[2].amount").
func NewReconciler(expected []ExpectedEntry) (*Reconciler, error) {
	r := &Reconciler{
		expected: append([]ExpectedEntry(nil), expected...),
		minor:    make([]int64, len(expected)),
		found:    make([]bool, len(expected)),
		byNo:     make(map[billEntryKey]int, len(expected)),
		byOut:    make(map[billEntryKey]int, len(expected)),
	}
	for i, e := range r.expected {
		field := func(name string) string { return "expected[" + strconv.Itoa(i) + "]." + name }
		if e.Kind != BillEntryPayment && e.Kind != BillEntryRefund {
			return nil, invalid(field("kind"), "%v is neither a payment nor a refund", e.Kind)
		}
		if e.HipoPayNo == "" && e.OutID == "" {
			return nil, invalid(field("hipopay_no"), "is required unless out_id is given")
		}
		if err := validCurrency(field("currency"), e.Currency); err != nil {
			return nil, err
		}
		if err := validAmount(field("amount"), e.Amount, e.Currency); err != nil {
			return nil, err
		}
		r.minor[i], _ = parseMinor(e.Amount, e.Currency.Decimals())
		for _, idx := range []struct {
			m    map[billEntryKey]int
			id   string
			name string
		}{{r.byNo, e.HipoPayNo, "hipopay_no"}, {r.byOut, e.OutID, "out_id"}} {
			if idx.id == "" {
				continue
			}
			k := billEntryKey{e.Kind, idx.id}
			if j, dup := idx.m[k]; dup {
				return nil, invalid(field(idx.name), "%q is also expected[%d]'s", idx.id, j)
			}
			idx.m[k] = i
		}
	}
	return r, nil
}

// Add compares one record of the file with the expected entries. A nil
// rec is ignored: it is no line of the file.
func (r *Reconciler) Add(rec *BillRecord) {
	if rec == nil {
		return
	}
	kind := rec.Kind()
	if kind == BillEntryOther {
		r.res.Ignored++
		return
	}
	i, ok := -1, false
	if rec.OrderNo != "" {
		i, ok = r.byNo[billEntryKey{kind, rec.OrderNo}]
	}
	if !ok && rec.ExternalOrderNo != "" {
		i, ok = r.byOut[billEntryKey{kind, rec.ExternalOrderNo}]
	}
	if !ok || r.found[i] {
		r.res.UnexpectedInBill = append(r.res.UnexpectedInBill, rec)
		return
	}
	r.found[i] = true
	e := r.expected[i]
	bill := rec.TransactionAmount
	if kind == BillEntryRefund {
		bill = rec.RefundAmount
	}
	var reason MismatchReason
	switch n, err := bill.Minor(); {
	case bill.Currency != e.Currency:
		reason = MismatchCurrency
	case err != nil || n != r.minor[i]:
		reason = MismatchAmount
	case e.HipoPayNo != "" && rec.OrderNo != e.HipoPayNo,
		e.OutID != "" && rec.ExternalOrderNo != "" && rec.ExternalOrderNo != e.OutID:
		reason = MismatchReference
	}
	if reason != "" {
		r.res.Mismatched = append(r.res.Mismatched, BillMismatch{Expected: e, Record: rec, Bill: bill, Reason: reason})
		return
	}
	r.res.Matched = append(r.res.Matched, e)
}

// Result returns the reconciliation of the records added so far: every
// expected entry not found yet is missing.
func (r *Reconciler) Result() *Reconciliation {
	res := r.res
	res.Matched = append([]ExpectedEntry(nil), r.res.Matched...)
	res.Mismatched = append([]BillMismatch(nil), r.res.Mismatched...)
	res.UnexpectedInBill = append([]*BillRecord(nil), r.res.UnexpectedInBill...)
	res.MissingInBill = nil
	for i, e := range r.expected {
		if !r.found[i] {
			res.MissingInBill = append(res.MissingInBill, e)
		}
	}
	return &res
}

// Reconcile compares the merchant's expected payments and refunds with the
// records of a reconciliation file (e.g. BillReader.All or
// Client.BillRecords), streaming: see ExpectedEntry for what is compared
// with what.
//
// Invalid expected entries are a *ValidationError (see NewReconciler); an
// error of records stops the comparison and is returned.
func Reconcile(expected []ExpectedEntry, records iter.Seq2[*BillRecord, error]) (*Reconciliation, error) {
	r, err := NewReconciler(expected)
	if err != nil {
		return nil, err
	}
	for rec, err := range records {
		if err != nil {
			return nil, err
		}
		r.Add(rec)
	}
	return r.Result(), nil
}
