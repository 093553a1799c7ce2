// Tests of BillReader (bill_reader.go, bill_cells.go, bill_record.go): the
// reference's sample field by field, the tolerated variants (BOM, CRLF,
// blank lines, no title, quoted and Chinese cells), files that are not
// bills, bad cells and their *BillParseError, and the time parser. The
// sample helpers here serve the other bill tests too.

package hipopay

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// billSample is testdata/bill_sample.txt, the reference's example.
func billSample(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "bill_sample.txt"))
	require.NoError(t, err)
	return string(b)
}

// billSampleLines are the sample's lines without line ends: title, header,
// then the three records.
func billSampleLines(t testing.TB) []string {
	return strings.Split(strings.TrimRight(billSample(t), "\n"), "\n")
}

// billSampleRecords are the sample's records, field by field.
func billSampleRecords() []*BillRecord {
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation(timeLayout, s, ChinaTimeZone())
		if err != nil {
			panic(err)
		}
		return tm
	}
	hkd := func(v string) Money { return Money{Value: v, Currency: HKD} }
	return []*BillRecord{{
		Type:              BillTypeCollection,
		Time:              at("2019-01-02 10:55:10"),
		OrderNo:           "2019010210551024660612990",
		ExternalOrderNo:   "13260056057_wechat_1546397710000",
		Credit:            hkd("0.99"),
		Balance:           hkd("1.06"),
		TransactionAmount: hkd("1.00"),
		SettlementRate:    "1",
		ServiceFee:        hkd("0.01"),
		PaymentChannel:    "WECHATPAYCN",
	}, {
		Type:              BillTypeCollection,
		Time:              at("2019-01-02 11:07:05"),
		OrderNo:           "2019010211070452703917004",
		ExternalOrderNo:   "13260056057_wechat_1546398424000",
		Credit:            hkd("0.99"),
		Balance:           hkd("2.05"),
		TransactionAmount: hkd("1.00"),
		SettlementRate:    "1",
		ServiceFee:        hkd("0.00"),
		PaymentChannel:    "WECHATPAYCN",
	}, {
		Type:                  BillTypeRefund,
		Time:                  at("2019-01-04 10:50:34"),
		OrderNo:               "2019010410503295208356067",
		ExternalOrderNo:       "",
		Debit:                 hkd("-0.99"),
		Balance:               hkd("1.06"),
		RefundAmount:          hkd("1.00"),
		RefundOrderNo:         "2019010211070452703917004",
		ExternalRefundOrderNo: "13260056057_wechat_1546398424000",
		PaymentChannel:        "WECHATPAYCN",
	}}
}

const billSampleTitle = "Test: company's reconciliation report of 20190101 to 20190120"

// readBill reads data to the end or to the first error.
func readBill(data string) (title string, recs []*BillRecord, err error) {
	r := NewBillReader(strings.NewReader(data))
	for rec, err := range r.All() {
		if err != nil {
			return r.Title(), recs, err
		}
		recs = append(recs, rec)
	}
	return r.Title(), recs, nil
}

// billParseError reads data and returns its first error, which must be a
// *BillParseError.
func billParseError(t *testing.T, data string) *BillParseError {
	t.Helper()
	_, _, err := readBill(data)
	require.Error(t, err)
	var pe *BillParseError
	require.ErrorAs(t, err, &pe)
	return pe
}

func TestBillReaderSample(t *testing.T) {
	r := NewBillReader(strings.NewReader(billSample(t)))
	want := billSampleRecords()
	for i, w := range want {
		got, err := r.Read()
		require.NoError(t, err, "record %d", i)
		assert.Equal(t, w, got, "record %d", i)
		assert.True(t, w.Time.Equal(got.Time))
		assert.Equal(t, ChinaTimeZone(), got.Time.Location())
	}
	assert.Equal(t, billSampleTitle, r.Title())
	for range 2 {
		rec, err := r.Read()
		assert.Nil(t, rec)
		assert.Equal(t, io.EOF, err)
	}
}

func TestBillReaderSampleFieldByField(t *testing.T) {
	_, recs, err := readBill(billSample(t))
	require.NoError(t, err)
	require.Len(t, recs, 3)

	c := recs[0]
	assert.Equal(t, "Collection via WeChat Pay", c.Type)
	assert.Equal(t, time.Date(2019, 1, 2, 10, 55, 10, 0, ChinaTimeZone()), c.Time)
	assert.Equal(t, time.Date(2019, 1, 2, 2, 55, 10, 0, time.UTC), c.Time.UTC())
	assert.Equal(t, "2019010210551024660612990", c.OrderNo)
	assert.Equal(t, "13260056057_wechat_1546397710000", c.ExternalOrderNo)
	assert.Equal(t, Money{"0.99", HKD}, c.Credit)
	assert.Equal(t, Money{}, c.Debit)
	assert.Equal(t, Money{"1.06", HKD}, c.Balance)
	assert.Equal(t, Money{"1.00", HKD}, c.TransactionAmount)
	assert.Equal(t, "1", c.SettlementRate)
	assert.Equal(t, Money{"0.01", HKD}, c.ServiceFee)
	assert.Equal(t, Money{}, c.RefundAmount)
	assert.Equal(t, "", c.RefundOrderNo)
	assert.Equal(t, "", c.ExternalRefundOrderNo)
	assert.Equal(t, Money{}, c.WithdrawalFee)
	assert.Equal(t, "", c.ConvertedCurrency)
	assert.Equal(t, "", c.ConversionRate)
	assert.Equal(t, Money{}, c.AmountAfterConversion)
	assert.Equal(t, "WECHATPAYCN", c.PaymentChannel)
	assert.Equal(t, BillEntryPayment, c.Kind())

	c = recs[1]
	assert.Equal(t, "Collection via WeChat Pay", c.Type)
	assert.Equal(t, time.Date(2019, 1, 2, 11, 7, 5, 0, ChinaTimeZone()), c.Time)
	assert.Equal(t, "2019010211070452703917004", c.OrderNo)
	assert.Equal(t, "13260056057_wechat_1546398424000", c.ExternalOrderNo)
	assert.Equal(t, Money{"0.99", HKD}, c.Credit)
	assert.Equal(t, Money{}, c.Debit)
	assert.Equal(t, Money{"2.05", HKD}, c.Balance)
	assert.Equal(t, Money{"1.00", HKD}, c.TransactionAmount)
	assert.Equal(t, "1", c.SettlementRate)
	assert.Equal(t, Money{"0.00", HKD}, c.ServiceFee)
	assert.True(t, c.ServiceFee.IsZero())
	assert.Equal(t, Money{}, c.RefundAmount)
	assert.Equal(t, "", c.RefundOrderNo)
	assert.Equal(t, "", c.ExternalRefundOrderNo)
	assert.Equal(t, Money{}, c.WithdrawalFee)
	assert.Equal(t, "", c.ConvertedCurrency)
	assert.Equal(t, "", c.ConversionRate)
	assert.Equal(t, Money{}, c.AmountAfterConversion)
	assert.Equal(t, "WECHATPAYCN", c.PaymentChannel)

	c = recs[2]
	assert.Equal(t, "Refund", c.Type)
	assert.Equal(t, time.Date(2019, 1, 4, 10, 50, 34, 0, ChinaTimeZone()), c.Time)
	assert.Equal(t, "2019010410503295208356067", c.OrderNo)
	assert.Equal(t, "", c.ExternalOrderNo, "a lone backtick is empty")
	assert.Equal(t, Money{}, c.Credit)
	assert.Equal(t, Money{"-0.99", HKD}, c.Debit)
	assert.Equal(t, Money{"1.06", HKD}, c.Balance)
	assert.Equal(t, Money{}, c.TransactionAmount)
	assert.Equal(t, "", c.SettlementRate)
	assert.Equal(t, Money{}, c.ServiceFee)
	assert.Equal(t, Money{"1.00", HKD}, c.RefundAmount)
	assert.Equal(t, "2019010211070452703917004", c.RefundOrderNo)
	assert.Equal(t, "13260056057_wechat_1546398424000", c.ExternalRefundOrderNo)
	assert.Equal(t, Money{}, c.WithdrawalFee)
	assert.Equal(t, "", c.ConvertedCurrency)
	assert.Equal(t, "", c.ConversionRate)
	assert.Equal(t, Money{}, c.AmountAfterConversion)
	assert.Equal(t, "WECHATPAYCN", c.PaymentChannel)
	assert.Equal(t, BillEntryRefund, c.Kind())
}

func TestBillReaderTitleReadsTheHead(t *testing.T) {
	r := NewBillReader(strings.NewReader(billSample(t)))
	assert.Equal(t, billSampleTitle, r.Title(), "Title before any Read")
	rec, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, "2019010210551024660612990", rec.OrderNo, "the first Read after Title is the first record")
	assert.Equal(t, billSampleTitle, r.Title())

	r = NewBillReader(strings.NewReader("<html>\n"))
	assert.Equal(t, "", r.Title())
	_, err = r.Read()
	var pe *BillParseError
	require.ErrorAs(t, err, &pe, "the head's error comes from Read")
	assert.Equal(t, 1, pe.Line)
}

func TestBillReaderToleratesBOMCRLFAndBlankLines(t *testing.T) {
	lines := billSampleLines(t)
	join := func(sep string, ls ...string) string { return strings.Join(ls, sep) }
	cases := map[string]string{
		"BOM":                       "\ufeff" + billSample(t),
		"CRLF":                      join("\r\n", lines...) + "\r\n",
		"BOM, CRLF, trailing blank": "\ufeff" + join("\r\n", lines...) + "\r\n\r\n",
		"trailing blank lines":      billSample(t) + "\n\n\n",
		"no final line end":         join("\n", lines...),
		"CR at the very end":        join("\n", lines...) + "\r",
		"blank lines everywhere": "\n\r\n" + lines[0] + "\n\n" + lines[1] + "\r\n \t\r\n" + lines[2] + "\n\n" +
			lines[3] + "\n   \n" + lines[4] + "\n\n",
		"Excel-padded title": lines[0] + strings.Repeat(",", 17) + "\r\n" + join("\r\n", lines[1:]...),
		"quoted title":       `"` + lines[0] + `",,,` + "\n" + join("\n", lines[1:]...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			title, recs, err := readBill(data)
			require.NoError(t, err)
			assert.Equal(t, billSampleTitle, title)
			assert.Equal(t, billSampleRecords(), recs)
		})
	}
}

func TestBillReaderWithoutTitleLine(t *testing.T) {
	lines := billSampleLines(t)
	title, recs, err := readBill(strings.Join(lines[1:], "\n"))
	require.NoError(t, err)
	assert.Equal(t, "", title)
	assert.Equal(t, billSampleRecords(), recs)
}

func TestBillReaderChineseAndQuotedCells(t *testing.T) {
	header := "交易类型,交易时间,订单号,外部订单号,收入,支出,余额,交易金额,结算汇率,手续费,退款金额,退款订单,外部退款订单号,提现手续费,兑换币种,兑换汇率,兑换后金额,支付渠道"
	data := "测试：某公司 20190101 至 20190120 对账单\n" +
		header + "\n" +
		"微信支付收款,2019-01-02 10:55:10,`2019010210551024660612990,`订单_一号,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,\"微信支付,跨境\"\n" +
		"\"Refund\",2019-01-04 10:50:34,\"`20190104\",`,-,-0.99 HKD,1.06 HKD,-,-,-,1.00 HKD,`2019010211070452703917004,\"`号码 \"\"引号\"\"\",-,-,-,-,\"第一行\n第二行\"\n" +
		"bad,line\n"
	r := NewBillReader(strings.NewReader(data))
	assert.Equal(t, "测试：某公司 20190101 至 20190120 对账单", r.Title())

	rec, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, "微信支付收款", rec.Type)
	assert.Equal(t, BillEntryOther, rec.Kind(), "an unknown (translated) type is other")
	assert.Equal(t, "订单_一号", rec.ExternalOrderNo)
	assert.Equal(t, "微信支付,跨境", rec.PaymentChannel, "a quoted cell keeps its comma")
	assert.Equal(t, Money{"0.99", HKD}, rec.Credit)

	rec, err = r.Read()
	require.NoError(t, err)
	assert.Equal(t, BillTypeRefund, rec.Type)
	assert.Equal(t, "20190104", rec.OrderNo, "a quoted cell with a backtick")
	assert.Equal(t, `号码 "引号"`, rec.ExternalRefundOrderNo, "doubled quotes are one quote")
	assert.Equal(t, "第一行\n第二行", rec.PaymentChannel, "a quoted cell may span lines")
	assert.Equal(t, Money{"-0.99", HKD}, rec.Debit)

	_, err = r.Read()
	var pe *BillParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 6, pe.Line, "lines are counted across a multi-line cell")
	assert.Equal(t, "", pe.Column)
	assert.Contains(t, pe.Error(), "has 2 cells, want 18")

	_, err = r.Read()
	assert.Equal(t, io.EOF, err)
}

func TestBillReaderRefusesFilesThatAreNotBills(t *testing.T) {
	lines := billSampleLines(t)
	cases := []struct {
		name string
		data string
		line int
		msg  string
	}{
		{"empty", "", 1, "empty"},
		{"BOM only", "\ufeff", 1, "empty"},
		{"blank lines only", "\n\r\n  \n", 4, "empty"},
		{"title only", lines[0] + "\n", 2, "no header"},
		{"title and blank lines", lines[0] + "\n\n\n", 4, "no header"},
		{"HTML", "<html><body><h1>502 Bad Gateway</h1></body></html>\n", 1, "HTML"},
		{"HTML with doctype", "\n  <!DOCTYPE html>\n<html lang=\"en\">\n<head><title>Error</title></head>\n", 2, "HTML"},
		{"JSON error", `{"is_success": false, "error": "PAYMENT_NOT_FOUND", "error_message": "Order not found"}`, 1, "JSON"},
		{"Python-flavoured JSON", "{\n\"is_success\": False,\n\"error\": \"REFUND_NOT_FOUND\",\n}\n", 1, "JSON"},
		{"JSON array", "[1, 2]\n", 1, "JSON"},
		{"CSV of 5 columns", "a,b,c,d,e\n1,2,3,4,5\n", 2, "header has 5 columns, want 18"},
		{"CSV of 5 columns after a title", lines[0] + "\nname,amount,currency,date,id\nx,1,HKD,2019-01-01,1\n", 2, "header has 5 columns"},
		{"header of 19 columns", lines[0] + "\n" + lines[1] + ",Extra\n" + lines[2] + "\n", 2, "header has 19 columns"},
		{"UTF-16", "\xff\xfeT\x00e\x00s\x00t\x00\n\x00", 1, "UTF-16"},
		{"a record where the header should be", lines[0] + "\n" + lines[2] + "\n" + lines[3] + "\n", 2, "record where the header"},
		{"a record first", lines[2] + "\n" + lines[3] + "\n", 1, "record where the header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pe := billParseError(t, c.data)
			assert.Equal(t, c.line, pe.Line)
			assert.Equal(t, "", pe.Column)
			assert.Contains(t, pe.Error(), c.msg)
			assert.Contains(t, pe.Error(), fmt.Sprintf("line %d", c.line))

			r := NewBillReader(strings.NewReader(c.data))
			_, err := r.Read()
			_, again := r.Read()
			assert.Same(t, err, again, "an error of the head is returned again")
		})
	}
}

func TestBillReaderBadCells(t *testing.T) {
	lines := billSampleLines(t)
	withCell := func(col int, value string) string {
		cells := strings.Split(lines[2], ",")
		cells[col] = value
		return strings.Join(append(lines[:2:2], strings.Join(cells, ","), lines[3], lines[4]), "\n") + "\n"
	}
	cases := []struct {
		col   int
		value string
	}{
		{4, "0.9x HKD"}, {4, "0.99HKD"}, {4, "0.99 hkd"}, {4, "0.99 HKDX"}, {4, "0.99 HK"},
		{4, "1e3 HKD"}, {4, ".5 HKD"}, {4, "5. HKD"}, {4, "--1 HKD"}, {4, "+1 HKD"}, {4, " HKD"},
		{4, "0.99"}, {4, "HKD 0.99"}, {4, "1 000 HKD"}, {4, "0.99  HKD"}, {4, `"0,99 HKD"`}, {4, "``"}, {4, "`--"},
		{5, "-0.99 HK$"}, {6, "1.06 ¥¥¥"}, {7, "one HKD"}, {9, "0.01 HKD "}, {10, "1.0.0 HKD"},
		{13, "NaN HKD"}, {16, "∞ USD"},
		{1, "2019-13-02 10:55:10"}, {1, "2019/01/02 10:55:10"}, {1, "2019-02-29 10:00:00"},
		{1, "2019-01-02T10:55:10"}, {1, "2019-01-02 24:00:00"}, {1, "2019-01-02 10:60:00"},
		{1, "2019-01-02 10:55"}, {1, "20190102105510"}, {1, "2019-01-32 10:55:10"}, {1, "２019-01-02 10:55:10"},
	}
	for _, c := range cases {
		t.Run(billColumnNames[c.col]+" "+c.value, func(t *testing.T) {
			r := NewBillReader(strings.NewReader(withCell(c.col, c.value)))
			rec, err := r.Read()
			assert.Nil(t, rec)
			var pe *BillParseError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, 3, pe.Line)
			assert.Equal(t, billColumnNames[c.col], pe.Column)
			assert.Contains(t, err.Error(), fmt.Sprintf("line 3, column %q", billColumnNames[c.col]))

			rec, err = r.Read()
			require.NoError(t, err, "a bad record does not stop the reader")
			assert.Equal(t, billSampleRecords()[1], rec)
		})
	}
}

func TestBillReaderGoodOddCells(t *testing.T) {
	lines := billSampleLines(t)
	cells := strings.Split(lines[2], ",")
	cells[0] = "-"                         // no type
	cells[1] = "`"                         // no time, written as a lone backtick
	cells[4] = "`12345678901234567.89 CNY" // a backtick before an amount
	cells[5] = "-0 JPY"
	cells[8] = "`6.8312"
	cells[9] = "`"   // a lone backtick is empty, in an amount too
	cells[14] = "`-" // a dash kept as text is empty too
	cells[6] = "`-"  // in an amount as well
	cells[11] = "`-"
	data := lines[0] + "\n" + lines[1] + "\n" + strings.Join(cells, ",") + "\n"
	_, recs, err := readBill(data)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	rec := recs[0]
	assert.Equal(t, "", rec.Type)
	assert.True(t, rec.Time.IsZero())
	assert.Equal(t, Money{"12345678901234567.89", CNY}, rec.Credit)
	assert.Equal(t, Money{"-0", JPY}, rec.Debit)
	assert.True(t, rec.Debit.IsZero())
	assert.Equal(t, "6.8312", rec.SettlementRate)
	assert.Equal(t, Money{}, rec.ServiceFee)
	assert.Equal(t, "", rec.ConvertedCurrency, "`- is empty")
	assert.Equal(t, "", rec.RefundOrderNo, "`- is empty")
	assert.Equal(t, Money{}, rec.Balance, "`- is an empty amount")

	// A dash kept as text in the time column is no time.
	cells = strings.Split(lines[2], ",")
	cells[1] = "`-"
	_, recs, err = readBill(lines[0] + "\n" + lines[1] + "\n" + strings.Join(cells, ",") + "\n")
	require.NoError(t, err)
	assert.True(t, recs[0].Time.IsZero())
}

func TestBillReaderWrongCellCount(t *testing.T) {
	lines := billSampleLines(t)
	data := strings.Join([]string{lines[0], lines[1], lines[2], "a,b,c,d,e", lines[3] + ",extra", "", lines[4]}, "\n")
	r := NewBillReader(strings.NewReader(data))
	_, err := r.Read()
	require.NoError(t, err)
	for _, want := range []struct{ line, cells int }{{4, 5}, {5, 19}} {
		_, err = r.Read()
		var pe *BillParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, want.line, pe.Line)
		assert.Equal(t, "", pe.Column)
		assert.Contains(t, err.Error(), fmt.Sprintf("has %d cells, want 18", want.cells))
	}
	rec, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, billSampleRecords()[2], rec)
}

func TestBillReaderAllStopsAtTheFirstError(t *testing.T) {
	lines := billSampleLines(t)
	data := strings.Join([]string{lines[0], lines[1], lines[2], "broken", lines[3]}, "\n")
	var got []string
	var errs []error
	for rec, err := range NewBillReader(strings.NewReader(data)).All() {
		if err != nil {
			assert.Nil(t, rec)
			errs = append(errs, err)
			continue
		}
		got = append(got, rec.OrderNo)
	}
	assert.Equal(t, []string{"2019010210551024660612990"}, got)
	require.Len(t, errs, 1)
	var pe *BillParseError
	require.ErrorAs(t, errs[0], &pe)
	assert.Equal(t, 4, pe.Line)

	n := 0
	for range NewBillReader(strings.NewReader(billSample(t))).All() {
		n++
		break
	}
	assert.Equal(t, 1, n, "break ends the loop")
}

func TestBillReaderOverlongInput(t *testing.T) {
	lines := billSampleLines(t)
	cases := map[string]string{
		"a long line":          lines[0] + "\n" + lines[1] + "\n" + strings.Repeat("x", 2<<20) + "\n" + lines[2] + "\n",
		"a quote never closed": lines[0] + "\n" + lines[1] + "\n\"" + strings.Repeat(lines[2]+"\n", (2<<20)/len(lines[2])),
		"a long title":         strings.Repeat("x", 3<<20),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			r := NewBillReader(strings.NewReader(data))
			_, err := r.Read()
			var pe *BillParseError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, err.Error(), "longer than")
			_, again := r.Read()
			assert.Same(t, err, again, "an over-long record stops the reader")
		})
	}
}

func TestBillReaderReadError(t *testing.T) {
	lines := billSampleLines(t)
	boom := errors.New("connection reset")
	head := strings.Join(lines[:3], "\n") + "\n" + lines[3][:40]
	r := NewBillReader(io.MultiReader(strings.NewReader(head), iotest.ErrReader(boom)))
	rec, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, billSampleRecords()[0], rec)
	_, err = r.Read()
	require.ErrorIs(t, err, boom)
	var pe *BillParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, pe.Line)
	_, again := r.Read()
	assert.Same(t, err, again, "a read error stops the reader")

	r = NewBillReader(iotest.ErrReader(boom))
	assert.Equal(t, "", r.Title())
	_, err = r.Read()
	require.ErrorIs(t, err, boom)
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 1, pe.Line)

	// Short reads change nothing.
	_, recs, err := readBillFrom(iotest.OneByteReader(strings.NewReader("\ufeff" + billSample(t))))
	require.NoError(t, err)
	assert.Equal(t, billSampleRecords(), recs)
}

func readBillFrom(src io.Reader) (string, []*BillRecord, error) {
	r := NewBillReader(src)
	var recs []*BillRecord
	for rec, err := range r.All() {
		if err != nil {
			return r.Title(), recs, err
		}
		recs = append(recs, rec)
	}
	return r.Title(), recs, nil
}

func TestParseBillTime(t *testing.T) {
	// Every hour of four years around a leap day, and the edges of year 0.
	from := time.Date(2015, 12, 31, 0, 0, 0, 0, ChinaTimeZone())
	for tm := from; tm.Before(from.AddDate(5, 0, 0)); tm = tm.Add(time.Hour + time.Second) {
		s := tm.Format(timeLayout)
		got, ok := parseBillTime(s)
		require.True(t, ok, s)
		require.Equal(t, tm, got, s)
	}
	for _, s := range []string{"0000-01-01 00:00:00", "0000-02-29 23:59:59", "0000-03-01 00:00:00", "9999-12-31 23:59:59", "2000-02-29 12:00:00"} {
		want, err := time.ParseInLocation(timeLayout, s, ChinaTimeZone())
		require.NoError(t, err)
		got, ok := parseBillTime(s)
		require.True(t, ok, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "2019-01-02", "2019-01-02 10:55:1x", "1900-02-29 00:00:00", "2019-00-10 00:00:00",
		"2019-04-31 00:00:00", "2019-01-00 00:00:00", "2019-01-02 23:59:60", "-019-01-02 10:55:10"} {
		_, ok := parseBillTime(s)
		assert.False(t, ok, s)
		_, err := time.ParseInLocation(timeLayout, s, ChinaTimeZone())
		assert.Error(t, err, "time.Parse refuses %q too", s)
	}
	_, ok := parseBillTime("2019-01-02  0:55:10")
	assert.False(t, ok, "stricter than time.Parse: two digits each")
}

func TestBillParseErrorMessage(t *testing.T) {
	err := &BillParseError{Line: 7, Column: "Credit", Err: errors.New(`"x" is not an amount`)}
	assert.Equal(t, `hipopay: reconciliation file line 7, column "Credit": "x" is not an amount`, err.Error())
	assert.Equal(t, "hipopay: reconciliation file line 2: unreadable", (&BillParseError{Line: 2}).Error())
}

func TestBillRecordKind(t *testing.T) {
	for typ, want := range map[string]BillEntryKind{
		BillTypeCollection:      BillEntryPayment,
		"Collection via Alipay": BillEntryPayment,
		BillTypeRefund:          BillEntryRefund,
		"Refund via Alipay":     BillEntryRefund,
		"Refunds adjustment":    BillEntryOther,
		"Collection fee":        BillEntryOther,
		"Withdrawal":            BillEntryOther,
		"Service fee":           BillEntryOther,
		"":                      BillEntryOther,
	} {
		assert.Equal(t, want, (&BillRecord{Type: typ}).Kind(), typ)
	}
	assert.Equal(t, "payment", BillEntryPayment.String())
	assert.Equal(t, "refund", BillEntryRefund.String())
	assert.Equal(t, "other", BillEntryOther.String())
	assert.Equal(t, "BillEntryKind(7)", BillEntryKind(7).String())
}

func TestBillReaderTitleWithSeventeenCommas(t *testing.T) {
	// A title that happens to split into 18 filled cells is still the
	// title when a header follows it.
	lines := billSampleLines(t)
	title := "Report,of,company,A,from,20190101,to,20190120,part,1,of,1,generated,by,HipoPay,for,merchant,1000001"
	require.Len(t, strings.Split(title, ","), 18)
	for name, data := range map[string]string{
		"LF":           title + "\n" + strings.Join(lines[1:], "\n") + "\n",
		"CRLF, blanks": title + "\r\n\r\n" + strings.Join(lines[1:], "\r\n") + "\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, recs, err := readBill(data)
			require.NoError(t, err)
			assert.Equal(t, title, got)
			assert.Equal(t, billSampleRecords(), recs)
		})
	}

	// Without a title, the header comes first and a record follows: the
	// first record is not lost.
	r := NewBillReader(strings.NewReader(strings.Join(lines[1:], "\n")))
	assert.Equal(t, "", r.Title())
	rec, err := r.Read()
	require.NoError(t, err)
	assert.Equal(t, billSampleRecords()[0], rec)

	// A header alone.
	got, recs, err := readBill(lines[1] + "\n")
	require.NoError(t, err)
	assert.Equal(t, "", got)
	assert.Empty(t, recs)

	// Without a title, a first record with a bad cell count or a bad cell
	// is reported on its own line.
	pe := billParseError(t, lines[1]+"\na,b\n"+lines[2]+"\n")
	assert.Equal(t, 2, pe.Line)
	assert.Contains(t, pe.Error(), "has 2 cells")
}
