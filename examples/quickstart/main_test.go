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

// The quick start explains what a reader would otherwise wonder about: the
// Timestamp header's number, and why the refund of 30.00 is debited 29.70.
func TestQuickstartExplainsItsNumbers(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	text := out.String()
	assert.Regexp(t, `Its Timestamp header, \d{10}, is in Unix seconds \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+8\): when HipoPay signed this`, text)
	for _, want := range []string{
		"(timeStamp is Unix seconds, as wx.requestPayment takes it;",
		"The collection of 100.00 is credited less HipoPay's service fee of 1.00: 99.00.",
		"The refund of 30.00 is debited -29.70: HipoPay gives back the part of the service fee it covers (0.30).",
	} {
		assert.Contains(t, out.String(), want)
	}
}
