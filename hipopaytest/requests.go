// The fake HipoPay's request path: ServeHTTP (faults, the _mock/
// controls), reading the parameters (a form or multipart/form-data),
// authenticating the headers and signature like HipoPay, then routing.

package hipopaytest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	hipopay "github.com/hipopay-go/hipopay"
)

const maxRequestBytes = 1 << 20

// ServeHTTP serves the fake HipoPay API: the endpoints relative to the
// base URL. Paths under "_mock/" go to the fake's own test-only controls
// instead (mock.go), which are not HipoPay's API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			writeAnswer(w, jsonAnswer(http.StatusInternalServerError,
				hipopay.Envelope{Error: "SYSTEM_ERROR", ErrorMessage: "the fake HipoPay failed: " + fmt.Sprint(v)}))
		}
	}()
	path := strings.TrimPrefix(r.URL.Path, "/")
	if strings.HasPrefix(path, "_mock/") {
		s.mock.ServeHTTP(w, r)
		return
	}

	s.mu.Lock()
	s.calls[r.Method+" "+path]++
	f := s.takeFaultLocked(r.Method, path)
	latency := s.latency
	s.mu.Unlock()

	if latency > 0 && !s.sleep(r.Context(), latency) {
		return
	}
	if f != nil {
		switch f.kind {
		case faultStatus:
			body := fmt.Sprintf("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>\n",
				f.status, http.StatusText(f.status), f.status, http.StatusText(f.status))
			writeAnswer(w, answer{status: f.status, contentType: "text/html; charset=utf-8", body: []byte(body)})
			return
		case faultDrop:
			dropConnection(w)
			return
		}
	}

	a := s.serveAPI(r, path)
	if f != nil && f.kind == faultLoseAnswer {
		dropConnection(w)
		return
	}
	writeAnswer(w, a)
}

// serveAPI reads, authenticates and serves one API request. The
// signature is checked first: parameters that do not parse as a form
// cannot be verified (ILLEGAL_SECURITY_PROFILE), and only a request that
// verifies is told about a parameter its endpoint does not document
// (INVALID_PARAMETER).
func (s *Server) serveAPI(r *http.Request, path string) answer {
	rt, ok, known := lookupRoute(r.Method, path)
	if !ok {
		if known {
			return jsonAnswer(http.StatusMethodNotAllowed, hipopay.Envelope{Error: "METHOD_NOT_ALLOWED", ErrorMessage: r.Method + " is not allowed on " + path})
		}
		return jsonAnswer(http.StatusNotFound, hipopay.Envelope{Error: "NOT_FOUND", ErrorMessage: "no such endpoint: " + path})
	}
	raw, a := readRawParams(r)
	if a != nil {
		return *a
	}
	params, err := url.ParseQuery(raw)
	s.mu.Lock()
	defer s.mu.Unlock()
	m, a := s.authenticateLocked(r, params, err, rt.version)
	if a != nil {
		return *a
	}
	if a := rt.undocumented(r.Method, path, params); a != nil {
		return *a
	}
	return rt.serve(s, m, params)
}

// readRawParams returns exactly the parameter text received: the query
// string of a GET, the form body of a POST whatever its Content-Type says.
// A POST declared multipart/form-data (HipoPay's PHP SDK posts that way)
// is read part by part and returned form-encoded: the same fields, so the
// signature is verified over them as over a form. A file part, a part
// without a name or a body that is not valid multipart is
// INVALID_PARAMETER.
func readRawParams(r *http.Request) (string, *answer) {
	if r.Method == http.MethodGet {
		return r.URL.RawQuery, nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil {
		a := invalidParam("reading the body: %v", err)
		return "", &a
	}
	if len(b) > maxRequestBytes {
		a := jsonAnswer(http.StatusRequestEntityTooLarge, hipopay.Envelope{Error: CodeInvalidParameter, ErrorMessage: "body over 1 MiB"})
		return "", &a
	}
	if mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && mt == "multipart/form-data" {
		v, err := readMultipart(b, params["boundary"])
		if err != nil {
			a := invalidParam("multipart/form-data body: %v", err)
			return "", &a
		}
		return v.Encode(), nil
	}
	return string(b), nil
}

// readMultipart reads the fields of a multipart/form-data body: every
// part must be a named field, none a file.
func readMultipart(body []byte, boundary string) (url.Values, error) {
	if boundary == "" {
		return nil, errors.New("no boundary in the Content-Type")
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	v := url.Values{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			if len(v) == 0 {
				return nil, errors.New("no part with the boundary of its Content-Type")
			}
			return v, nil
		}
		if err != nil {
			return nil, err
		}
		name := part.FormName()
		switch {
		case name == "":
			return nil, errors.New("a part has no form-data name")
		case part.FileName() != "":
			return nil, fmt.Errorf("part %q is a file: HipoPay takes no files", name)
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("part %q: %w", name, err)
		}
		v.Add(name, string(value))
	}
}

// readParams returns the parameters received (see readRawParams), or
// INVALID_PARAMETER when they do not parse: for the unsigned _mock/
// endpoints.
func readParams(r *http.Request) (url.Values, *answer) {
	raw, a := readRawParams(r)
	if a != nil {
		return nil, a
	}
	params, err := url.ParseQuery(raw)
	if err != nil {
		a := invalidParam("parameters do not parse as a form: %v", err)
		return nil, &a
	}
	return params, nil
}

// authenticateLocked checks the four headers and the signature like
// HipoPay: anything wrong is ILLEGAL_SECURITY_PROFILE. The reasons never
// repeat the Signature.
// A parse error of the parameters (parseErr) fails it too: what does not
// parse cannot be verified.
func (s *Server) authenticateLocked(r *http.Request, params url.Values, parseErr error, version string) (*merchant, *answer) {
	fail := func(reason string) (*merchant, *answer) { a := illegal(reason); return nil, &a }
	for _, h := range []string{"MerchantNO", "Version", "Timestamp", "Signature"} {
		if r.Header.Get(h) == "" {
			return fail("header " + h + " is missing")
		}
	}
	m := s.merchants[r.Header.Get("MerchantNO")]
	if m == nil {
		return fail("unknown merchant")
	}
	if v := r.Header.Get("Version"); v != version {
		return fail("header Version must be " + version)
	}
	if parseErr != nil {
		return fail("the parameters do not parse as a form, so the signature cannot be verified")
	}
	toSign := hipopay.StringToSign(params, r.Header.Get("Timestamp"))
	if s.cfg.rawTilde {
		toSign = strings.ReplaceAll(toSign, "%7E", "~") // exact: a literal "%7E" is encoded "%257E"
	}
	if err := hipopay.VerifySignature(m.pub, toSign, r.Header.Get("Signature")); err != nil {
		return fail("signature does not verify")
	}
	return m, nil
}
