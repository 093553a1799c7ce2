package hipopay

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
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

func TestMoney(t *testing.T) {
	minor := []struct {
		m    Money
		want int64
		err  string
	}{
		{Money{}, 0, ""},
		{Money{"-0.99", HKD}, -99, ""},
		{Money{"0.99", HKD}, 99, ""},
		{Money{"1.00", HKD}, 100, ""},
		{Money{"1.5", HKD}, 150, ""},
		{Money{"12", USD}, 1200, ""},
		{Money{"1500", JPY}, 1500, ""},
		{Money{"-3", KRW}, -3, ""},
		{Money{"0.00", HKD}, 0, ""},
		{Money{"92233720368547758.07", HKD}, 1<<63 - 1, ""},
		{Money{"1.5", JPY}, 0, "has decimals"},
		{Money{"100.5", KRW}, 0, "has decimals"},
		{Money{"100.50", KRW}, 0, "has decimals"},
		{Money{"100.01", JPY}, 0, "has decimals"},
		{Money{"0.999", HKD}, 0, "more than 2 decimals"},
		{Money{"0.9901", HKD}, 0, "more than 2 decimals"},
		{Money{"1.", JPY}, 0, "not a plain decimal"},
		{Money{"1.0x", HKD}, 0, "not a plain decimal"},
		// Decimals beyond the currency's that are all zeros are exact.
		{Money{"1.0", JPY}, 1, ""},
		{Money{"100.00", JPY}, 100, ""},
		{Money{"-100.000", KRW}, -100, ""},
		{Money{"0.990", HKD}, 99, ""},
		{Money{"-0.99000", HKD}, -99, ""},
		{Money{"12.3400", USD}, 1234, ""},
		{Money{"92233720368547758.08", HKD}, 0, "too large"},
		{Money{"1e3", HKD}, 0, "not a plain decimal"},
		{Money{"1.00", ""}, 0, "currency code"},
		{Money{"1.00", "hkd"}, 0, "currency code"},
	}
	for _, c := range minor {
		got, err := c.m.Minor()
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, "%#v", c.m)
			continue
		}
		require.NoError(t, err, "%#v", c.m)
		assert.Equal(t, c.want, got, "%#v", c.m)
	}

	assert.Equal(t, "-0.99 HKD", Money{"-0.99", HKD}.String())
	assert.Equal(t, "1500 JPY", Money{"1500", JPY}.String())
	assert.Equal(t, "", Money{}.String())

	for m, zero := range map[Money]bool{
		{}: true, {"0", JPY}: true, {"0.00", HKD}: true, {"-0.00", HKD}: true,
		{"0.01", HKD}: false, {"-0.99", HKD}: false, {"10", JPY}: false,
	} {
		assert.Equal(t, zero, m.IsZero(), "%#v", m)
	}
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

func TestSummarizeBill(t *testing.T) {
	lines := billSampleLines(t)
	extra := []string{
		"Withdrawal,2019-01-05 09:00:00,`W1,`,-,-1.00 HKD,0.06 HKD,-,-,-,-,-,-,0.05 HKD,-,-,-,-",
		"Collection via WeChat Pay,2019-01-06 10:00:00,`P3,`O3,990 JPY,-,-,1000 JPY,1,10 JPY,-,-,-,-,-,-,-,WECHATPAYCN",
		"Currency conversion,2019-01-07 10:00:00,`C1,`,-,-,-,-,-,-,-,-,-,-,USD,0.1275,0.13 USD,-",
		"Note,2019-01-08 10:00:00,`N1,`,-,-,-,-,-,-,-,-,-,-,-,-,-,-",
	}
	data := strings.Join(append(lines, extra...), "\n")
	sum, err := SummarizeBill(NewBillReader(strings.NewReader(data)).All())
	require.NoError(t, err)
	assert.Equal(t, 7, sum.Records)
	hkd := func(v string) Money { return Money{v, HKD} }
	jpy := func(v string) Money { return Money{v, JPY} }
	usd := func(v string) Money { return Money{v, USD} }
	assert.Equal(t, []BillTotal{
		{Type: BillTypeCollection, Currency: HKD, Count: 2, Credit: hkd("1.98"), Debit: hkd("0.00"),
			TransactionAmount: hkd("2.00"), ServiceFee: hkd("0.01"), RefundAmount: hkd("0.00"),
			WithdrawalFee: hkd("0.00"), AmountAfterConversion: hkd("0.00")},
		{Type: BillTypeCollection, Currency: JPY, Count: 1, Credit: jpy("990"), Debit: jpy("0"),
			TransactionAmount: jpy("1000"), ServiceFee: jpy("10"), RefundAmount: jpy("0"),
			WithdrawalFee: jpy("0"), AmountAfterConversion: jpy("0")},
		{Type: "Currency conversion", Currency: USD, Count: 1, Credit: usd("0.00"), Debit: usd("0.00"),
			TransactionAmount: usd("0.00"), ServiceFee: usd("0.00"), RefundAmount: usd("0.00"),
			WithdrawalFee: usd("0.00"), AmountAfterConversion: usd("0.13")},
		{Type: "Note", Currency: "", Count: 1},
		{Type: BillTypeRefund, Currency: HKD, Count: 1, Credit: hkd("0.00"), Debit: hkd("-0.99"),
			TransactionAmount: hkd("0.00"), ServiceFee: hkd("0.00"), RefundAmount: hkd("1.00"),
			WithdrawalFee: hkd("0.00"), AmountAfterConversion: hkd("0.00")},
		{Type: "Withdrawal", Currency: HKD, Count: 1, Credit: hkd("0.00"), Debit: hkd("-1.00"),
			TransactionAmount: hkd("0.00"), ServiceFee: hkd("0.00"), RefundAmount: hkd("0.00"),
			WithdrawalFee: hkd("0.05"), AmountAfterConversion: hkd("0.00")},
	}, sum.Totals)

	empty, err := SummarizeBill(NewBillReader(strings.NewReader(lines[0] + "\n" + lines[1] + "\n")).All())
	require.NoError(t, err)
	assert.Equal(t, &BillSummary{Totals: []BillTotal{}}, empty)
}

func TestBillTotalsRefuses(t *testing.T) {
	var totals BillTotals
	require.NoError(t, totals.Add(&BillRecord{Type: "X", OrderNo: "A", Credit: Money{"92233720368547758.07", HKD}}))
	before := totals.Summary()
	err := totals.Add(&BillRecord{Type: "X", OrderNo: "B", Credit: Money{"0.01", HKD}, ServiceFee: Money{"0.01", HKD}})
	assert.ErrorContains(t, err, "overflows")
	assert.Equal(t, before, totals.Summary(), "a refused record changes nothing")

	err = totals.Add(&BillRecord{Type: "X", OrderNo: "C", Credit: Money{"1.5", JPY}})
	assert.ErrorContains(t, err, `hipopay: X C, column "Credit": amount 1.5 JPY: "1.5" has decimals`)
	assert.Equal(t, before, totals.Summary())

	// Zeros beyond the currency's decimals are exact: added.
	require.NoError(t, totals.Add(&BillRecord{Type: "Y", Credit: Money{"100.00", JPY}, ServiceFee: Money{"0.010", HKD}}))

	// A nil record is an error, not a panic, and changes nothing.
	before = totals.Summary()
	assert.NotPanics(t, func() { err = totals.Add(nil) })
	assert.ErrorContains(t, err, "nil record")
	assert.Equal(t, before, totals.Summary())
	var fresh BillTotals
	assert.Error(t, fresh.Add(nil))
	assert.Equal(t, &BillSummary{Totals: []BillTotal{}}, fresh.Summary())

	lines := billSampleLines(t)
	_, err = SummarizeBill(NewBillReader(strings.NewReader(strings.Join(append(lines, "bad"), "\n"))).All())
	var pe *BillParseError
	assert.ErrorAs(t, err, &pe, "the reader's error is returned")
}

func TestReconcilerIgnoresNil(t *testing.T) {
	r, err := NewReconciler(sampleExpected())
	require.NoError(t, err)
	assert.NotPanics(t, func() { r.Add(nil) })
	for _, rec := range billSampleRecords() {
		r.Add(rec)
		r.Add(nil)
	}
	res := r.Result()
	assert.True(t, res.OK(), "%+v", res)
	assert.Len(t, res.Matched, 3)
	assert.Zero(t, res.Ignored)
}

func TestReconcileZerosBeyondTheCurrencysDecimals(t *testing.T) {
	// "1.000 HKD" is exactly 1.00 HKD: a match, not an amount mismatch.
	lines := billSampleLines(t)
	data := strings.Join(lines, "\n")
	data = strings.Replace(data, ",0.99 HKD,-,1.06 HKD,1.00 HKD,", ",0.99 HKD,-,1.06 HKD,1.000 HKD,", 1)
	require.Contains(t, data, "1.000 HKD")
	res, err := Reconcile(sampleExpected(), NewBillReader(strings.NewReader(data)).All())
	require.NoError(t, err)
	assert.True(t, res.OK(), "%+v", res)
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

// sampleExpected are the merchant's own records of the sample's entries.
func sampleExpected() []ExpectedEntry {
	return []ExpectedEntry{
		{Kind: BillEntryPayment, HipoPayNo: "2019010210551024660612990", OutID: "13260056057_wechat_1546397710000", Amount: "1.00", Currency: HKD},
		{Kind: BillEntryPayment, HipoPayNo: "2019010211070452703917004", OutID: "13260056057_wechat_1546398424000", Amount: "1.00", Currency: HKD},
		{Kind: BillEntryRefund, HipoPayNo: "2019010410503295208356067", OutID: "R-1", Amount: "1.00", Currency: HKD},
	}
}

func TestReconcile(t *testing.T) {
	sample := billSample(t)
	recs := billSampleRecords()
	lines := billSampleLines(t)
	type want struct {
		matched    []int // indexes into the expected entries
		missing    []int
		mismatched map[int]MismatchReason
		unexpected []int // indexes into the bill's records
		ignored    int
	}
	cases := []struct {
		name   string
		bill   string
		change func([]ExpectedEntry) []ExpectedEntry
		want   want
	}{
		{"all match", sample, nil, want{matched: []int{0, 1, 2}}},
		{"all match by the merchant's payment numbers", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].HipoPayNo, e[1].HipoPayNo = "", ""
			return e
		}, want{matched: []int{0, 1, 2}}},
		{"amounts compare by value", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].Amount, e[2].Amount = "1", "1.0"
			return e
		}, want{matched: []int{0, 1, 2}}},
		{"missing payment", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return append(e, ExpectedEntry{Kind: BillEntryPayment, OutID: "13260056057_wechat_1546399999999", Amount: "5.00", Currency: HKD})
		}, want{matched: []int{0, 1, 2}, missing: []int{3}}},
		{"missing refund", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return append(e, ExpectedEntry{Kind: BillEntryRefund, HipoPayNo: "2019010510000000000000000", Amount: "0.50", Currency: HKD})
		}, want{matched: []int{0, 1, 2}, missing: []int{3}}},
		{"a payment number expected as a refund is missing", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return append(e[:2], ExpectedEntry{Kind: BillEntryRefund, HipoPayNo: "2019010210551024660612990", Amount: "1.00", Currency: HKD})
		}, want{matched: []int{0, 1}, missing: []int{2}, unexpected: []int{2}}},
		{"amount off by 0.01", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[1].Amount = "1.01"
			return e
		}, want{matched: []int{0, 2}, mismatched: map[int]MismatchReason{1: MismatchAmount}}},
		{"refund amount off by 0.01", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[2].Amount = "0.99"
			return e
		}, want{matched: []int{0, 1}, mismatched: map[int]MismatchReason{2: MismatchAmount}}},
		{"currency differs", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].Currency = CNY
			return e
		}, want{matched: []int{1, 2}, mismatched: map[int]MismatchReason{0: MismatchCurrency}}},
		{"the other number differs", sample, func(e []ExpectedEntry) []ExpectedEntry {
			e[0].OutID = "13260056057_wechat_0"
			return e
		}, want{matched: []int{1, 2}, mismatched: map[int]MismatchReason{0: MismatchReference}}},
		{"unexpected payment in the bill", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return []ExpectedEntry{e[0], e[2]}
		}, want{matched: []int{0, 1}, unexpected: []int{1}}},
		{"unexpected refund in the bill", sample, func(e []ExpectedEntry) []ExpectedEntry {
			return e[:2]
		}, want{matched: []int{0, 1}, unexpected: []int{2}}},
		{"nothing expected", sample, func([]ExpectedEntry) []ExpectedEntry { return nil }, want{unexpected: []int{0, 1, 2}}},
		{"a line twice in the bill", sample + lines[2] + "\n", nil, want{matched: []int{0, 1, 2}, unexpected: []int{0}}},
		{"other entry types are not reconciled", sample + "Withdrawal,2019-01-05 09:00:00,`W1,`,-,-1.00 HKD,0.06 HKD,-,-,-,-,-,-,-,-,-,-,-\n",
			nil, want{matched: []int{0, 1, 2}, ignored: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			expected := sampleExpected()
			if c.change != nil {
				expected = c.change(expected)
			}
			res, err := Reconcile(expected, NewBillReader(strings.NewReader(c.bill)).All())
			require.NoError(t, err)

			var matched, missing []ExpectedEntry
			for _, i := range c.want.matched {
				matched = append(matched, expected[i])
			}
			for _, i := range c.want.missing {
				missing = append(missing, expected[i])
			}
			var unexpected []*BillRecord
			for _, i := range c.want.unexpected {
				unexpected = append(unexpected, recs[i])
			}
			assert.Equal(t, matched, res.Matched, "matched")
			assert.Equal(t, missing, res.MissingInBill, "missing")
			assert.Equal(t, unexpected, res.UnexpectedInBill, "unexpected")
			assert.Equal(t, c.want.ignored, res.Ignored, "ignored")
			require.Len(t, res.Mismatched, len(c.want.mismatched), "mismatched")
			for _, m := range res.Mismatched {
				i := -1
				for j, e := range expected {
					if e == m.Expected {
						i = j
					}
				}
				require.Contains(t, c.want.mismatched, i, "mismatch %+v", m)
				assert.Equal(t, c.want.mismatched[i], m.Reason)
				assert.Equal(t, Money{"1.00", HKD}, m.Bill)
				assert.NotNil(t, m.Record)
			}
			assert.Equal(t, len(missing)+len(unexpected)+len(c.want.mismatched) == 0, res.OK())
		})
	}
}

func TestReconcilerStreams(t *testing.T) {
	rec, err := NewReconciler(sampleExpected())
	require.NoError(t, err)
	res := rec.Result()
	assert.Len(t, res.MissingInBill, 3, "nothing added yet: everything is missing")
	assert.False(t, res.OK())
	for r, err := range NewBillReader(strings.NewReader(billSample(t))).All() {
		require.NoError(t, err)
		rec.Add(r)
	}
	res = rec.Result()
	assert.True(t, res.OK())
	assert.Len(t, res.Matched, 3)
	assert.Empty(t, res.MissingInBill)
}

func TestReconcileReturnsTheReadersError(t *testing.T) {
	lines := billSampleLines(t)
	res, err := Reconcile(sampleExpected(), NewBillReader(strings.NewReader(strings.Join(append(lines[:3], "x"), "\n"))).All())
	assert.Nil(t, res)
	var pe *BillParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 4, pe.Line)
}

func TestNewReconcilerRefuses(t *testing.T) {
	ok := ExpectedEntry{Kind: BillEntryPayment, HipoPayNo: "P1", Amount: "1.00", Currency: HKD}
	cases := []struct {
		name  string
		entry func(e *ExpectedEntry)
		field string
	}{
		{"no kind", func(e *ExpectedEntry) { e.Kind = BillEntryOther }, "expected[1].kind"},
		{"no number", func(e *ExpectedEntry) { e.HipoPayNo = "" }, "expected[1].hipopay_no"},
		{"no currency", func(e *ExpectedEntry) { e.Currency = "" }, "expected[1].currency"},
		{"bad currency", func(e *ExpectedEntry) { e.Currency = "hk" }, "expected[1].currency"},
		{"no amount", func(e *ExpectedEntry) { e.Amount = "" }, "expected[1].amount"},
		{"zero amount", func(e *ExpectedEntry) { e.Amount = "0.00" }, "expected[1].amount"},
		{"negative amount", func(e *ExpectedEntry) { e.Amount = "-1.00" }, "expected[1].amount"},
		{"over-precise amount", func(e *ExpectedEntry) { e.Amount = "1.001" }, "expected[1].amount"},
		{"decimals in JPY", func(e *ExpectedEntry) { e.Amount, e.Currency = "1.5", JPY }, "expected[1].amount"},
		{"same HipoPay number twice", func(e *ExpectedEntry) { e.HipoPayNo = "P0" }, "expected[1].hipopay_no"},
		{"same merchant number twice", func(e *ExpectedEntry) { e.HipoPayNo, e.OutID = "P1", "O0" }, "expected[1].out_id"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			first := ExpectedEntry{Kind: BillEntryPayment, HipoPayNo: "P0", OutID: "O0", Amount: "1.00", Currency: HKD}
			e := ok
			c.entry(&e)
			_, err := NewReconciler([]ExpectedEntry{first, e})
			require.ErrorIs(t, err, ErrInvalidRequest)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, c.field, ve.Field)

			_, err = Reconcile([]ExpectedEntry{first, e}, NewBillReader(strings.NewReader(billSample(t))).All())
			assert.ErrorIs(t, err, ErrInvalidRequest)
		})
	}
	// The same number may be a payment's and a refund's.
	_, err := NewReconciler([]ExpectedEntry{ok, {Kind: BillEntryRefund, HipoPayNo: "P1", Amount: "1.00", Currency: HKD}})
	assert.NoError(t, err)
}

// closeRecordingTransport records whether the bodies it returned were
// closed.
type closeRecordingTransport struct {
	base   http.RoundTripper
	closed atomic.Int32
}

func (rt *closeRecordingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := rt.base.RoundTrip(r)
	if resp != nil {
		resp.Body = &closeRecordingBody{ReadCloser: resp.Body, closed: &rt.closed}
	}
	return resp, err
}

type closeRecordingBody struct {
	io.ReadCloser
	closed *atomic.Int32
}

func (b *closeRecordingBody) Close() error {
	b.closed.Add(1)
	return b.ReadCloser.Close()
}

func TestClientBillRecords(t *testing.T) {
	sample := billSample(t)
	lines := billSampleLines(t)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		assert.Equal(t, http.MethodGet, r.Method)
		assert.Equal(t, "/download_bill", r.URL.Path)
		assert.Equal(t, "3.0", r.Header.Get("Version"))
		assert.NotEmpty(t, r.Header.Get("Signature"))
		q := r.URL.Query()
		assert.Equal(t, "WC888", q.Get("merchant_no"))
		assert.Equal(t, "20190101", q.Get("start_date"))
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		switch q.Get("end_date") {
		case "20190120":
			_, _ = io.WriteString(w, "\ufeff"+strings.ReplaceAll(sample, "\n", "\r\n"))
		case "20190121": // a large file, written until the client goes away
			_, _ = io.WriteString(w, lines[0]+"\n"+lines[1]+"\n")
			for i := 0; i < 1_000_000; i++ {
				if _, err := io.WriteString(w, lines[2]+"\n"); err != nil {
					return
				}
			}
		case "20190122":
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"is_success": false, "error": "PAYMENT_NOT_FOUND", "error_message": "Order not found"}`)
		case "20190123":
			_, _ = io.WriteString(w, sample+"broken line\n"+lines[2]+"\n")
		}
	}))
	t.Cleanup(srv.Close)
	rt := &closeRecordingTransport{base: http.DefaultTransport}
	c, err := NewClient("WC888", mustPrivateKey(t, "merchant_private_pkcs8.pem"), WithBaseURL(srv.URL+"/"), WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2019, 1, d, 0, 0, 0, 0, ChinaTimeZone()) }

	t.Run("the whole file", func(t *testing.T) {
		rt.closed.Store(0)
		var got []*BillRecord
		for rec, err := range c.BillRecords(ctx, &BillRequest{StartDate: day(1), EndDate: day(20)}) {
			require.NoError(t, err)
			got = append(got, rec)
		}
		assert.Equal(t, billSampleRecords(), got)
		assert.Equal(t, int32(1), rt.closed.Load(), "the body is closed")
	})

	t.Run("early break closes the body", func(t *testing.T) {
		rt.closed.Store(0)
		n := 0
		for rec, err := range c.BillRecords(ctx, &BillRequest{StartDate: day(1), EndDate: day(21)}) {
			require.NoError(t, err)
			assert.Equal(t, "2019010210551024660612990", rec.OrderNo)
			if n++; n == 2 {
				break
			}
		}
		assert.Equal(t, 2, n)
		assert.Equal(t, int32(1), rt.closed.Load(), "the body is closed when the loop breaks")
	})

	t.Run("canceling the context ends the download", func(t *testing.T) {
		rt.closed.Store(0)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		var last error
		for rec, err := range c.BillRecords(ctx, &BillRequest{StartDate: day(1), EndDate: day(21)}) {
			if err != nil {
				last = err
				continue
			}
			require.NotNil(t, rec)
			if n++; n == 1 {
				cancel()
			}
		}
		require.ErrorIs(t, last, context.Canceled)
		var pe *BillParseError
		assert.ErrorAs(t, last, &pe, "a read error names the line it stopped at")
		assert.Equal(t, int32(1), rt.closed.Load())
	})

	t.Run("a parse error ends the loop and closes the body", func(t *testing.T) {
		rt.closed.Store(0)
		var got []string
		var errs []error
		for rec, err := range c.BillRecords(ctx, &BillRequest{StartDate: day(1), EndDate: day(23)}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, rec.OrderNo)
		}
		assert.Len(t, got, 3)
		require.Len(t, errs, 1)
		var pe *BillParseError
		require.ErrorAs(t, errs[0], &pe)
		assert.Equal(t, 6, pe.Line)
		assert.Equal(t, int32(1), rt.closed.Load())
	})

	t.Run("a JSON error answer", func(t *testing.T) {
		var errs []error
		for rec, err := range c.BillRecords(ctx, &BillRequest{StartDate: day(1), EndDate: day(22)}) {
			assert.Nil(t, rec)
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrPaymentNotFound)
	})

	t.Run("an invalid request makes no call", func(t *testing.T) {
		before := requests.Load()
		var errs []error
		for _, err := range c.BillRecords(ctx, &BillRequest{StartDate: day(2), EndDate: day(1)}) {
			errs = append(errs, err)
		}
		require.Len(t, errs, 1)
		assert.ErrorIs(t, errs[0], ErrInvalidRequest)
		for _, err := range c.BillRecords(ctx, nil) {
			assert.ErrorIs(t, err, ErrInvalidRequest)
		}
		assert.Equal(t, before, requests.Load())
	})
}

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
