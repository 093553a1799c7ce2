package hipopay

// Tests of DownloadBill (GET download_bill, header Version 3.0): the exact
// wire, dates as days in UTC+8, the file streamed unchanged (BOM, CRLF and
// size included), a JSON error answer as *APIError, and the validation
// done before any network call; and Client.BillRecords, which closes the
// download however its loop ends.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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
	t.Run("an HTTP error page that cannot be read whole", func(t *testing.T) {
		c, w := newWireMock(t)
		onBill(w, http.StatusForbidden, bytes.Repeat([]byte("x"), maxResponseBytes+1))
		rc, err := c.DownloadBill(context.Background(), &BillRequest{StartDate: chinaDate(2019, 1, 1, 0, 0), EndDate: chinaDate(2019, 1, 20, 0, 0)})
		assert.Nil(t, rc)
		var ae *APIError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, http.StatusForbidden, ae.StatusCode)
		assert.Contains(t, ae.Message, "reading answer", "the read error is reported, not dropped")
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
