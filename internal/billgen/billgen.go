// Package billgen generates large, realistic HipoPay reconciliation files
// for the bill reader's benchmarks and its memory check (internal/billrss).
package billgen

import (
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Write writes a reconciliation file of at least size bytes to w: the
// reference's title and header, then collections and (about one in seven)
// refunds of recent collections, as the reference's example has them. It
// returns the number of records written; it stops early, with the error,
// when w fails. The same size always gives the same bytes.
func Write(w io.Writer, size int64) (records int, err error) {
	rng := rand.New(rand.NewPCG(1, 2))
	line := make([]byte, 0, 512)
	line = append(line, "Test: company's reconciliation report of 20190101 to 20190331\n"...)
	line = append(line, "Transaction Type,Transaction Time,Order No.,External order No.,Credit,Debit,Balance,Transaction Amount,Exchange Rate Adopted for Settlement,Service Fee,Refund Amount,Refund Order,External Refund Order No.,Fee for Withdrawal,Converted Currency,Exchange Rate Adopted for Conversion,Amount After Conversion,Payment Channel\n"...)
	at := time.Date(2019, 1, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*60*60))
	balance := int64(0)
	type paid struct {
		no, out string
		amount  int64
	}
	recent := make([]paid, 0, 64)
	money := func(b []byte, n int64) []byte {
		if n < 0 {
			b = append(b, '-')
			n = -n
		}
		b = strconv.AppendInt(b, n/100, 10)
		b = append(b, '.', byte('0'+n%100/10), byte('0'+n%10))
		return append(b, " HKD,"...)
	}
	digits := func(b []byte, n int) []byte {
		for i := 0; i < n; i++ {
			b = append(b, byte('0'+rng.IntN(10)))
		}
		return b
	}
	for written := int64(0); written < size; {
		at = at.Add(time.Duration(1+rng.IntN(30)) * time.Second)
		stamp := at.Format("2006-01-02 15:04:05")
		no := digits(at.AppendFormat(make([]byte, 0, 25), "20060102150405"), 11)
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
		n, err := w.Write(line)
		if err != nil {
			return records, err
		}
		records++
		written += int64(n)
		line = line[:0]
	}
	return records, nil
}
