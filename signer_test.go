package hipopay

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type vectorFile struct {
	Key   string `json:"key"`
	Cases []struct {
		Name         string      `json:"name"`
		Method       string      `json:"method"`
		Path         string      `json:"path"`
		Version      string      `json:"version"`
		Timestamp    string      `json:"timestamp"`
		Params       [][2]string `json:"params"`
		StringToSign string      `json:"string_to_sign"`
		Signature    string      `json:"signature"`
		// Only in cases with reserved characters: the string and signature
		// of an RFC 3986 server, which keeps '~' raw.
		StringToSignTildeKept string `json:"string_to_sign_tilde_kept"`
		SignatureTildeKept    string `json:"signature_tilde_kept"`
	} `json:"cases"`
}

func loadVectors(t testing.TB, name string) vectorFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	var v vectorFile
	require.NoError(t, json.Unmarshal(b, &v))
	require.NotEmpty(t, v.Cases)
	return v
}

func valuesOf(pairs [][2]string) url.Values {
	v := url.Values{}
	for _, p := range pairs {
		v.Add(p[0], p[1])
	}
	return v
}

func mustPrivateKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := LoadPrivateKey(filepath.Join("testdata", name))
	require.NoError(t, err)
	return k
}

func mustPublicKey(t testing.TB, name string) *rsa.PublicKey {
	t.Helper()
	k, err := LoadPublicKey(filepath.Join("testdata", name))
	require.NoError(t, err)
	return k
}

func TestRequestSigningVectors(t *testing.T) {
	vf := loadVectors(t, "request_signing_vectors.json")
	for _, keyFile := range []string{"merchant_private_pkcs1.pem", "merchant_private_pkcs8.pem"} {
		signer, err := NewSigner(mustPrivateKey(t, keyFile))
		require.NoError(t, err)
		pub := mustPublicKey(t, "merchant_public.pem")
		for _, tc := range vf.Cases {
			t.Run(keyFile+"/"+tc.Name, func(t *testing.T) {
				params := valuesOf(tc.Params)
				assert.Equal(t, tc.StringToSign, StringToSign(params, tc.Timestamp))
				sig, err := signer.Sign(params, tc.Timestamp)
				require.NoError(t, err)
				assert.Equal(t, tc.Signature, sig)
				assert.NoError(t, VerifyRequestSignature(pub, params, tc.Timestamp, sig))
				if tc.StringToSignTildeKept == "" {
					return
				}
				// The other rule, '~' kept raw, for a server that refuses
				// the documented one.
				kept := stringToSignTildeKept(params, tc.Timestamp)
				assert.Equal(t, tc.StringToSignTildeKept, kept)
				assert.Equal(t, kept, buildCanonical(params, valuesTildeKept)+","+tc.Timestamp)
				keptSig, err := signer.SignString(kept)
				require.NoError(t, err)
				assert.Equal(t, tc.SignatureTildeKept, keptSig)
				assert.ErrorIs(t, VerifyRequestSignature(pub, params, tc.Timestamp, keptSig), ErrInvalidSignature,
					"VerifyRequestSignature follows the documented rule only")
			})
		}
	}
	reserved := 0
	for _, tc := range vf.Cases {
		if tc.StringToSignTildeKept != "" {
			reserved++
		}
	}
	assert.NotZero(t, reserved, "the vectors hold a case with ~ * ' ( ) !")
}

func TestNotificationVectors(t *testing.T) {
	vf := loadVectors(t, "notification_vectors.json")
	pub := mustPublicKey(t, "fake_hipopay_public.pem")
	signer, err := NewSigner(mustPrivateKey(t, vf.Key))
	require.NoError(t, err)
	for _, tc := range vf.Cases {
		t.Run(tc.Name, func(t *testing.T) {
			params := valuesOf(tc.Params)
			toSign := NotificationStringToSign(params, tc.Timestamp)
			assert.Equal(t, tc.StringToSign, toSign)
			sig, err := signer.SignString(toSign)
			require.NoError(t, err)
			assert.Equal(t, tc.Signature, sig)
			assert.NoError(t, VerifyNotificationSignature(pub, params, tc.Timestamp, tc.Signature))

			// Any change to a field, the timestamp or the signature fails.
			for name := range params {
				tampered := valuesOf(tc.Params)
				tampered.Set(name, tampered.Get(name)+"0")
				assert.ErrorIs(t, VerifyNotificationSignature(pub, tampered, tc.Timestamp, tc.Signature), ErrInvalidSignature, name)
			}
			extra := valuesOf(tc.Params)
			extra.Set("extra", "1")
			assert.ErrorIs(t, VerifyNotificationSignature(pub, extra, tc.Timestamp, tc.Signature), ErrInvalidSignature)
			assert.ErrorIs(t, VerifyNotificationSignature(pub, params, tc.Timestamp+"1", tc.Signature), ErrInvalidSignature)
			assert.ErrorIs(t, VerifyNotificationSignature(pub, params, tc.Timestamp, "not base64!"), ErrInvalidSignature)
			assert.ErrorIs(t, VerifyNotificationSignature(pub, params, tc.Timestamp, ""), ErrInvalidSignature)
			assert.ErrorIs(t, VerifyNotificationSignature(nil, params, tc.Timestamp, tc.Signature), ErrInvalidSignature)
			wrong := mustPublicKey(t, "merchant_public.pem")
			assert.ErrorIs(t, VerifyNotificationSignature(wrong, params, tc.Timestamp, tc.Signature), ErrInvalidSignature)
		})
	}
}

func TestStringToSignEncoding(t *testing.T) {
	params := url.Values{"b": {"a b+c/ü~._-"}, "a": {"*'()!"}}
	assert.Equal(t, "a=%2A%27%28%29%21&b=a%20b%2Bc%2F%C3%BC%7E._-,1", StringToSign(params, "1"))
	assert.Equal(t, "a=%2A%27%28%29%21&b=a%20b%2Bc%2F%C3%BC~._-,1", stringToSignTildeKept(params, "1"))
	assert.Equal(t, "a=*'()!&b=a b+c/ü~._-,1", NotificationStringToSign(params, "1"))
	assert.Equal(t, ",1", StringToSign(url.Values{}, "1"))
}

// Every byte: A-Z a-z 0-9 _ . - kept, every other one %XX upper-case
// (Python 2's urllib.quote(v, safe="")).
func TestStringToSignEncodesEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		v := string([]byte{byte(c)})
		want := fmt.Sprintf("%%%02X", c)
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-' {
			want = v
		}
		assert.Equal(t, "v="+want+",1", StringToSign(url.Values{"v": {v}}, "1"), "byte %#x", c)
		if c == '~' {
			want = "~"
		}
		assert.Equal(t, "v="+want+",1", stringToSignTildeKept(url.Values{"v": {v}}, "1"), "byte %#x, tilde kept", c)
	}
}

func pemOf(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func TestParseKeys(t *testing.T) {
	pkcs1, err := os.ReadFile("testdata/merchant_private_pkcs1.pem")
	require.NoError(t, err)
	pkcs8, err := os.ReadFile("testdata/merchant_private_pkcs8.pem")
	require.NoError(t, err)
	k1, err := ParsePrivateKey(pkcs1)
	require.NoError(t, err)
	k8, err := ParsePrivateKey(pkcs8)
	require.NoError(t, err)
	assert.True(t, k1.Equal(k8))

	pub := &k1.PublicKey
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big1()}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, k1)
	require.NoError(t, err)
	for name, p := range map[string][]byte{
		"pkix":  pemOf("PUBLIC KEY", pkix),
		"pkcs1": pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(pub)),
		"cert":  pemOf("CERTIFICATE", cert),
	} {
		got, err := ParsePublicKey(p)
		require.NoError(t, err, name)
		assert.True(t, got.Equal(pub), name)
	}

	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	require.NoError(t, err)
	weakPKIX, _ := x509.MarshalPKIXPublicKey(&weak.PublicKey)
	ecPEM := []byte("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgevZzL1gdAFr88hb2\nOF/2NxApJCzGCEDdfSp6VQO30hyhRANCAAQRWz+jn65BtOMvdyHKcvjBeBSDZH2r\n1RTwjmYSi9R/zpBnuQ4EiMnCqfMPWiZqB4QdbAd0E7oH50VpuZ1P087G\n-----END PRIVATE KEY-----\n")
	for name, tc := range map[string]struct {
		pem     []byte
		private bool
	}{
		"garbage":           {[]byte("not a key"), true},
		"empty":             {nil, true},
		"weak private":      {pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(weak)), true},
		"weak public":       {pemOf("PUBLIC KEY", weakPKIX), false},
		"ec private":        {ecPEM, true},
		"public as priv":    {pemOf("PUBLIC KEY", pkix), true},
		"corrupt private":   {pemOf("RSA PRIVATE KEY", []byte{1, 2, 3}), true},
		"corrupt public":    {pemOf("PUBLIC KEY", []byte{1, 2, 3}), false},
		"private as public": {pkcs8, false},
	} {
		var err error
		if tc.private {
			_, err = ParsePrivateKey(tc.pem)
		} else {
			_, err = ParsePublicKey(tc.pem)
		}
		assert.Error(t, err, name)
	}
	_, err = NewSigner(weak)
	assert.Error(t, err)
	_, err = NewSigner(nil)
	assert.Error(t, err)
	_, err = LoadPrivateKey("testdata/does-not-exist.pem")
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrInvalidSignature))
}

func TestSignatureWhitespaceIsTolerated(t *testing.T) {
	vf := loadVectors(t, "notification_vectors.json")
	pub := mustPublicKey(t, "fake_hipopay_public.pem")
	tc := vf.Cases[0]
	folded := " " + tc.Signature[:76] + "\r\n " + tc.Signature[76:] + " \n"
	assert.NoError(t, VerifyNotificationSignature(pub, valuesOf(tc.Params), tc.Timestamp, folded))
}

// The client sends the reserved-characters vector byte for byte: body and
// signature by the documented rule, '~' as %7E.
func TestPlaceOrderMatchesReservedCharactersVector(t *testing.T) {
	tc := signingVector(t, "place_order_reserved_characters")
	tc.Path = strings.TrimPrefix(tc.Path, "/") // this case alone spells it "/wechatpay/..."
	c, w := newWireMock(t, WithClock(vectorClock(t, tc.Timestamp)))
	w.on(http.MethodPost, tc.Path, http.StatusOK, placeOrderJSONBody)
	p := valuesOf(tc.Params)
	_, err := c.PlaceOrder(context.Background(), &PlaceOrderRequest{
		OutTradeID:  p.Get("out_trade_id"),
		Amount:      p.Get("amount"),
		Currency:    Currency(p.Get("currency")),
		ProductInfo: p.Get("product_info"),
		AppID:       p.Get("appid"),
		OpenID:      p.Get("openid"),
		ClientIP:    p.Get("client_ip"),
		NotifyURL:   p.Get("notify_url"),
	})
	require.NoError(t, err)
	got := w.single(t)
	assertMatchesVector(t, got, tc)
	assert.NotContains(t, got.Raw, "~", "the body carries '~' as %7E, as signed")
}

// Keys as people have them: a UTF-8 BOM (Windows editors), blank lines or
// other whitespace before the PEM block load, as openssl accepts them.
func TestParseKeysWithLeadingBOMAndWhitespace(t *testing.T) {
	want, err := ParsePrivateKey(readTestdata(t, "merchant_private_pkcs8.pem"))
	require.NoError(t, err)
	prefixes := map[string]string{
		"BOM":                  "\ufeff",
		"blank lines":          "\n\n",
		"CRLF blank lines":     "\r\n\r\n",
		"spaces and tabs":      "  \t",
		"whitespace lines":     " \t\n \n",
		"BOM then blank lines": "\ufeff\r\n\r\n",
		"BOM then spaces":      "\ufeff  ",
		"blank lines then BOM": "\n\ufeff",
	}
	for name, prefix := range prefixes {
		for _, file := range []string{"merchant_private_pkcs1.pem", "merchant_private_pkcs8.pem", "merchant_public.pem"} {
			in := append([]byte(prefix), readTestdata(t, file)...)
			path := filepath.Join(t.TempDir(), "key.pem")
			require.NoError(t, os.WriteFile(path, in, 0o600))
			if file == "merchant_public.pem" {
				pub, err := ParsePublicKey(in)
				require.NoError(t, err, name+"/"+file)
				assert.True(t, pub.Equal(&want.PublicKey), name+"/"+file)
				pub, err = LoadPublicKey(path)
				require.NoError(t, err, name+"/"+file)
				assert.True(t, pub.Equal(&want.PublicKey), name+"/"+file)
				continue
			}
			key, err := ParsePrivateKey(in)
			require.NoError(t, err, name+"/"+file)
			assert.True(t, key.Equal(want), name+"/"+file)
			key, err = LoadPrivateKey(path)
			require.NoError(t, err, name+"/"+file)
			assert.True(t, key.Equal(want), name+"/"+file)
		}
	}
	// Whitespace alone, or a BOM alone, is still no key.
	for _, in := range []string{"\ufeff", "\ufeff\n\n", " \t\r\n"} {
		_, err := ParsePrivateKey([]byte(in))
		assert.ErrorContains(t, err, "empty", "%q", in)
	}
}

// stringToSignTildeKept is [StringToSign] with '~' kept raw, as an RFC 3986
// server (PHP's rawurlencode, Node's encodeURIComponent) would build it: the
// rule a client falls back to when HipoPay refuses the documented one.
func stringToSignTildeKept(params url.Values, timestamp string) string {
	return buildCanonical(params, valuesTildeKept) + "," + timestamp
}
