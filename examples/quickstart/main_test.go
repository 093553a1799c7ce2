package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The quick start runs the whole life cycle and says so.
func TestQuickstartRunsTheLifeCycle(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	for _, want := range []string{
		`"package": "prepay_id=wx`,
		`"signType": "MD5"`,
		"its signature verified",
		"is PAID: 100.00 HKD",
		"Refund REF-2026-0001 of 30.00: SUCCESS",
		"Declared to customs SHENZHEN",
		"2 matched, 0 missing, 0 unexpected, 0 differing: all agree = true",
	} {
		assert.Contains(t, out.String(), want)
	}
}
