package hipopay

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"slices"
	"testing"
	"time"
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

// BenchmarkSignOverhead times the SDK's signing path and the raw floor
// (SHA-256 + rsa.SignPKCS1v15 over a prebuilt string) back to back in every
// iteration, alternating their order, and reports the medians and the
// SDK's overhead: on a shared, loaded machine this pairing is the figure to
// trust (separate benchmarks drift with the load).
//
//	go test -run '^$' -bench 'SignOverhead' -count 5 .
func BenchmarkSignOverhead(b *testing.B) {
	key := merchantKey(b)
	signer, err := NewSigner(key)
	if err != nil {
		b.Fatal(err)
	}
	params, ts := benchParams()
	sdk := make([]time.Duration, 0, b.N)
	floor := make([]time.Duration, 0, b.N)
	runSDK := func() {
		start := time.Now()
		if _, err := signer.Sign(params, ts); err != nil {
			b.Fatal(err)
		}
		sdk = append(sdk, time.Since(start))
	}
	prebuilt := []byte(StringToSign(params, ts))
	runFloor := func() {
		start := time.Now()
		digest := sha256.Sum256(prebuilt)
		if _, err := key.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
			b.Fatal(err)
		}
		floor = append(floor, time.Since(start))
	}
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			runSDK()
			runFloor()
		} else {
			runFloor()
			runSDK()
		}
	}
	slices.Sort(sdk)
	slices.Sort(floor)
	ms, mf := float64(sdk[len(sdk)/2]), float64(floor[len(floor)/2])
	b.ReportMetric(ms, "sdk-ns")
	b.ReportMetric(mf, "floor-ns")
	b.ReportMetric(100*(ms-mf)/mf, "overhead-%")
}
