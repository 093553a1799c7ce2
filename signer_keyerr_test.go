package hipopay

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertNoWindowOf fails when msg holds any 16-byte run of input.
func assertNoWindowOf(t *testing.T, input []byte, msg, name string) {
	t.Helper()
	for i := 0; i+16 <= len(input); i++ {
		if w := input[i : i+16]; strings.Contains(msg, string(w)) {
			t.Errorf("%s: error %q holds %q of the input", name, msg, w)
			return
		}
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return b
}

// The key itself passed where its path belongs (HIPOPAY_PRIVATE_KEY holding
// the PEM text) is named for what it is and never echoed.
func TestLoadKeyWithPEMTextAsPath(t *testing.T) {
	for _, name := range []string{"merchant_private_pkcs8.pem", "merchant_private_pkcs1.pem"} {
		pemText := readTestdata(t, name)
		for label, path := range map[string]string{
			"as is":      string(pemText),
			"one line":   strings.ReplaceAll(string(pemText), "\n", " "),
			"no newline": strings.TrimSpace(string(pemText)),
		} {
			_, err := LoadPrivateKey(path)
			require.Error(t, err, name+"/"+label)
			assert.Contains(t, err.Error(), "hipopay: private key path looks like PEM text, not a path", name+"/"+label)
			assertNoWindowOf(t, []byte(path), err.Error(), name+"/"+label)
			assert.NotContains(t, err.Error(), "PRIVATE KEY-----")
		}
	}
	pubText := readTestdata(t, "merchant_public.pem")
	_, err := LoadPublicKey(string(pubText))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "hipopay: public key path looks like PEM text, not a path")
	assertNoWindowOf(t, pubText, err.Error(), "public PEM as path")
}

// Paths that are not plausible paths (long, multi-line, base64 key
// material) are never echoed; a short plausible one is named.
func TestLoadKeyPathErrorsDoNotEchoImplausiblePaths(t *testing.T) {
	block, _ := pem.Decode(readTestdata(t, "merchant_private_pkcs8.pem"))
	require.NotNil(t, block)
	b64 := base64.StdEncoding.EncodeToString(block.Bytes)
	body := strings.SplitN(string(readTestdata(t, "merchant_private_pkcs8.pem")), "\n", 2)[1]
	long := "/tmp/" + strings.Repeat("secretsecretsecret/", 30) + "key.pem"
	for name, path := range map[string]string{
		"base64 DER":         b64,
		"PEM body, no BEGIN": body,
		"multi-line":         "line one of something\nline two of something",
		"long":               long,
	} {
		for kind, load := range map[string]func(string) error{
			"private": func(p string) error { _, err := LoadPrivateKey(p); return err },
			"public":  func(p string) error { _, err := LoadPublicKey(p); return err },
		} {
			err := load(path)
			require.Error(t, err, name)
			assertNoWindowOf(t, []byte(path), err.Error(), kind+"/"+name)
			assert.Contains(t, err.Error(), "hipopay: "+kind+" key", name)
		}
	}
	_, err := LoadPrivateKey(long)
	assert.True(t, errors.Is(err, fs.ErrNotExist), "the os error stays reachable: %v", err)

	_, err = LoadPrivateKey("testdata/does-not-exist.pem")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "testdata/does-not-exist.pem", "a plausible path is named")
	assert.True(t, errors.Is(err, fs.ErrNotExist))
	_, err = LoadPrivateKey("")
	assert.Error(t, err)
}

// No error of ParsePrivateKey or ParsePublicKey holds the input's bytes,
// whatever the input.
func TestParseKeyErrorsNeverHoldInput(t *testing.T) {
	pkcs8 := readTestdata(t, "merchant_private_pkcs8.pem")
	pkcs1 := readTestdata(t, "merchant_private_pkcs1.pem")
	pub := readTestdata(t, "merchant_public.pem")
	block, _ := pem.Decode(pkcs8)
	require.NotNil(t, block)
	der := block.Bytes
	garbage := make([]byte, 2048)
	_, err := rand.Read(garbage)
	require.NoError(t, err)
	corruptDER := bytes.Clone(der)
	for i := 40; i < len(corruptDER); i += 7 {
		corruptDER[i] ^= 0x5a
	}
	truncated := pkcs8[:len(pkcs8)-40]
	inputs := map[string][]byte{
		"garbage":              garbage,
		"garbage text":         bytes.Repeat([]byte("this is not a key at all, "), 40),
		"DER":                  der,
		"base64 DER":           []byte(base64.StdEncoding.EncodeToString(der)),
		"PEM body, no BEGIN":   []byte(strings.SplitN(string(pkcs8), "\n", 2)[1]),
		"truncated PEM":        truncated,
		"corrupt DER in PEM":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: corruptDER}),
		"corrupt PKCS#1":       pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: corruptDER}),
		"corrupt public":       pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: corruptDER}),
		"corrupt certificate":  pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: corruptDER}),
		"PKCS#8 labelled #1":   pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}),
		"odd block type":       pem.EncodeToMemory(&pem.Block{Type: "SECRET MATERIAL OF ACME CORP LTD", Bytes: der}),
		"openssh type":         pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: der}),
		"encrypted header":     pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,0123456789ABCDEF0123456789ABCDEF"}, Bytes: der}),
		"encrypted PKCS#8":     pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der}),
		"private as public":    pkcs8,
		"PKCS#1 as public":     pkcs1,
		"public as private":    pub,
		"PEM text with no END": []byte(strings.Replace(string(pkcs1), "-----END", "-----FIN", 1)),
	}
	for name, in := range inputs {
		for kind, parse := range map[string]func([]byte) error{
			"private": func(b []byte) error { _, err := ParsePrivateKey(b); return err },
			"public":  func(b []byte) error { _, err := ParsePublicKey(b); return err },
		} {
			if (name == "private as public" || name == "PKCS#1 as public") && kind == "private" ||
				name == "public as private" && kind == "public" {
				continue // these parse
			}
			err := parse(in)
			require.Error(t, err, kind+"/"+name)
			assertNoWindowOf(t, in, err.Error(), kind+"/"+name)
			assert.True(t, strings.HasPrefix(err.Error(), "hipopay: "+kind+" key"), "%s/%s: %v", kind, name, err)

			// The same bytes in a file: LoadPrivateKey/LoadPublicKey do not
			// echo the file's content either.
			path := t.TempDir() + "/key.pem"
			require.NoError(t, os.WriteFile(path, in, 0o600))
			var lerr error
			if kind == "private" {
				_, lerr = LoadPrivateKey(path)
			} else {
				_, lerr = LoadPublicKey(path)
			}
			require.Error(t, lerr)
			assertNoWindowOf(t, in, lerr.Error(), "load "+kind+"/"+name)
		}
	}
}

// Errors say what the input looks like, so that the mistake is plain
// without the input.
func TestParseKeyErrorsDescribeTheInput(t *testing.T) {
	pkcs8 := readTestdata(t, "merchant_private_pkcs8.pem")
	block, _ := pem.Decode(pkcs8)
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"base64":  {[]byte(base64.StdEncoding.EncodeToString(block.Bytes)), "base64"},
		"DER":     {block.Bytes, "DER"},
		"empty":   {nil, "empty"},
		"openssh": {pem.EncodeToMemory(&pem.Block{Type: "OPENSSH PRIVATE KEY", Bytes: []byte{1}}), "OpenSSH"},
		"ec":      {pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: []byte{1}}), "EC"},
	} {
		_, err := ParsePrivateKey(tc.in)
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
}
