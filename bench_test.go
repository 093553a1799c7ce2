package hipopay

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"
)

// The signing benchmarks run the SDK's signing path beside the raw floor
// (SHA-256 and rsa.SignPKCS1v15 over the same, prebuilt string) in the same
// run:
//
//	go test -run '^$' -bench 'Sign' -benchmem -count 5 .
func benchParams() (url.Values, string) {
	return url.Values{
		"merchant_no":  {"WC8888888888888"},
		"out_trade_id": {"201901021232211023"},
		"amount":       {"8.88"},
		"currency":     {"HKD"},
		"product_info": {"Hipopay - product for test"},
		"appid":        {"wx3zzzzzzz4"},
		"openid":       {"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
		"client_ip":    {"10.129.35.61"},
		"notify_url":   {"https://merchant.example/hipopay/notify?src=mini"},
	}, "1550548767"
}

// BenchmarkSignSDK is the whole SDK path: canonical string, SHA-256,
// RSA-2048 PKCS#1 v1.5, base64.
func BenchmarkSignSDK(b *testing.B) {
	signer, err := NewSigner(merchantKey(b))
	if err != nil {
		b.Fatal(err)
	}
	params, ts := benchParams()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := signer.Sign(params, ts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignRawRSA is the floor: rsa.SignPKCS1v15 over the SHA-256 of a
// string built beforehand.
func BenchmarkSignRawRSA(b *testing.B) {
	key := merchantKey(b)
	params, ts := benchParams()
	toSign := []byte(StringToSign(params, ts))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		digest := sha256.Sum256(toSign)
		if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStringToSign is the SDK's own share: building the canonical
// string.
func BenchmarkStringToSign(b *testing.B) {
	params, ts := benchParams()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = StringToSign(params, ts)
	}
}

// BenchmarkVerifyNotificationSDK verifies the notification vector through
// the SDK; BenchmarkVerifyRawRSA is the floor over the same string.
func BenchmarkVerifyNotificationSDK(b *testing.B) {
	vf := loadVectors(b, "notification_vectors.json")
	pub := mustPublicKey(b, "fake_hipopay_public.pem")
	tc := vf.Cases[0]
	params := valuesOf(tc.Params)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := VerifyNotificationSignature(pub, params, tc.Timestamp, tc.Signature); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyRawRSA(b *testing.B) {
	vf := loadVectors(b, "notification_vectors.json")
	pub := mustPublicKey(b, "fake_hipopay_public.pem")
	tc := vf.Cases[0]
	toSign := []byte(tc.StringToSign)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		sig, err := base64.StdEncoding.DecodeString(tc.Signature)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256(toSign)
		if err := rsaVerify(pub, digest[:], sig); err != nil {
			b.Fatal(err)
		}
	}
}
