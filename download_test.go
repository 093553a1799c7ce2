package hipopay

// Tests of DownloadBill (GET download_bill, header Version 3.0): the exact
// wire, dates as days in UTC+8, the file streamed unchanged (BOM, CRLF and
// size included), a JSON error answer as *APIError, and the validation
// done before any network call.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// onBill answers GET download_bill with the file body as text.
func onBill(w *wireMock, status int, body []byte) {
	w.onFunc(http.MethodGet, "download_bill", func(*http.Request) (*http.Response, error) {
		resp := httpmock.NewBytesResponse(status, body)
		resp.Header.Set("Content-Type", "text/plain; charset=utf-8")
		return resp, nil
	})
}

func readAllAndClose(t testing.TB, rc io.ReadCloser) []byte {
	t.Helper()
	b, err := io.ReadAll(rc)
	require.NoError(t, err)
	require.NoError(t, rc.Close())
	return b
}

func chinaDate(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, ChinaTimeZone())
}

func TestDownloadBillWire(t *testing.T) {
	newYork := time.FixedZone("EST", -5*60*60)
	for _, tc := range []struct {
		name       string
		start, end time.Time
		want       [2]string
	}{
		{"dates in UTC+8", chinaDate(2019, 1, 1, 0, 0), chinaDate(2019, 3, 1, 0, 0), [2]string{"20190101", "20190301"}},
		{"late in the day in UTC is the next day in UTC+8",
			time.Date(2019, 1, 1, 20, 0, 0, 0, time.UTC), time.Date(2019, 1, 31, 16, 0, 0, 0, time.UTC),
			[2]string{"20190102", "20190201"}},
		{"the last second before midnight in UTC+8",
			time.Date(2019, 1, 1, 15, 59, 59, 0, time.UTC), time.Date(2019, 1, 31, 15, 59, 59, 0, time.UTC),
			[2]string{"20190101", "20190131"}},
		{"another zone", time.Date(2019, 1, 1, 22, 0, 0, 0, newYork), time.Date(2019, 1, 20, 10, 0, 0, 0, newYork),
			[2]string{"20190102", "20190120"}},
		{"one day", chinaDate(2019, 1, 20, 9, 0), chinaDate(2019, 1, 20, 9, 0), [2]string{"20190120", "20190120"}},
		{"same day, start later in it", chinaDate(2019, 1, 20, 23, 0), chinaDate(2019, 1, 20, 1, 0), [2]string{"20190120", "20190120"}},
		{"start later than end by the clock, same day in UTC+8",
			time.Date(2019, 1, 20, 23, 0, 0, 0, time.UTC), time.Date(2019, 1, 20, 16, 0, 0, 0, time.UTC),
			[2]string{"20190121", "20190121"}},
		{"Unix time", time.Unix(1550548767, 0), time.Unix(1550548767, 0), [2]string{"20190219", "20190219"}},
		// The three-month window and future dates are HipoPay's to judge.
		{"long ago to the future", chinaDate(2010, 1, 1, 0, 0), chinaDate(2030, 12, 31, 0, 0), [2]string{"20100101", "20301231"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			onBill(w, http.StatusOK, []byte(billSample(t)))
			rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: tc.start, EndDate: tc.end})
			require.NoError(t, err)
			readAllAndClose(t, rc)
			assertWire(t, w.single(t), http.MethodGet, "download_bill", "3.0", map[string]string{
				"merchant_no": testMerchantNo, "start_date": tc.want[0], "end_date": tc.want[1],
			})
		})
	}
}

func TestDownloadBillMatchesSigningVector(t *testing.T) {
	tc := signingVector(t, "download_bill")
	c, w := newWireMock(t, WithClock(vectorClock(t, tc.Timestamp)))
	onBill(w, http.StatusOK, []byte(billSample(t)))
	p := valuesOf(tc.Params)
	start, err := time.ParseInLocation("20060102", p.Get("start_date"), ChinaTimeZone())
	require.NoError(t, err)
	end, err := time.ParseInLocation("20060102", p.Get("end_date"), ChinaTimeZone())
	require.NoError(t, err)
	rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: start, EndDate: end})
	require.NoError(t, err)
	readAllAndClose(t, rc)
	assertMatchesVector(t, w.single(t), tc)
}

// The file comes back byte for byte as HipoPay sent it.
func TestDownloadBillStreamsFileUnchanged(t *testing.T) {
	sample := []byte(billSample(t))
	crlf := bytes.ReplaceAll(sample, []byte("\n"), []byte("\r\n"))
	big := bytes.Buffer{}
	big.Write(sample)
	line := "Collection via WeChat Pay,2019-01-02 10:55:10,`2019010210551024660612990,`13260056057_wechat_1546397710000,0.99 HKD,-,1.06 HKD,1.00 HKD,1,0.01 HKD,-,-,-,-,-,-,-,WECHATPAYCN\n"
	for big.Len() < 3<<20 { // larger than any JSON answer may be
		big.WriteString(line)
	}
	for name, body := range map[string][]byte{
		"reference sample":   sample,
		"with a UTF-8 BOM":   append([]byte("\xef\xbb\xbf"), sample...),
		"BOM, CRLF, blank":   append(append([]byte("\xef\xbb\xbf"), crlf...), "\r\n"...),
		"3 MiB":              big.Bytes(),
		"empty file":         {},
		"a title line alone": []byte("Test: company's reconciliation report of 20190101 to 20190120"),
	} {
		t.Run(name, func(t *testing.T) {
			c, w := newWireMock(t)
			onBill(w, http.StatusOK, body)
			rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
			require.NoError(t, err)
			got := readAllAndClose(t, rc)
			assert.True(t, bytes.Equal(body, got), "file changed: got %d bytes, want %d", len(got), len(body))
			assert.Len(t, w.requests(), 1)
		})
	}
}

// A reader of the file may stop early and close.
func TestDownloadBillCloseEarly(t *testing.T) {
	c, w := newWireMock(t)
	onBill(w, http.StatusOK, []byte(billSample(t)))
	rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
	require.NoError(t, err)
	head := make([]byte, 5)
	_, err = io.ReadFull(rc, head)
	require.NoError(t, err)
	assert.Equal(t, "Test:", string(head))
	require.NoError(t, rc.Close())
}

func TestDownloadBillErrors(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        int
		body          string
		code, message string
		sentinel      *APIError
	}{
		{"JSON error under HTTP 200", http.StatusOK, errorBody("ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported"),
			"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
		{"Python-flavoured error under HTTP 200", http.StatusOK, pythonErrorBody("ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported"),
			"ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile},
		{"an undocumented code", http.StatusOK, errorBody("DATE_RANGE_INVALID", "only the last three months"),
			"DATE_RANGE_INVALID", "only the last three months", nil},
		{"JSON error after blank lines", http.StatusOK, "\r\n  \n" + errorBody("DATE_RANGE_INVALID", "too old"),
			"DATE_RANGE_INVALID", "too old", nil},
		{"JSON error under HTTP 400", http.StatusBadRequest, errorBody("DATE_RANGE_INVALID", "too old"),
			"DATE_RANGE_INVALID", "too old", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, w := newWireMock(t)
			onBill(w, tc.status, []byte(tc.body))
			rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
			assert.Nil(t, rc)
			assertAPIError(t, err, tc.status, tc.code, tc.message, tc.sentinel)
			assert.Len(t, w.requests(), 1)
		})
	}
	t.Run("a successful JSON answer is not a file", func(t *testing.T) {
		c, w := newWireMock(t)
		onBill(w, http.StatusOK, []byte(`{"is_success": true, "response": {}}`))
		rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
		assert.Nil(t, rc)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusOK, ae.StatusCode)
		assert.Empty(t, ae.Code)
	})
	t.Run("an HTTP error page", func(t *testing.T) {
		c, w := newWireMock(t)
		onBill(w, http.StatusForbidden, []byte("<html><body>Forbidden</body></html>"))
		rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
		assert.Nil(t, rc)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusForbidden, ae.StatusCode)
		assert.Empty(t, ae.Code)
		assert.Contains(t, ae.Body, "Forbidden")
		assert.Len(t, w.requests(), 1, "a 403 is not retried")
	})
}

func TestDownloadBillValidation(t *testing.T) {
	c, w := newWireMock(t)
	day := chinaDate(2019, 1, 20, 0, 0)
	for _, tc := range []struct {
		name  string
		req   *BillRequest
		field string
	}{
		{"nil", nil, "request"},
		{"no dates", &BillRequest{}, "start_date"},
		{"no start", &BillRequest{EndDate: day}, "start_date"},
		{"no end", &BillRequest{StartDate: day}, "end_date"},
		{"start after end", &BillRequest{StartDate: day.AddDate(0, 0, 1), EndDate: day}, "start_date"},
		{"start the day after end in UTC+8", &BillRequest{
			StartDate: time.Date(2019, 1, 20, 16, 0, 0, 0, time.UTC), // 2019-01-21 00:00 in UTC+8
			EndDate:   time.Date(2019, 1, 20, 15, 0, 0, 0, time.UTC), // 2019-01-20 23:00 in UTC+8
		}, "start_date"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc, err := c.DownloadBill(context.Background(), tc.req)
			assert.Nil(t, rc)
			assertInvalid(t, w, err, tc.field)
			if tc.field == "start_date" && tc.req != nil && !tc.req.StartDate.IsZero() && !tc.req.EndDate.IsZero() {
				assert.Contains(t, err.Error(), "end_date")
			}
		})
	}
}

// The BOM of a UTF-8 file does not hide a JSON error answer.
func TestDownloadBillJSONErrorAfterBOM(t *testing.T) {
	c, w := newWireMock(t)
	onBill(w, http.StatusOK, []byte("\xef\xbb\xbf"+errorBody("ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported")))
	rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
	assert.Nil(t, rc)
	assertAPIError(t, err, http.StatusOK, "ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported", ErrIllegalSecurityProfile)
	assert.Len(t, w.requests(), 1)
}
