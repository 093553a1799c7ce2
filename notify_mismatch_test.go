package hipopay

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// An answer from HipoPay confirms a notification only when it names the
// same payment and both amounts are there; a lookup answer without
// payment_no or with empty amounts never confirms.
func TestPaymentMismatchNeedsEveryField(t *testing.T) {
	n := &PaymentNotification{Status: PaymentStatusPaid, PaymentNo: "P1", OutTradeID: "O1", Amount: "10.00", Currency: HKD}
	good := Payment{Status: PaymentStatusPaid, PaymentNo: "P1", OutTradeID: "O1", Amount: "10", Currency: HKD}
	assert.Empty(t, paymentMismatch(n, &good))

	noNumber := good
	noNumber.PaymentNo = ""
	assert.NotEmpty(t, paymentMismatch(n, &noNumber), "an answer without payment_no")

	emptyAmounts := *n
	emptyAmounts.Amount = ""
	noAmount := good
	noAmount.Amount = ""
	assert.NotEmpty(t, paymentMismatch(&emptyAmounts, &noAmount), "two empty amounts")

	odd := *n
	odd.Amount = "ten"
	oddToo := good
	oddToo.Amount = "ten"
	assert.Empty(t, paymentMismatch(&odd, &oddToo), "equal text that is not an amount still matches")
}
