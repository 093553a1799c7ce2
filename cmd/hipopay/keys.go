// Keys and signatures: keygen, sign, verify-notification.

package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	hipopay "github.com/hipopay-go/hipopay"
)

// runKeygen writes a fresh merchant key pair into -dir as openssl does:
// the private key as PKCS#8 PEM (mode 0600), the public key as PKIX PEM
// (what HipoPay is sent). It never overwrites a file unless -force.
func runKeygen(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("keygen", "", stderr)
	dir := fs.String("dir", "", "directory to write private.pem and public.pem to, made if missing (required: choose where your private key lives, outside any repository)")
	out := fs.String("out", "", "the older name of -dir")
	bits := fs.Int("bits", 2048, "RSA key size in bits (at least 2048)")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems usageProblems
	switch {
	case *dir == "":
		*dir = *out
	case *out != "" && *out != *dir:
		problems.invalidf("-dir %q and -out %q differ (-out is the older name of -dir)", *dir, *out)
	}
	problems.require("dir", *dir)
	if *bits < hipopay.MinKeyBits {
		problems.invalidf("-bits %d is under %d", *bits, hipopay.MinKeyBits)
	}
	if fs.NArg() > 0 {
		problems.invalidf("unexpected arguments %q", fs.Args())
	}
	if err := problems.report(fs); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, *bits)
	if err != nil {
		return err
	}
	privPath, pubPath, err := writeKeyPair(*dir, "private.pem", "public.pem", key, *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "private key: %s (keep it secret)\npublic key:  %s (send it to HipoPay)\n", privPath, pubPath)
	if repo := enclosingRepository(*dir); repo != "" {
		fmt.Fprintf(stderr, "hipopay keygen: warning: %s is inside the git repository %s: never commit the private key (git check-ignore -v %s)\n",
			*dir, repo, privPath)
	}
	return nil
}

// enclosingRepository returns the root of the git work tree holding dir,
// or "" when there is none.
func enclosingRepository(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for d := abs; ; {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// writeKeyPair writes key's PKCS#8 private PEM (0600) and PKIX public PEM
// (0644) into dir, refusing to overwrite unless force.
func writeKeyPair(dir, privName, pubName string, key *rsa.PrivateKey, force bool) (string, string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return "", "", err
	}
	privPath, pubPath := filepath.Join(dir, privName), filepath.Join(dir, pubName)
	if err := writeKeyFile(privPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600, force); err != nil {
		return "", "", err
	}
	if err := writeKeyFile(pubPath, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644, force); err != nil {
		return "", "", err
	}
	return privPath, pubPath, nil
}

// writeKeyFile writes a file with mode perm, failing if it exists unless
// force; an existing file's mode is set to perm too.
func writeKeyFile(path string, data []byte, perm os.FileMode, force bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists (use -force to overwrite)", path)
		}
		return err
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parseNameValues reads name=value arguments into parameters (a name may
// repeat; the value may hold '=').
func parseNameValues(args []string) (url.Values, error) {
	v := url.Values{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		if !ok || name == "" {
			return nil, fmt.Errorf("%q is not name=value", a)
		}
		v.Add(name, value)
	}
	return v, nil
}

// runSign prints the to-be-signed string of request parameters, then the
// signature alone on the last line: to compare with what HipoPay says is
// wrong.
func runSign(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("sign", "name=value...", stderr)
	keyPath := fs.String("key", os.Getenv("HIPOPAY_PRIVATE_KEY"), "merchant private key, PEM (PKCS#1 or PKCS#8); default $HIPOPAY_PRIVATE_KEY")
	ts := fs.String("timestamp", "", "the Timestamp header, Unix seconds (default now)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems usageProblems
	problems.require("key", *keyPath)
	params, err := parseNameValues(fs.Args())
	if err != nil {
		problems.invalidf("%v", err)
	}
	if err := problems.report(fs); err != nil {
		return err
	}
	if *ts == "" {
		*ts = strconv.FormatInt(time.Now().Unix(), 10)
	}
	key, err := hipopay.LoadPrivateKey(*keyPath)
	if err != nil {
		return err
	}
	signer, err := hipopay.NewSigner(key)
	if err != nil {
		return err
	}
	toSign := hipopay.StringToSign(params, *ts)
	sig, err := signer.SignString(toSign)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, toSign)
	fmt.Fprintln(stdout, sig)
	return nil
}

// runVerifyNotification checks a captured notification: its form fields
// (a body file or name=value arguments), Timestamp and Signature headers,
// against HipoPay's callback key.
func runVerifyNotification(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("verify-notification", "[name=value...]", stderr)
	pubPath := fs.String("pubkey", "", "HipoPay's public key, PEM (default: the production callback key embedded in the SDK)")
	sandbox := fs.Bool("sandbox", false, "verify with HipoPay's sandbox callback key (embedded)")
	production := fs.Bool("production", false, "verify with HipoPay's production callback key (embedded; the default)")
	ts := fs.String("timestamp", "", "the notification's Timestamp header, as received (required)")
	sig := fs.String("signature", "", "the notification's Signature header, as received (required)")
	bodyPath := fs.String("body", "", `file holding the notification's raw form body ("-": standard input); or give name=value arguments`)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var problems usageProblems
	problems.requireFlags("timestamp", *ts, "signature", *sig)
	switch {
	case *bodyPath == "" && fs.NArg() == 0:
		problems.need("the fields (-body FILE or name=value arguments)")
	case *bodyPath != "" && fs.NArg() > 0:
		problems.invalidf("give the fields as -body FILE or as name=value arguments, not both")
	}
	n := 0
	for _, set := range []bool{*pubPath != "", *sandbox, *production} {
		if set {
			n++
		}
	}
	if n > 1 {
		problems.invalidf("give one of -pubkey, -sandbox, -production")
	}
	if err := problems.report(fs); err != nil {
		return err
	}

	var pub *rsa.PublicKey
	var err error
	if *pubPath != "" {
		if pub, err = hipopay.LoadPublicKey(*pubPath); err != nil {
			return err
		}
	} else if pub, err = hipopay.CallbackPublicKey(*sandbox); err != nil {
		return err
	}
	if *bodyPath != "" {
		n, err := notificationFromBody(pub, *bodyPath, *ts, *sig)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, hipopay.NotificationStringToSign(n.Fields, *ts))
	} else {
		fields, err := parseNameValues(fs.Args())
		if err != nil {
			return usageError(fs, "%v", err)
		}
		fmt.Fprintln(stdout, hipopay.NotificationStringToSign(fields, *ts))
		if _, err := hipopay.ParseNotificationForm(pub, fields, *ts, *sig); err != nil {
			return refusedNotification(err)
		}
	}
	fmt.Fprintln(stdout, "signature OK")
	return nil
}

// notificationFromBody verifies the notification body in the file path ("-":
// standard input) through the SDK's request parser, as a handler would:
// one-cut check and a trailing CR/LF's tolerance included.
func notificationFromBody(pub *rsa.PublicKey, path, timestamp, signature string) (*hipopay.PaymentNotification, error) {
	body := io.Reader(os.Stdin)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		body = f
	}
	r, err := http.NewRequest(http.MethodPost, "/", body)
	if err != nil {
		return nil, err
	}
	r.Header.Set("Timestamp", timestamp)
	r.Header.Set("Signature", signature)
	n, err := hipopay.ParseNotificationRequest(pub, r, 1<<20)
	if err != nil {
		return nil, refusedNotification(err)
	}
	return n, nil
}

// refusedNotification is verify-notification's exit status 1: "signature
// INVALID" for a bad signature, "notification REFUSED" for the rest (a
// re-cut, a body that is not a form, no payment_no).
func refusedNotification(err error) error {
	if errors.Is(err, hipopay.ErrInvalidSignature) {
		return &exitError{code: 1, msg: "signature INVALID: " + err.Error()}
	}
	return &exitError{code: 1, msg: "notification REFUSED: " + err.Error()}
}
