// Client.Call: any HipoPay endpoint through the SDK's one request path,
// for endpoints HipoPay adds before this SDK types them.

package hipopay

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"
)

// Call signs and sends any HipoPay endpoint (method GET or POST, path
// relative to the base URL, Version 1.0) with exactly params, retried by
// the same rules as the typed calls (a POST only when it provably never
// left), and decodes the "response" object into out (a struct pointer or
// *json.RawMessage; nil discards it).
//
// A method other than GET or POST, a path that is absolute, holds "..",
// a query or characters other than A-Z a-z 0-9 _ . - /, a parameter name
// outside A-Z a-z 0-9 _ . -, a parameter with several values, a value that
// is not UTF-8 or an out that is not a non-nil pointer is a
// [*ValidationError] before any network call. HipoPay's refusals are
// [*APIError]. Values of cert_id and name are kept out of errors.
func (c *Client) Call(ctx context.Context, method, path string, params url.Values, out any) error {
	if err := validCall(method, path, params, out); err != nil {
		return err
	}
	if out == nil {
		out = new(json.RawMessage)
	}
	secrets := append(append([]string(nil), params["cert_id"]...), params["name"]...)
	cl := call{method: method, path: path, params: params, secrets: secrets}
	if cl.params == nil {
		cl.params = url.Values{}
	}
	_, err := c.do(ctx, cl, out)
	return err
}

// validCall checks Call's input.
func validCall(method, path string, params url.Values, out any) error {
	if method != http.MethodGet && method != http.MethodPost {
		return invalid("method", "%q is neither GET nor POST", method)
	}
	if err := validCallPath(path); err != nil {
		return err
	}
	for name, vs := range params {
		if name == "" || strings.IndexFunc(name, func(r rune) bool { return !pathByte(r) || r == '/' }) >= 0 {
			return invalid("params", "parameter name %q is not made of A-Z a-z 0-9 _ . -", name)
		}
		if len(vs) != 1 {
			return invalid(name, "has %d values: HipoPay takes one value per parameter", len(vs))
		}
	}
	if err := validUTF8(params); err != nil {
		return err
	}
	if out != nil {
		if v := reflect.ValueOf(out); v.Kind() != reflect.Pointer || v.IsNil() {
			return invalid("out", "must be a non-nil pointer (a struct pointer or *json.RawMessage), not %T", out)
		}
	}
	return nil
}

// validCallPath refuses a path that could leave the base URL or change
// the request: empty, absolute ("/x", "https://..."), with an empty, "."
// or ".." segment, or any character but A-Z a-z 0-9 _ . - /.
func validCallPath(path string) error {
	if path == "" {
		return invalid("path", "is required, e.g. \"payment\"")
	}
	if i := strings.IndexFunc(path, func(r rune) bool { return !pathByte(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(path[i:])
		return invalid("path", "%q holds %q: only A-Z a-z 0-9 _ . - / (relative to the base URL, no query)", path, r)
	}
	for _, seg := range strings.Split(path, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return invalid("path", "%q must be relative to the base URL, without empty, . or .. segments", path)
		}
	}
	return nil
}

func pathByte(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == '-' || r == '/'
}
