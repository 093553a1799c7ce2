package hipopay

import (
	"crypto"
	"crypto/rsa"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/require"
)

func big1() *big.Int { return big.NewInt(1) }

// testMerchantNo is the merchant number of the SDK's own tests.
const testMerchantNo = "WC8888888888888"

// testClock is the fixed clock of the SDK's own tests: the Timestamp header
// is always "1550548767".
func testClock() time.Time { return time.Unix(1550548767, 0) }

func merchantKey(t testing.TB) *rsa.PrivateKey {
	return mustPrivateKey(t, "merchant_private_pkcs8.pem")
}

// newMockClient returns a client whose own *http.Client is intercepted by
// httpmock (as a merchant's unit tests do), calling the production URL with
// the fixed test clock and no retry delay to speak of.
func newMockClient(t testing.TB, opts ...Option) (*Client, *httpmock.MockTransport) {
	t.Helper()
	hc := &http.Client{}
	httpmock.ActivateNonDefault(hc)
	t.Cleanup(func() { httpmock.DeactivateAndReset() })
	mock := hc.Transport.(*httpmock.MockTransport)
	base := []Option{WithHTTPClient(hc), WithClock(testClock), WithRetryBackoff(time.Millisecond)}
	c, err := NewClient(testMerchantNo, merchantKey(t), append(base, opts...)...)
	require.NoError(t, err)
	return c, mock
}

// newServerClient returns a client calling an httptest server running h.
func newServerClient(t testing.TB, h http.Handler, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := []Option{WithBaseURL(srv.URL + "/"), WithClock(testClock), WithRetryBackoff(time.Millisecond)}
	c, err := NewClient(testMerchantNo, merchantKey(t), append(base, opts...)...)
	require.NoError(t, err)
	return c, srv
}

// receivedParams returns the parameters of a request as HipoPay reads
// them: the query of a GET, the form body of a POST.
func receivedParams(t testing.TB, r *http.Request) url.Values {
	t.Helper()
	if r.Method == http.MethodGet {
		return r.URL.Query()
	}
	require.NoError(t, r.ParseForm())
	return r.PostForm
}

// assertSigned checks the four headers and that the signature verifies
// under the merchant's public key over exactly the received parameters.
func assertSigned(t testing.TB, r *http.Request, version string) {
	t.Helper()
	require.Equal(t, testMerchantNo, r.Header.Get("MerchantNO"))
	require.Equal(t, version, r.Header.Get("Version"))
	require.Equal(t, "1550548767", r.Header.Get("Timestamp"))
	pub := mustPublicKey(t, "merchant_public.pem")
	require.NoError(t, VerifyRequestSignature(pub, receivedParams(t, r), r.Header.Get("Timestamp"), r.Header.Get("Signature")))
}

func rsaVerify(pub *rsa.PublicKey, digest, sig []byte) error {
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest, sig)
}
