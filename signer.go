// Keys and signatures: loading the merchant's RSA key and HipoPay's public
// keys, the canonical to-be-signed strings of requests and notifications,
// signing requests and verifying notifications (RSA PKCS#1 v1.5, SHA-256,
// standard base64). Nothing here knows of HTTP.

package hipopay

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
)

// MinKeyBits is the smallest RSA key the SDK accepts.
const MinKeyBits = 2048

// ParsePrivateKey reads the merchant's RSA private key from PEM: PKCS#1
// ("RSA PRIVATE KEY", OpenSSL 1.x) or PKCS#8 ("PRIVATE KEY", OpenSSL 3).
// It refuses encrypted PEM, non-RSA keys and keys under 2048 bits.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("hipopay: private key: no PEM block found")
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, errors.New("hipopay: private key: encrypted PEM is not supported; decrypt it first (openssl rsa -in key -out plain.key)")
	}
	var key any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("hipopay: private key: encrypted PKCS#8 is not supported; decrypt it first")
	default:
		return nil, fmt.Errorf("hipopay: private key: unexpected PEM block %q (want \"RSA PRIVATE KEY\" or \"PRIVATE KEY\")", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("hipopay: private key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("hipopay: private key: %T is not an RSA key", key)
	}
	if err := checkKeySize(rsaKey.N.BitLen()); err != nil {
		return nil, fmt.Errorf("hipopay: private key: %w", err)
	}
	rsaKey.Precompute()
	return rsaKey, nil
}

// ParsePublicKey reads an RSA public key from PEM: PKIX ("PUBLIC KEY", what
// openssl rsa -pubout writes), PKCS#1 ("RSA PUBLIC KEY") or an X.509
// certificate ("CERTIFICATE"). It refuses non-RSA keys and keys under 2048
// bits.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("hipopay: public key: no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("hipopay: public key: unexpected PEM block %q (want \"PUBLIC KEY\", \"RSA PUBLIC KEY\" or \"CERTIFICATE\")", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("hipopay: public key: %w", err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("hipopay: public key: %T is not an RSA key", key)
	}
	if err := checkKeySize(rsaKey.N.BitLen()); err != nil {
		return nil, fmt.Errorf("hipopay: public key: %w", err)
	}
	return rsaKey, nil
}

// LoadPrivateKey reads a PEM private key file (see ParsePrivateKey).
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hipopay: private key: %w", err)
	}
	return ParsePrivateKey(b)
}

// LoadPublicKey reads a PEM public key or certificate file (see
// ParsePublicKey).
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hipopay: public key: %w", err)
	}
	return ParsePublicKey(b)
}

func checkKeySize(bits int) error {
	if bits < MinKeyBits {
		return fmt.Errorf("RSA key of %d bits is too weak (need at least %d)", bits, MinKeyBits)
	}
	return nil
}

// StringToSign returns the to-be-signed string of a request: the parameters
// sorted by name, joined as name=value with '&', each value percent-encoded
// per RFC 3986 (space is %20, upper-case hex), then ',' and the timestamp.
func StringToSign(params url.Values, timestamp string) string {
	return canonicalQuery(params, true) + "," + timestamp
}

// NotificationStringToSign returns the to-be-signed string of a payment
// notification: like StringToSign but with the raw, unencoded values, as
// HipoPay signs its notifications.
func NotificationStringToSign(params url.Values, timestamp string) string {
	return canonicalQuery(params, false) + "," + timestamp
}

// canonicalQuery sorts params by name and joins them as name=value pairs
// with '&', the values RFC 3986-encoded when encode is set. The encoded form
// is also the request's query string or form body, so that what is sent is
// exactly what was signed.
func canonicalQuery(params url.Values, encode bool) string {
	keys := make([]string, 0, len(params))
	size := 0
	for k, vs := range params {
		keys = append(keys, k)
		for _, v := range vs {
			size += len(k) + len(v) + 2
		}
	}
	sort.Strings(keys)
	if encode {
		size += size / 2
	}
	var b strings.Builder
	b.Grow(size + 16)
	for _, k := range keys {
		for _, v := range params[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			if encode {
				writeRFC3986(&b, v)
			} else {
				b.WriteString(v)
			}
		}
	}
	return b.String()
}

// writeRFC3986 percent-encodes every byte of v except A-Z a-z 0-9 - _ . ~.
func writeRFC3986(b *strings.Builder, v string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// Signer signs requests with the merchant's private key. It is safe for
// concurrent use.
type Signer struct {
	key *rsa.PrivateKey
}

// NewSigner returns a Signer for key; it refuses a nil key and keys under
// 2048 bits.
func NewSigner(key *rsa.PrivateKey) (*Signer, error) {
	if key == nil || key.N == nil || key.D == nil {
		return nil, errors.New("hipopay: private key is nil or empty")
	}
	if err := checkKeySize(key.N.BitLen()); err != nil {
		return nil, fmt.Errorf("hipopay: private key: %w", err)
	}
	return &Signer{key: key}, nil
}

// Sign returns the base64 signature of StringToSign(params, timestamp).
func (s *Signer) Sign(params url.Values, timestamp string) (string, error) {
	return s.SignString(StringToSign(params, timestamp))
}

// SignString signs an already built to-be-signed string: RSA PKCS#1 v1.5
// over its SHA-256, in standard padded base64.
func (s *Signer) SignString(toSign string) (string, error) {
	if s == nil || s.key == nil {
		return "", errors.New("hipopay: signer has no key; use NewSigner")
	}
	digest := sha256.Sum256([]byte(toSign))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("hipopay: signing: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Public returns the public half of the signer's key: what HipoPay holds to
// verify the merchant's requests.
func (s *Signer) Public() *rsa.PublicKey { return &s.key.PublicKey }

// VerifyNotificationSignature checks the Signature header of a payment
// notification against its form fields and Timestamp header, with HipoPay's
// callback public key. Every field received must be in params, unknown ones
// included. Any failure matches errors.Is(err, ErrInvalidSignature).
func VerifyNotificationSignature(pub *rsa.PublicKey, params url.Values, timestamp, signature string) error {
	return VerifySignature(pub, NotificationStringToSign(params, timestamp), signature)
}

// VerifyRequestSignature checks a merchant request's signature the way
// HipoPay does (the RFC 3986-encoded form of StringToSign), with the
// merchant's public key. A fake HipoPay or a debugging merchant uses it.
func VerifyRequestSignature(pub *rsa.PublicKey, params url.Values, timestamp, signature string) error {
	return VerifySignature(pub, StringToSign(params, timestamp), signature)
}

// strictBase64 is standard base64 that refuses stray bits in the last
// character: one text per signature.
var strictBase64 = base64.StdEncoding.Strict()

// VerifySignature checks a base64 RSA PKCS#1 v1.5 SHA-256 signature of an
// already built to-be-signed string. Any failure matches
// errors.Is(err, ErrInvalidSignature).
func VerifySignature(pub *rsa.PublicKey, toSign, signature string) error {
	if pub == nil || pub.N == nil {
		return fmt.Errorf("%w: no public key to verify with", ErrInvalidSignature)
	}
	if signature == "" {
		return fmt.Errorf("%w: signature is missing", ErrInvalidSignature)
	}
	// The signature of a 2048- to 16384-bit key is at most 2048 bytes.
	if len(signature) > 4096 {
		return fmt.Errorf("%w: signature is too long", ErrInvalidSignature)
	}
	// Whitespace is never base64: a folded or padded header still decodes.
	signature = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, signature)
	sig, err := strictBase64.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("%w: signature is not base64", ErrInvalidSignature)
	}
	digest := sha256.Sum256([]byte(toSign))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidSignature, err)
	}
	return nil
}
