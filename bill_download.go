// Downloading the reconciliation file: BillRequest, DownloadBill and
// BillRecords (GET download_bill, Version 3.0). This is the only file of the
// bill that knows of the client and HTTP; the reader, Money and the
// reconciliation work on any io.Reader or record stream.

package hipopay

import (
	"context"
	"io"
	"iter"
	"net/http"
	"time"
)

// BillRequest asks [Client.DownloadBill] for the reconciliation file of a
// range of days, both included. A time at midnight in its location is that
// calendar day (time.Date(2019, 1, 20, 0, 0, 0, 0, time.UTC) is 20190120,
// whatever the zone); any other time is an instant, sent as its day in
// UTC+8 (time.Now() is today in China). HipoPay serves at most the last
// three months.
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

// DownloadBill returns the raw reconciliation file as a stream, to read
// with [NewBillReader]; the caller must Close it.
//
// HipoPay endpoint: GET download_bill (header Version 3.0).
//
// A missing date or a start after the end is a [*ValidationError] before
// any network call; the three-month window and future dates are HipoPay's
// to judge. A JSON error answer is an [*APIError]. The download is bounded
// by ctx, not by the default 30 s timeout; an http.Client given
// [WithHTTPClient] applies its own Timeout too.
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

// BillRecords downloads the reconciliation file and iterates over its
// records, closing the download when the loop ends (also on break). For
// the title line, use [Client.DownloadBill] and [BillReader.Title].
//
// HipoPay endpoint: GET download_bill (header Version 3.0).
//
// The download's errors (those of [Client.DownloadBill], or a network
// error) are yielded once with a nil record; a file that cannot be read
// yields a [*BillParseError]. Either ends the iteration.
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
