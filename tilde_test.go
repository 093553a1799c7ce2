package hipopay

// The client learns HipoPay's encoding of '~': one re-signed re-send of a
// refused '~' request, the rule kept once accepted, nothing re-sent
// without '~'.

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tildeServer answers ILLEGAL_SECURITY_PROFILE to the first refuse
// requests, and to any request whose signature does not verify over the
// raw-tilde string; otherwise a placed order or a payment.
type tildeServer struct {
	t      *testing.T
	mu     sync.Mutex
	refuse int
	sigs   []string // the string each signature verified over: "raw", "refused"
}

func (s *tildeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params := receivedParams(s.t, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	toSign := stringToSignTildeKept(params, r.Header.Get("Timestamp"))
	pub := mustPublicKey(s.t, "merchant_public.pem")
	if s.refuse > 0 || VerifySignature(pub, toSign, r.Header.Get("Signature")) != nil {
		s.refuse--
		s.sigs = append(s.sigs, "refused")
		_, _ = w.Write([]byte(errorBody("ILLEGAL_SECURITY_PROFILE", "This encryption method is not supported")))
		return
	}
	s.sigs = append(s.sigs, "raw")
	_, _ = w.Write([]byte(`{"is_success": true, "response": {"payment_no": "P1", "out_trade_id": "` + params.Get("out_trade_id") +
		`", "status": "INIT", "prepay_params": {"prepay_id": "wx1"}}}`))
}

func (s *tildeServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.sigs
	s.sigs = nil
	return got
}

func TestTildeIsLearnedOnce(t *testing.T) {
	srv := &tildeServer{t: t, refuse: 1}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, _ := newServerClient(t, srv, WithLogger(logger))
	ctx := context.Background()
	order := samplePlaceOrder()
	order.ProductInfo = "tea~green"

	_, err := c.PlaceOrder(ctx, order)
	require.NoError(t, err)
	assert.Equal(t, []string{"refused", "raw"}, srv.take(), "one refused, one accepted request")
	assert.True(t, c.rawTilde.Load())
	assert.Equal(t, 1, strings.Count(logs.String(), `"level":"WARN"`))

	for i := 0; i < 3; i++ {
		_, err = c.PlaceOrder(ctx, order)
		require.NoError(t, err)
		assert.Equal(t, []string{"raw"}, srv.take(), "later '~' orders: one request")
	}
	_, err = c.GetPayment(ctx, PaymentQuery{OutTradeID: "a~b"})
	require.NoError(t, err)
	assert.Equal(t, []string{"raw"}, srv.take())
	assert.Equal(t, 1, strings.Count(logs.String(), `"level":"WARN"`), "logged once")
}

func TestIllegalSecurityProfileWithoutTildeIsSentOnce(t *testing.T) {
	srv := &tildeServer{t: t, refuse: 100}
	c, _ := newServerClient(t, srv)
	_, err := c.PlaceOrder(context.Background(), samplePlaceOrder())
	require.ErrorIs(t, err, ErrIllegalSecurityProfile)
	assert.Equal(t, []string{"refused"}, srv.take())
	_, err = c.GetPayment(context.Background(), PaymentQuery{PaymentNo: "P1"})
	require.ErrorIs(t, err, ErrIllegalSecurityProfile)
	assert.Equal(t, []string{"refused"}, srv.take())

	// A '~' request refused both ways: two requests, the rule not learned.
	order := samplePlaceOrder()
	order.ProductInfo = "tea~green"
	_, err = c.PlaceOrder(context.Background(), order)
	require.ErrorIs(t, err, ErrIllegalSecurityProfile)
	assert.Equal(t, []string{"refused", "refused"}, srv.take())
	assert.False(t, c.rawTilde.Load())
}

// The tilde-kept form changes only the encoding of '~', never a literal
// "%7E" in a value.
func TestRawTildeQuery(t *testing.T) {
	raw := buildCanonical(map[string][]string{"a": {"x~y"}, "b": {"%7E"}, "c": {"~%7e~"}}, valuesTildeKept)
	assert.Equal(t, "a=x~y&b=%257E&c=~%257e~", raw)
}
