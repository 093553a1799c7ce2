package hipopay_test

// '~' against the fake HipoPay in both of its tilde modes: the documented
// %7E (default) and '~' kept raw (WithRawTilde), learned by the client.

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hipopay-go/hipopay"
	"github.com/hipopay-go/hipopay/hipopaytest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// answerLog records each request's path and whether the answer refused
// its signature.
type answerLog struct {
	mu      sync.Mutex
	answers []string // "ok" or "refused"
}

func (l *answerLog) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	kind := "ok"
	if bytes.Contains(body, []byte("ILLEGAL_SECURITY_PROFILE")) {
		kind = "refused"
	}
	l.mu.Lock()
	l.answers = append(l.answers, kind)
	l.mu.Unlock()
	return resp, nil
}

func (l *answerLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.answers
	l.answers = nil
	return a
}

func tildeOrder(id, info string) *hipopay.PlaceOrderRequest {
	return &hipopay.PlaceOrderRequest{OutTradeID: id, Amount: "8.88", Currency: hipopay.HKD, ProductInfo: info,
		AppID: "wx1", OpenID: "o1", ClientIP: "10.0.0.1"}
}

// signsTildeDocumented reports whether the SDK signs '~' as %7E (HipoPay's
// documented rule); until it does, both fakes accept '~' at once.
func signsTildeDocumented() bool {
	return strings.Contains(hipopay.StringToSign(url.Values{"a": {"~"}}, "0"), "%7E")
}

func TestTildeAgainstARawTildeFake(t *testing.T) {
	srv := hipopaytest.NewServer(hipopaytest.WithRawTilde())
	defer srv.Close()
	log := &answerLog{}
	c := srv.Client(hipopay.WithHTTPClient(&http.Client{Transport: log}))
	ctx := context.Background()

	// A request without '~' is signed the same either way: one request.
	_, err := c.PlaceOrder(ctx, tildeOrder("T0", "green tea"))
	require.NoError(t, err)
	assert.Equal(t, []string{"ok"}, log.take())

	// The first '~' order: refused (%7E), then accepted ('~' raw).
	p, err := c.PlaceOrder(ctx, tildeOrder("T1", "tea~green"))
	require.NoError(t, err)
	assert.Equal(t, "T1", p.OutTradeID)
	if signsTildeDocumented() {
		assert.Equal(t, []string{"refused", "ok"}, log.take())
	} else {
		assert.Equal(t, []string{"ok"}, log.take())
	}

	// Every later '~' call: one request.
	for _, id := range []string{"T2~a", "T3~b"} {
		_, err = c.PlaceOrder(ctx, tildeOrder(id, "tea~"+id))
		require.NoError(t, err)
		assert.Equal(t, []string{"ok"}, log.take(), id)
	}
	got, err := c.GetPayment(ctx, hipopay.PaymentQuery{OutTradeID: "T2~a"})
	require.NoError(t, err)
	assert.Equal(t, "tea~T2~a", got.ProductInfo)
	assert.Equal(t, []string{"ok"}, log.take())
}

func TestTildeAgainstTheDocumentedFake(t *testing.T) {
	srv := hipopaytest.NewServer()
	defer srv.Close()
	log := &answerLog{}
	c := srv.Client(hipopay.WithHTTPClient(&http.Client{Transport: log}))
	for _, id := range []string{"T1~", "T2~"} {
		_, err := c.PlaceOrder(context.Background(), tildeOrder(id, "tea~green"))
		require.NoError(t, err)
		assert.Equal(t, []string{"ok"}, log.take(), "accepted at the first try")
	}
}
