// Tests of Money (money.go): zero, minor units per currency, exactness.

package hipopay

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMoney(t *testing.T) {
	minor := []struct {
		m    Money
		want int64
		err  string
	}{
		{Money{}, 0, ""},
		{Money{"-0.99", HKD}, -99, ""},
		{Money{"0.99", HKD}, 99, ""},
		{Money{"1.00", HKD}, 100, ""},
		{Money{"1.5", HKD}, 150, ""},
		{Money{"12", USD}, 1200, ""},
		{Money{"1500", JPY}, 1500, ""},
		{Money{"-3", KRW}, -3, ""},
		{Money{"0.00", HKD}, 0, ""},
		{Money{"92233720368547758.07", HKD}, 1<<63 - 1, ""},
		{Money{"1.5", JPY}, 0, "has decimals"},
		{Money{"100.5", KRW}, 0, "has decimals"},
		{Money{"100.50", KRW}, 0, "has decimals"},
		{Money{"100.01", JPY}, 0, "has decimals"},
		{Money{"0.999", HKD}, 0, "more than 2 decimals"},
		{Money{"0.9901", HKD}, 0, "more than 2 decimals"},
		{Money{"1.", JPY}, 0, "not a plain decimal"},
		{Money{"1.0x", HKD}, 0, "not a plain decimal"},
		// Decimals beyond the currency's that are all zeros are exact.
		{Money{"1.0", JPY}, 1, ""},
		{Money{"100.00", JPY}, 100, ""},
		{Money{"-100.000", KRW}, -100, ""},
		{Money{"0.990", HKD}, 99, ""},
		{Money{"-0.99000", HKD}, -99, ""},
		{Money{"12.3400", USD}, 1234, ""},
		{Money{"92233720368547758.08", HKD}, 0, "too large"},
		{Money{"1e3", HKD}, 0, "not a plain decimal"},
		{Money{"1.00", ""}, 0, "currency code"},
		{Money{"1.00", "hkd"}, 0, "currency code"},
	}
	for _, c := range minor {
		got, err := c.m.Minor()
		if c.err != "" {
			assert.ErrorContains(t, err, c.err, "%#v", c.m)
			continue
		}
		require.NoError(t, err, "%#v", c.m)
		assert.Equal(t, c.want, got, "%#v", c.m)
	}

	assert.Equal(t, "-0.99 HKD", Money{"-0.99", HKD}.String())
	assert.Equal(t, "1500 JPY", Money{"1500", JPY}.String())
	assert.Equal(t, "", Money{}.String())

	for m, zero := range map[Money]bool{
		{}: true, {"0", JPY}: true, {"0.00", HKD}: true, {"-0.00", HKD}: true,
		{"0.01", HKD}: false, {"-0.99", HKD}: false, {"10", JPY}: false,
	} {
		assert.Equal(t, zero, m.IsZero(), "%#v", m)
	}
}
