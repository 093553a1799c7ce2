package hipopay

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Fuzz targets of the parsers of outside data and of the canonical form.
// Seed corpora live in testdata/fuzz/<target>/; .ci/run fuzzes each target
// for about 10 s:
//
//	go test -run '^$' -fuzz '^FuzzCanonicalRoundTrip$' -fuzztime 10s .

var fuzzKey struct {
	once sync.Once
	key  *rsa.PrivateKey
}

func fuzzSigner(t *testing.T) *Signer {
	fuzzKey.once.Do(func() { fuzzKey.key = merchantKey(t) })
	s, err := NewSigner(fuzzKey.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzCanonicalRoundTrip signs arbitrary parameters and checks that the
// signature verifies over the same parameters as HipoPay decodes them from
// the wire (the documented form parsed back), and not over other ones.
func FuzzCanonicalRoundTrip(f *testing.F) {
	f.Add("amount", "8.88", "product_info", "抹茶ラテ 2杯 & 蛋糕/cake (50% off)", "1550548767")
	f.Add("a", "", "b", "+ %20 =&,", "0")
	f.Add("notify_url", "https://m.example/n?x=1&y=2", "z", "\x00\xff", "1700000000")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, ts string) {
		// Parameter names are plain ASCII identifiers (PROTOCOL.md); only
		// values are encoded.
		if !isIdentifier(k1) || !isIdentifier(k2) {
			return
		}
		params := url.Values{}
		params.Add(k1, v1)
		params.Add(k2, v2)
		signer := fuzzSigner(t)
		sig, err := signer.Sign(params, ts)
		if err != nil {
			t.Fatal(err)
		}
		wire := buildCanonical(params, valuesDocumented)
		for i := 0; i < len(wire); i++ {
			// Names are identifiers; values keep only A-Z a-z 0-9 _ . -.
			if c := wire[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_.-%&=", c) >= 0) {
				t.Fatalf("unencoded byte %q in %q", c, wire)
			}
		}
		if err := VerifyRequestSignature(&fuzzKey.key.PublicKey, params, ts, sig); err != nil {
			t.Fatalf("round trip failed: %v", err)
		}
		// What a server reads back from the body is what was signed.
		if back, err := url.ParseQuery(wire); err != nil || StringToSign(back, ts) != StringToSign(params, ts) {
			t.Fatalf("the wire form %q does not decode to the signed values (%v)", wire, err)
		}
		other := url.Values{}
		other.Add(k1, v1+"x")
		other.Add(k2, v2)
		if err := VerifyRequestSignature(&fuzzKey.key.PublicKey, other, ts, sig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("a changed value verified: %v", err)
		}
	})
}

// FuzzDecodeResponse feeds arbitrary answers to the response decoder: it
// never panics, and never returns success without a decoded response.
func FuzzDecodeResponse(f *testing.F) {
	f.Add(200, []byte(`{"is_success": true, "response": {"amount": "0.10", "trade_time": "2018-08-13 16:33:16"}}`))
	f.Add(200, []byte(`{"is_success": True, "response": {"amount": 1,},}`))
	f.Add(200, []byte(`{"is_success": "False", "error": "PAYMENT_NOT_FOUND"}`))
	f.Add(502, []byte(`<html>502</html>`))
	f.Add(200, []byte(`{"is_success": true, "response": {"raw_response": "{\"modify_time\": \"20190403171704\"}"}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		env, err := decodeEnvelope(status, body)
		if err != nil {
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %T is not an *APIError", err)
			}
			if len(apiErr.Body) > errorSnippetBytes+3 {
				t.Fatalf("snippet of %d bytes", len(apiErr.Body))
			}
			return
		}
		if env == nil || !env.IsSuccess {
			t.Fatal("success without an envelope")
		}
		var p Payment
		if unmarshalLenient(env.Response, &p) == nil {
			_, _ = json.Marshal(p)
		}
		var d Declaration
		if unmarshalLenient(env.Response, &d) == nil {
			_, _ = json.Marshal(d)
		}
		var r Refund
		_ = unmarshalLenient(env.Response, &r)
	})
}

func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
func FuzzParseNotificationRequest(f *testing.F) {
	fx := newNotifyFixture(f)
	for _, c := range fx.vf.Cases {
		f.Add(valuesOf(c.Params).Encode(), c.Timestamp, c.Signature)
	}
	f.Add("a=%zz&b", "", "")
	f.Add("promotion_detail=%5B%7B&payment_no=1", "1", "AAAA")
	f.Add("payment_no=1&promotion_detail="+url.QueryEscape(`[{"name":"x","amount":1.5,"scope":null}]`), "1", "AAAA")
	f.Fuzz(func(t *testing.T, body, ts, sig string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", sig)
		n, err := ParseNotificationRequest(fx.pub, r, 4096)
		if err == nil {
			require.NotEmpty(t, n.PaymentNo)
		} else if len(sig) >= 16 {
			require.NotContains(t, err.Error(), sig)
		}
		// The typing that follows verification, on whatever the body holds.
		if fields, err := parseNotificationBody(body); err == nil {
			checkNotificationTyping(t, fields)
		}
	})
}

func FuzzParseNotificationBody(f *testing.F) {
	for _, body := range formBodies {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkFormParser(t, body)
	})
}

// FuzzNotificationPromotionDetail types the response_version 3.0 vector
// with promotion_detail replaced by the fuzzer's text.
func FuzzNotificationPromotionDetail(f *testing.F) {
	fx := newNotifyFixture(f)
	v3, _, _ := fx.vector(f, "paid_response_version_3")
	for _, in := range []string{
		v3.Get("promotion_detail"), "", "null", "[]", "[null]", `{"name":"x","extra":{"a":1}}`,
		`[{"activity_id":931386,"amount":1.5e2,"promotion_id":-0},{"name":"b","amount":"0.50"}]`,
		`[{"name":null,"scope":true,"type":"esc\"aped \u00fc"}]`, `[{"Name":"x","name":"y"}]`,
		`[{"name":{"a":1}}]`, `[{"name":{},"name":"x"}]`, `[[]]`, `[1]`, `[{"name":"x"},]`, `[{'name': 'x'}]`, `[{`,
	} {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkNotificationTyping(t, withField(v3, "promotion_detail", text, false))
	})
}

// checkNotificationTyping checks notificationOf on fields as verification
// passes them on: only a missing payment_no is an error, and
// promotion_detail is typed as promotionOracle says, or else left nil and
// named in Unparsed.
func checkNotificationTyping(t *testing.T, fields url.Values) {
	t.Helper()
	n, err := notificationOf(fields, "1700000000")
	if fields.Get("payment_no") == "" {
		require.ErrorIs(t, err, ErrMalformedNotification)
		return
	}
	require.NoError(t, err)
	text := fields.Get("promotion_detail")
	want, ok := promotionOracle(text)
	if !ok {
		require.Nil(t, n.PromotionDetail, "%q", text)
		require.Contains(t, n.Unparsed, "promotion_detail", "%q", text)
		return
	}
	require.NotContains(t, n.Unparsed, "promotion_detail", "%q", text)
	require.Equal(t, want, n.PromotionDetail, "%q", text)
	// What was decoded encodes and decodes back the same.
	b, err := json.Marshal(n.PromotionDetail)
	require.NoError(t, err)
	back, err := parsePromotions(string(b))
	require.NoError(t, err)
	require.Equal(t, want, back, "%s", b)
}

// promotionOracle decodes promotion_detail by the rules Promotion's doc
// and parsePromotions' state, element by element with json.RawMessage
// leaves: ok is false where it must be refused.
func promotionOracle(text string) (out []Promotion, ok bool) {
	text = strings.TrimSpace(text)
	if text == "" || text == "null" {
		return nil, true
	}
	if !json.Valid([]byte(text)) {
		return nil, false
	}
	var elems []json.RawMessage
	switch text[0] {
	case '{':
		elems = []json.RawMessage{json.RawMessage(text)}
	case '[':
		if json.Unmarshal([]byte(text), &elems) != nil {
			return nil, false
		}
	default:
		return nil, false
	}
	out = []Promotion{}
	for _, e := range elems {
		var leaves struct {
			ActivityID  oracleLeaf `json:"activity_id"`
			Name        oracleLeaf `json:"name"`
			Amount      oracleLeaf `json:"amount"`
			PromotionID oracleLeaf `json:"promotion_id"`
			Scope       oracleLeaf `json:"scope"`
			Type        oracleLeaf `json:"type"`
		}
		if json.Unmarshal(e, &leaves) != nil {
			return nil, false // not an object
		}
		var p Promotion
		for _, l := range []struct {
			leaf *oracleLeaf
			dst  *string
		}{
			{&leaves.ActivityID, &p.ActivityID}, {&leaves.Name, &p.Name}, {&leaves.Amount, &p.Amount},
			{&leaves.PromotionID, &p.PromotionID}, {&leaves.Scope, &p.Scope}, {&leaves.Type, &p.Type},
		} {
			if l.leaf.nested {
				return nil, false // an object or array as a value
			}
			switch v := l.leaf.last; {
			case len(v) == 0 || string(v) == "null":
			case v[0] == '"':
				if json.Unmarshal(v, l.dst) != nil {
					return nil, false
				}
			default:
				*l.dst = string(v) // a number or boolean, as its text
			}
		}
		out = append(out, p)
	}
	return out, true
}

// oracleLeaf keeps a field's last value and whether any occurrence of it
// was an object or an array.
type oracleLeaf struct {
	last   json.RawMessage
	nested bool
}

func (o *oracleLeaf) UnmarshalJSON(b []byte) error {
	o.last = append(o.last[:0], b...)
	o.nested = o.nested || b[0] == '{' || b[0] == '['
	return nil
}

// recutTarget is a signed notification FuzzNotificationRecut re-cuts.
type recutTarget struct {
	pairs   [][2]string
	ts, sig string
	pub     *rsa.PublicKey
}

// recutTargets are HipoPay's own two notifications and one signed with the
// test key whose values hold '=' and ',' (which HipoPay's may), the last
// one just before the timestamp.
func recutTargets(t testing.TB) []recutTarget {
	var out []recutTarget
	for _, real := range loadRealNotifications(t) {
		out = append(out, recutTarget{real.Pairs, real.Timestamp, real.Signature, real.pub(t)})
	}
	fx := newNotifyFixture(t)
	fields, ts, _ := fx.vector(t, "paid_basic")
	pairs := [][2]string{{"memo", "a=b=c"}, {"zz_note", "k=v,1"}}
	for name := range fields {
		pairs = append(pairs, [2]string{name, fields.Get(name)})
	}
	return append(out, recutTarget{pairs, ts, fx.sign(t, valuesOf(pairs), ts), fx.pub})
}

// bitReader reads the fuzzer's bytes as choices; past the end every
// choice is 0.
type bitReader struct {
	b []byte
	i int
}

func (r *bitReader) next() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// recut cuts the signed string s = "n1=v1&n2=v2&...,ts" into fields and a
// timestamp as the choices in r say: which ',' ends the fields, which '&'
// separate fields, which '=' separates each name from its value, and
// whether a field is dropped or doubled. All-zero choices give the cut
// HipoPay signed.
func recut(s string, r *bitReader) (url.Values, string) {
	commas := strings.Count(s, ",")
	k := int(r.next()) % commas // 0: the last ','
	end := len(s)
	for range k + 1 {
		end = strings.LastIndexByte(s[:end], ',')
	}
	body, ts := s[:end], s[end+1:]
	var segments []string
	start := 0
	for i := 0; i < len(body); i++ {
		if body[i] == '&' && r.next()%4 != 1 { // 1 in 4 merges
			segments = append(segments, body[start:i])
			start = i + 1
		}
	}
	segments = append(segments, body[start:])
	fields := url.Values{}
	for _, seg := range segments {
		eqs := strings.Count(seg, "=")
		name, value := seg, ""
		if eqs > 0 {
			n := int(r.next()) % eqs // 0: the first '='
			at := -1
			for range n + 1 {
				at += 1 + strings.IndexByte(seg[at+1:], '=')
			}
			name, value = seg[:at], seg[at+1:]
		}
		switch r.next() % 16 {
		case 1: // dropped
		case 2: // doubled
			fields.Add(name, value)
			fields.Add(name, value)
		default:
			fields.Add(name, value)
		}
	}
	return fields, ts
}

// FuzzNotificationRecut re-cuts signed notifications at random (moving
// "&name=value" pieces into neighbours' values or names, splitting at
// another '=', moving the timestamp's ',') and checks that the handler's
// function, and every parsing layer, only ever sees exactly the field set
// and timestamp that were signed.
func FuzzNotificationRecut(f *testing.F) {
	targets := recutTargets(f)
	f.Add(uint8(0), []byte{})
	f.Add(uint8(1), []byte{0, 1, 0, 0, 1})
	f.Add(uint8(2), []byte{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1})
	f.Add(uint8(2), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(uint8(0), []byte{0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2})
	f.Fuzz(func(t *testing.T, which uint8, choices []byte) {
		tg := targets[int(which)%len(targets)]
		signed := valuesOf(tg.pairs)
		fields, ts := recut(NotificationStringToSign(signed, tg.ts), &bitReader{b: choices})
		genuine := ts == tg.ts && reflect.DeepEqual(fields, signed)

		var seen []*PaymentNotification
		h := NewNotificationHandler(tg.pub, func(_ context.Context, n *PaymentNotification) error {
			seen = append(seen, n)
			return nil
		}, WithHandlerLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		r := httptest.NewRequest(http.MethodPost, "/notify", strings.NewReader(fields.Encode()))
		r.Header.Set("Timestamp", ts)
		r.Header.Set("Signature", tg.sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		for _, n := range seen {
			if !reflect.DeepEqual(n.Fields, signed) || n.Timestamp != tg.ts {
				t.Fatalf("fn saw fields %v at %q; HipoPay signed %v at %q", n.Fields, n.Timestamp, signed, tg.ts)
			}
		}
		if genuine != (w.Code == http.StatusOK) || genuine != (len(seen) == 1) {
			t.Fatalf("genuine cut: %v; answer %d, fn ran %d times (fields %v, timestamp %q)", genuine, w.Code, len(seen), fields, ts)
		}
		if n, err := ParseNotificationForm(tg.pub, fields, ts, tg.sig); err == nil {
			if !reflect.DeepEqual(n.Fields, signed) || n.Timestamp != tg.ts {
				t.Fatalf("ParseNotificationForm returned fields %v at %q", n.Fields, n.Timestamp)
			}
		} else if genuine {
			t.Fatalf("the genuine cut was refused: %v", err)
		}
	})
}
