// Learning HipoPay's encoding of '~' at run time. The documented rule
// signs '~' as %7E; RFC 3986 servers keep it raw. When HipoPay refuses the
// signature (ILLEGAL_SECURITY_PROFILE) of a request with '~' in a value,
// the request is signed once more with '~' raw and re-sent: a refused
// signature means HipoPay did nothing, so this is safe even for an order.
// If HipoPay accepts it, the client keeps the raw rule for its lifetime.

package hipopay

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"
)

// do sends cl and decodes the "response" object of a successful answer
// into out (see doOnce), learning HipoPay's encoding of '~' on the way.
func (c *Client) do(ctx context.Context, cl call, out any) (*envelope, error) {
	env, err := c.doOnce(ctx, cl, out)
	if !errors.Is(err, ErrIllegalSecurityProfile) || c.rawTilde.Load() || !hasTilde(cl.params) {
		return env, err
	}
	cl.rawTilde = true
	env, err2 := c.doOnce(ctx, cl, out)
	var apiErr *APIError
	accepted := err2 == nil || (errors.As(err2, &apiErr) && apiErr.Code != "" && !errors.Is(err2, ErrIllegalSecurityProfile))
	if !accepted {
		if errors.Is(err2, ErrIllegalSecurityProfile) {
			return nil, err // refused either way: the documented form's answer
		}
		return nil, err2
	}
	if c.rawTilde.CompareAndSwap(false, true) {
		c.log(ctx, slog.LevelWarn, "hipopay: HipoPay accepts '~' raw, not %7E, in signatures; this client signs it raw from now on",
			slog.String("path", cl.path))
	}
	return env, err2
}

// hasTilde reports whether a value holds '~'.
func hasTilde(params url.Values) bool {
	for _, vs := range params {
		for _, v := range vs {
			if strings.Contains(v, "~") {
				return true
			}
		}
	}
	return false
}
