// Keys and signatures: loading the merchant's RSA key and HipoPay's public
// keys, the canonical to-be-signed strings of requests and notifications,
// signing requests and verifying notifications (RSA PKCS#1 v1.5, SHA-256,
// standard base64). Nothing here knows of HTTP.

package hipopay

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"unicode/utf8"
)

// MinKeyBits is the size of the smallest RSA key the SDK accepts.
const MinKeyBits = 2048

// ParsePrivateKey reads the merchant's RSA private key from PEM: PKCS#1
// ("RSA PRIVATE KEY", OpenSSL 1.x) or PKCS#8 ("PRIVATE KEY", OpenSSL 3),
// after any UTF-8 BOM, blank lines or other whitespace.
//
// Input that is not PEM, encrypted PEM, a non-RSA key and a key under
// [MinKeyBits] are errors. No error holds any byte of pemBytes: it says
// what the input looks like instead.
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	const kind = "private key"
	block, err := decodeKeyPEM(kind, pemBytes)
	if err != nil {
		return nil, err
	}
	if _, encrypted := block.Headers["Proc-Type"]; encrypted {
		return nil, errors.New("hipopay: private key: encrypted PEM is not supported; decrypt it first (openssl rsa -in key -out plain.key)")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("hipopay: private key: encrypted PKCS#8 is not supported; decrypt it first (openssl pkcs8 -in key -out plain.key)")
	default:
		return nil, fmt.Errorf("hipopay: private key: the PEM block is %s, want PKCS#1 (RSA PRIVATE KEY) or PKCS#8 (PRIVATE KEY)", describeBlockType(block.Type))
	}
	if err != nil {
		return nil, wrapKeyError(kind, pemBytes, err)
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
// certificate ("CERTIFICATE"), after any UTF-8 BOM or whitespace.
//
// Input that is not PEM, a non-RSA key and a key under [MinKeyBits] are
// errors; no error holds any byte of pemBytes.
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	const kind = "public key"
	block, err := decodeKeyPEM(kind, pemBytes)
	if err != nil {
		return nil, err
	}
	var key any
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
		return nil, fmt.Errorf("hipopay: public key: the PEM block is %s, want PKIX (PUBLIC KEY), PKCS#1 (RSA PUBLIC KEY) or a certificate", describeBlockType(block.Type))
	}
	if err != nil {
		return nil, wrapKeyError(kind, pemBytes, err)
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

// LoadPrivateKey reads the merchant's private key from the PEM file at path
// (see [ParsePrivateKey]).
//
// The key's own text passed as path is an error ("looks like PEM text, not
// a path") that does not echo it; an os error names path only when it is
// short and on one line; the file's content is never in an error.
func LoadPrivateKey(path string) (*rsa.PrivateKey, error) {
	b, err := readKeyFile("private key", path)
	if err != nil {
		return nil, err
	}
	return ParsePrivateKey(b)
}

// LoadPublicKey reads an RSA public key from the PEM key or certificate
// file at path (see [ParsePublicKey]). Its errors follow
// [LoadPrivateKey]'s rules.
func LoadPublicKey(path string) (*rsa.PublicKey, error) {
	b, err := readKeyFile("public key", path)
	if err != nil {
		return nil, err
	}
	return ParsePublicKey(b)
}

func checkKeySize(bits int) error {
	if bits < MinKeyBits {
		return fmt.Errorf("RSA key of %d bits is too weak (need at least %d)", bits, MinKeyBits)
	}
	return nil
}

// maxShownPath is the longest path a key loading error names; a longer
// one is more likely key material than a path.
const maxShownPath = 200

// readKeyFile reads the key file at path for LoadPrivateKey and
// LoadPublicKey. Its errors name path only when it is a plausible path:
// the key itself passed as path must never reach an error string.
func readKeyFile(kind, path string) ([]byte, error) {
	if path == "" {
		return nil, fmt.Errorf("hipopay: %s: the path is empty", kind)
	}
	if strings.Contains(path, "-----BEGIN") || strings.Contains(path, "-----END") {
		return nil, fmt.Errorf("hipopay: %s path looks like PEM text, not a path", kind)
	}
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	if plausiblePath(path) {
		return nil, fmt.Errorf("hipopay: %s: %w", kind, err)
	}
	cause := err
	var pe *fs.PathError
	if errors.As(err, &pe) {
		cause = pe.Err // without the path
	}
	switch {
	case strings.ContainsAny(path, "\r\n"):
		return nil, fmt.Errorf("hipopay: %s path looks like multi-line text, not a path (%d bytes, not shown): %w", kind, len(path), cause)
	case isBase64Text(path):
		return nil, fmt.Errorf("hipopay: %s path looks like base64 text, not a path (%d bytes, not shown): %w", kind, len(path), cause)
	default:
		return nil, fmt.Errorf("hipopay: %s: cannot read the file (its path of %d bytes is not shown): %w", kind, len(path), cause)
	}
}

// plausiblePath reports whether path may be named in an error: short,
// printable, on one line, and not base64 text.
func plausiblePath(path string) bool {
	if len(path) > maxShownPath || !utf8.ValidString(path) || isBase64Text(path) {
		return false
	}
	for _, r := range path {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// isBase64Text reports whether s is a long run of the base64 alphabet, as
// key material is and a path hardly ever is (paths have '.', '-' or '_').
func isBase64Text(s string) bool {
	if len(s) < 64 {
		return false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/', c == '=':
			n++
		case c == ' ', c == '\t', c == '\r', c == '\n':
		default:
			return false
		}
	}
	return n >= 64
}

// decodeKeyPEM finds the PEM block of a key after any UTF-8 BOM and
// whitespace (openssl skips them; pem.Decode wants "-----BEGIN" at the
// start of a line). When there is none, the error says what the input
// looks like, never what it holds.
func decodeKeyPEM(kind string, data []byte) (*pem.Block, error) {
	data = trimKeyPrefix(data)
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("hipopay: %s: no PEM block found; the input is %s", kind, describeKeyInput(data))
	}
	return block, nil
}

// trimKeyPrefix drops the UTF-8 byte order marks and whitespace before a
// key's text.
func trimKeyPrefix(b []byte) []byte {
	for {
		switch {
		case bytes.HasPrefix(b, []byte(utf8BOM)):
			b = b[len(utf8BOM):]
		case len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' || b[0] == '\v' || b[0] == '\f'):
			b = b[1:]
		default:
			return b
		}
	}
}

// describeKeyInput names the kind of data (trimmed by trimKeyPrefix) that
// is not a PEM key.
func describeKeyInput(b []byte) string {
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return "empty"
	case bytes.Contains(b, []byte("-----BEGIN")):
		return "PEM text without a complete block (is the -----END line missing or changed?)"
	case b[0] == 0x30 && !utf8.Valid(b):
		return "binary DER, not PEM (convert it: openssl pkey -inform DER -in key.der -out key.pem)"
	case isBase64Text(string(b)):
		return "base64 text without its -----BEGIN and -----END lines"
	case utf8.Valid(b):
		return "text that is not PEM"
	default:
		return "binary data that is not PEM"
	}
}

// describeBlockType names a PEM block type without quoting it.
func describeBlockType(t string) string {
	switch t {
	case "RSA PRIVATE KEY", "PRIVATE KEY":
		return "a private key"
	case "ENCRYPTED PRIVATE KEY":
		return "an encrypted private key"
	case "EC PRIVATE KEY":
		return "an EC private key (HipoPay needs RSA)"
	case "DSA PRIVATE KEY":
		return "a DSA private key (HipoPay needs RSA)"
	case "OPENSSH PRIVATE KEY":
		return "an OpenSSH private key (convert it: ssh-keygen -p -m PEM -f key)"
	case "PUBLIC KEY", "RSA PUBLIC KEY":
		return "a public key"
	case "CERTIFICATE":
		return "a certificate"
	case "CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST":
		return "a certificate request"
	default:
		return "of another type (not shown)"
	}
}

// keyError is a key parsing error whose text quotes nothing of the input;
// the parser's own error stays reachable with errors.As.
type keyError struct {
	msg string
	err error
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.err }

// wrapKeyError wraps a parser error of input. The parsers' messages do not
// quote their input today (a certificate's names may be quoted), so its
// text is kept only when no 16-byte run of it is found in input.
func wrapKeyError(kind string, input []byte, err error) error {
	text := err.Error()
	for i := 0; i+16 <= len(text); i++ {
		if bytes.Contains(input, []byte(text[i:i+16])) {
			text = "the PEM block does not parse (the parser's message quotes the input and is not shown)"
			break
		}
	}
	return &keyError{msg: "hipopay: " + kind + ": " + text, err: err}
}

// StringToSign returns the to-be-signed string of a request: the
// parameters sorted by name, joined as name=value with '&', then ',' and
// the timestamp. Values follow HipoPay's documented encoding: A-Z a-z 0-9
// _ . - are kept and every other byte is %XX in upper-case hex, so a space
// is %20, '~' is %7E and '*' is %2A. [Signer.Sign] signs it.
func StringToSign(params url.Values, timestamp string) string {
	return buildCanonical(params, valuesDocumented) + "," + timestamp
}

// NotificationStringToSign returns the to-be-signed string of a payment
// notification: like [StringToSign] but with the raw, unencoded values, as
// HipoPay signs its notifications.
func NotificationStringToSign(params url.Values, timestamp string) string {
	return buildCanonical(params, valuesRaw) + "," + timestamp
}

// valueForm says how buildCanonical writes the values.
type valueForm uint8

const (
	valuesRaw        valueForm = iota // as received: notifications
	valuesDocumented                  // HipoPay's documented rule: '~' is %7E
	valuesTildeKept                   // RFC 3986: '~' kept raw
)

// buildCanonical sorts params by name and joins them as name=value pairs
// with '&', the values written as form says. An encoded form is also the
// request's query string or form body, so that what is sent is exactly
// what was signed.
func buildCanonical(params url.Values, form valueForm) string {
	keys := make([]string, 0, len(params))
	size := 0
	for k, vs := range params {
		keys = append(keys, k)
		for _, v := range vs {
			size += len(k) + len(v) + 2
		}
	}
	sort.Strings(keys)
	if form != valuesRaw {
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
			switch form {
			case valuesRaw:
				b.WriteString(v)
			default:
				writeEncoded(&b, v, form == valuesTildeKept)
			}
		}
	}
	return b.String()
}

// writeEncoded percent-encodes v by HipoPay's documented rule (Python 2's
// urllib.quote(v, safe="")): every byte but A-Z a-z 0-9 _ . - becomes %XX
// in upper-case hex. keepTilde keeps '~' raw as well (RFC 3986).
func writeEncoded(b *strings.Builder, v string, keepTilde bool) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' && keepTilde {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

// Signer signs requests with the merchant's private key: RSA PKCS#1 v1.5
// over SHA-256, in standard padded base64. It is safe for concurrent use.
type Signer struct {
	key *rsa.PrivateKey
}

// NewSigner returns a [Signer] for key. A nil key and a key under
// [MinKeyBits] are errors.
func NewSigner(key *rsa.PrivateKey) (*Signer, error) {
	if key == nil || key.N == nil || key.D == nil {
		return nil, errors.New("hipopay: private key is nil or empty")
	}
	if err := checkKeySize(key.N.BitLen()); err != nil {
		return nil, fmt.Errorf("hipopay: private key: %w", err)
	}
	return &Signer{key: key}, nil
}

// Sign returns the base64 signature of [StringToSign](params, timestamp).
// It fails only for a Signer not made by [NewSigner] or an invalid key.
func (s *Signer) Sign(params url.Values, timestamp string) (string, error) {
	return s.SignString(StringToSign(params, timestamp))
}

// SignString returns the base64 signature of an already built
// to-be-signed string, e.g. [NotificationStringToSign]'s in a fake
// HipoPay. It fails as [Signer.Sign] does.
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

// VerifyNotificationSignature checks the Signature header of a payment
// notification against its form fields and Timestamp header (over
// [NotificationStringToSign]), with HipoPay's callback public key. Every
// field received must be in params, unknown ones included.
//
// A wrong, missing or malformed signature and a nil key match
// [ErrInvalidSignature].
func VerifyNotificationSignature(pub *rsa.PublicKey, params url.Values, timestamp, signature string) error {
	return VerifySignature(pub, NotificationStringToSign(params, timestamp), signature)
}

// VerifyRequestSignature checks a merchant request's signature as HipoPay
// documents it (over [StringToSign], '~' as %7E), with the merchant's
// public key: what a fake HipoPay does. Any failure matches
// [ErrInvalidSignature].
func VerifyRequestSignature(pub *rsa.PublicKey, params url.Values, timestamp, signature string) error {
	return VerifySignature(pub, StringToSign(params, timestamp), signature)
}

// strictBase64 is standard base64 that refuses stray bits in the last
// character: one text per signature.
var strictBase64 = base64.StdEncoding.Strict()

// VerifySignature checks a base64 RSA PKCS#1 v1.5 SHA-256 signature of an
// already built to-be-signed string. Any failure matches
// [ErrInvalidSignature].
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
	if strings.ContainsAny(signature, " \t\r\n") {
		signature = strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, signature)
	}
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
