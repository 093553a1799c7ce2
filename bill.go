// The reconciliation file: downloading it (GET download_bill, Version 3.0)
// and reading it as a stream of typed records.

package hipopay

import (
	"context"
	"io"
	"net/http"
	"time"
)

// BillRequest asks for the reconciliation file of a range of days, both
// included, as days in UTC+8. HipoPay serves at most the last three months.
type BillRequest struct {
	StartDate time.Time
	EndDate   time.Time
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
	if start, end := r.StartDate.In(chinaZone).Format(dateLayout), r.EndDate.In(chinaZone).Format(dateLayout); start > end {
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
	params := map[string][]string{
		"merchant_no": {c.merchantNo},
		"start_date":  {req.StartDate.In(chinaZone).Format(dateLayout)},
		"end_date":    {req.EndDate.In(chinaZone).Format(dateLayout)},
	}
	return c.stream(ctx, call{method: http.MethodGet, path: "download_bill", version: billAPIVersion, params: params})
}
