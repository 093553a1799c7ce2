// The refund result-code table of HipoPay's reference: every result_code a
// refund answer can carry, its message and whether a retry can help.

package hipopay

// RefundResultCode is the result_code of a refund answer: "0000" while the
// refund is processing, another code of the reference's table when it fails.
type RefundResultCode string

// The refund result codes of the reference's table.
const (
	RefundResultProcessing                    RefundResultCode = "0000"
	RefundResultAlreadyExists                 RefundResultCode = "0001"
	RefundResultPaymentNotFound               RefundResultCode = "0002"
	RefundResultCurrencyError                 RefundResultCode = "0003"
	RefundResultPaymentNotPaid                RefundResultCode = "0004"
	RefundResultPaymentNotCredited            RefundResultCode = "0005"
	RefundResultPaymentFullyRefunded          RefundResultCode = "0006"
	RefundResultSettleForexRateInvalid        RefundResultCode = "0007"
	RefundResultRefundableNotEnough           RefundResultCode = "0008"
	RefundResultAmountNotPositive             RefundResultCode = "0009"
	RefundResultNoHKDBalance                  RefundResultCode = "0010"
	RefundResultSettledBalanceNotEnough       RefundResultCode = "0011"
	RefundResultUnsettledBalanceNotEnough     RefundResultCode = "0012"
	RefundResultRefundInvalid                 RefundResultCode = "0013"
	RefundResultSystemError                   RefundResultCode = "0099"
	RefundResultWeChatNotEnough               RefundResultCode = "0101"
	RefundResultWeChatUserAccountAbnormal     RefundResultCode = "0102"
	RefundResultWeChatSystemError             RefundResultCode = "0103"
	RefundResultWeChatNeedRetry               RefundResultCode = "0104"
	RefundResultWeChatTradeOverdue            RefundResultCode = "0105"
	RefundResultWeChatChannelError            RefundResultCode = "0106"
	RefundResultWeChatTooManyRequests         RefundResultCode = "0107"
	RefundResultWeChatInvalidTransaction      RefundResultCode = "0108"
	RefundResultWeChatParamError              RefundResultCode = "0109"
	RefundResultWeChatAppIDNotExist           RefundResultCode = "0110"
	RefundResultWeChatMchIDNotExist           RefundResultCode = "0111"
	RefundResultWeChatOrderNotExist           RefundResultCode = "0112"
	RefundResultWeChatRequirePost             RefundResultCode = "0113"
	RefundResultWeChatSignError               RefundResultCode = "0114"
	RefundResultWeChatXMLFormatError          RefundResultCode = "0115"
	RefundResultWeChatFrequencyLimited        RefundResultCode = "0116"
	RefundResultWeChatNoAuth                  RefundResultCode = "0117"
	RefundResultWeChatCertError               RefundResultCode = "0118"
	RefundResultWeChatRefundFeeMismatch       RefundResultCode = "0119"
	RefundResultWeChatInvalidRequest          RefundResultCode = "0120"
	RefundResultWeChatOrderNotReady           RefundResultCode = "0121"
	RefundResultWeChatUnknownError            RefundResultCode = "0199"
	RefundResultAlipayBalanceNotEnough        RefundResultCode = "0201"
	RefundResultAlipayValidDateExceeded       RefundResultCode = "0202"
	RefundResultAlipaySystemException         RefundResultCode = "0203"
	RefundResultAlipayIllegalArgument         RefundResultCode = "0204"
	RefundResultAlipayRepeatedRequest         RefundResultCode = "0205"
	RefundResultAlipayReturnAmountExceed      RefundResultCode = "0206"
	RefundResultAlipayCurrencyNotSame         RefundResultCode = "0207"
	RefundResultAlipayPurchaseNotExist        RefundResultCode = "0208"
	RefundResultAlipayTradeNotExist           RefundResultCode = "0209"
	RefundResultAlipayTradeStatusError        RefundResultCode = "0210"
	RefundResultAlipayAmountRestriction       RefundResultCode = "0211"
	RefundResultAlipayBuyerNotExist           RefundResultCode = "0212"
	RefundResultAlipayChargeError             RefundResultCode = "0213"
	RefundResultAlipayInvalidParameter        RefundResultCode = "0214"
	RefundResultAlipayTradeFrozen             RefundResultCode = "0215"
	RefundResultAlipayRequestAmountExceed     RefundResultCode = "0216"
	RefundResultAlipayIllegalSign             RefundResultCode = "0217"
	RefundResultAlipayIllegalService          RefundResultCode = "0218"
	RefundResultAlipayIllegalPartner          RefundResultCode = "0219"
	RefundResultAlipayIllegalSignType         RefundResultCode = "0220"
	RefundResultAlipayIllegalPartnerExterface RefundResultCode = "0221"
	RefundResultAlipayIllegalDynMD5Key        RefundResultCode = "0222"
	RefundResultAlipayIllegalEncrypt          RefundResultCode = "0223"
	RefundResultAlipayIllegalUser             RefundResultCode = "0224"
	RefundResultAlipayIllegalExterface        RefundResultCode = "0225"
	RefundResultAlipayIllegalAgent            RefundResultCode = "0226"
	RefundResultAlipayHasNoPrivilege          RefundResultCode = "0227"
	RefundResultAlipayInvalidCharset          RefundResultCode = "0228"
	RefundResultAlipaySystemError             RefundResultCode = "0229"
	RefundResultAlipaySessionTimeout          RefundResultCode = "0230"
	RefundResultAlipayIllegalTargetService    RefundResultCode = "0231"
	RefundResultAlipayIllegalAccessSwitch     RefundResultCode = "0232"
	RefundResultAlipayExterfaceClosed         RefundResultCode = "0233"
	RefundResultAlipayUnknownError            RefundResultCode = "0299"
)

// RefundResultInfo is one row of the reference's refund result-code table.
type RefundResultInfo struct {
	Code        RefundResultCode
	Message     string // the table's message, e.g. "Payment full refunded."
	Description string // the table's description, "" where it has none
	// Retryable says whether sending the same refund again later can
	// succeed without the merchant changing anything: system errors,
	// rate limits and payments not yet ready. A retry must reuse the same
	// out_refund_id.
	Retryable bool
}

var refundResultTable = [...]RefundResultInfo{
	{RefundResultProcessing, "Refund Processing", "", false},
	{RefundResultAlreadyExists, "Refund xxxxxxxx Already Exists.", "", false},
	{RefundResultPaymentNotFound, "payment xxxxxxxxxx Not Found.", "", false},
	{RefundResultCurrencyError, "Refund currency error.", "", false},
	{RefundResultPaymentNotPaid, "Payment not paid yet.", "", false},
	{RefundResultPaymentNotCredited, "Payment not credited yet.", "", true},
	{RefundResultPaymentFullyRefunded, "Payment full refunded.", "", false},
	{RefundResultSettleForexRateInvalid, "payment settle_forex rate is -0.1", "", false},
	{RefundResultRefundableNotEnough, "Payment refundable not enough.", "", false},
	{RefundResultAmountNotPositive, "refund amount must more than zero.", "", false},
	{RefundResultNoHKDBalance, "merchant has not HKD balance.", "", false},
	{RefundResultSettledBalanceNotEnough, "Settled Balance not enough.", "", false},
	{RefundResultUnsettledBalanceNotEnough, "Unsettled Balance not enough.", "", false},
	{RefundResultRefundInvalid, "Refund xxxxx Invalid", "", false},
	{RefundResultSystemError, "SYSYTEM_ERROR", "", true},
	{RefundResultWeChatNotEnough, "NOTENOUGH", "merchant balance not enough for refunding", false},
	{RefundResultWeChatUserAccountAbnormal, "USER_ACCOUNT_ABNORMAL", "User account signed out", false},
	{RefundResultWeChatSystemError, "SYSTEMERROR", "API Errore", true},
	{RefundResultWeChatNeedRetry, "BIZERR_NEED_RETRY", "Need retry", true},
	{RefundResultWeChatTradeOverdue, "TRADE_OVERDUE", "payment expeired", false},
	{RefundResultWeChatChannelError, "ERROR", "Channel Error", true},
	{RefundResultWeChatTooManyRequests, "INVALID_REQ_TOO_MUCH", "invalid request too much", true},
	{RefundResultWeChatInvalidTransaction, "INVALID_TRANSACTIONID", "invalid transaction_id", false},
	{RefundResultWeChatParamError, "PARAM_ERROR", "param error", false},
	{RefundResultWeChatAppIDNotExist, "APPID_NOT_EXIST", "appid not exist", false},
	{RefundResultWeChatMchIDNotExist, "MCHID_NOT_EXIST", "mchid not exist", false},
	{RefundResultWeChatOrderNotExist, "ORDERNOTEXIST", "payment not exist", false},
	{RefundResultWeChatRequirePost, "REQUIRE_POST_METHOD", "", false},
	{RefundResultWeChatSignError, "SIGNERROR", "", false},
	{RefundResultWeChatXMLFormatError, "XML_FORMAT_ERROR", "", false},
	{RefundResultWeChatFrequencyLimited, "FREQUENCY_LIMITED", "", true},
	{RefundResultWeChatNoAuth, "NOAUTH", "", false},
	{RefundResultWeChatCertError, "CERT_ERROR", "", false},
	{RefundResultWeChatRefundFeeMismatch, "REFUND_FEE_MISMATCH", "double request different amount", false},
	{RefundResultWeChatInvalidRequest, "INVALID_REQUEST", "param error", false},
	{RefundResultWeChatOrderNotReady, "ORDER_NOT_READY", "payment processing ,try later", true},
	{RefundResultWeChatUnknownError, "SYSYTEM_ERROR", "wechatpay unknown error", true},
	{RefundResultAlipayBalanceNotEnough, "MERCHANT_BALANCE_NOT_ENOUGH", "", false},
	{RefundResultAlipayValidDateExceeded, "REFUNDMENT_VALID_DATE_EXCEED", "", false},
	{RefundResultAlipaySystemException, "SYSTEM_EXCEPTION", "", true},
	{RefundResultAlipayIllegalArgument, "ILLEGAL_ARGUMENT", "", false},
	{RefundResultAlipayRepeatedRequest, "REPEATED_REFUNDMENT_REQUEST", "", false},
	{RefundResultAlipayReturnAmountExceed, "RETURN_AMOUNT_EXCEED", "", false},
	{RefundResultAlipayCurrencyNotSame, "CURRENCY_NOT_SAME", "", false},
	{RefundResultAlipayPurchaseNotExist, "PURCHASE_TRADE_NOT_EXIST", "", false},
	{RefundResultAlipayTradeNotExist, "TRADE_NOT_EXIST", "", false},
	{RefundResultAlipayTradeStatusError, "TRADE_STATUS_ERROR", "", false},
	{RefundResultAlipayAmountRestriction, "REFUND_AMT_RESTRICTION", "", false},
	{RefundResultAlipayBuyerNotExist, "BUYER_NOT_EXIST", "", false},
	{RefundResultAlipayChargeError, "REFUND_CHARGE_ERROR", "", false},
	{RefundResultAlipayInvalidParameter, "INVALID_PARAMETER", "", false},
	{RefundResultAlipayTradeFrozen, "REASON_TRADE_BEEN_FREEZEN", "", false},
	{RefundResultAlipayRequestAmountExceed, "REQUEST_AMOUNT_EXCEED", "", false},
	{RefundResultAlipayIllegalSign, "ILLEGAL_SIGN", "", false},
	{RefundResultAlipayIllegalService, "ILLEGAL_SERVICE", "", false},
	{RefundResultAlipayIllegalPartner, "ILLEGAL_PARTNER", "", false},
	{RefundResultAlipayIllegalSignType, "ILLEGAL_SIGN_TYPE", "", false},
	{RefundResultAlipayIllegalPartnerExterface, "ILLEGAL_PARTNER_EXTERFACE", "", false},
	{RefundResultAlipayIllegalDynMD5Key, "ILLEGAL_DYN_MD5_KEY", "", false},
	{RefundResultAlipayIllegalEncrypt, "ILLEGAL_ENCRYPT", "", false},
	{RefundResultAlipayIllegalUser, "ILLEGAL_USER", "", false},
	{RefundResultAlipayIllegalExterface, "ILLEGAL_EXTERFACE", "", false},
	{RefundResultAlipayIllegalAgent, "ILLEGAL_AGENT", "", false},
	{RefundResultAlipayHasNoPrivilege, "HAS_NO_PRIVILEGE", "", false},
	{RefundResultAlipayInvalidCharset, "INVALID_CHARACTER_SET", "", false},
	{RefundResultAlipaySystemError, "SYSTEM_ERROR", "", true},
	{RefundResultAlipaySessionTimeout, "SESSION_TIMEOUT", "", true},
	{RefundResultAlipayIllegalTargetService, "ILLEGAL_TARGET_SERVICE", "", false},
	{RefundResultAlipayIllegalAccessSwitch, "ILLEGAL_ACCESS_SWITCH_SYSTEM", "", false},
	{RefundResultAlipayExterfaceClosed, "EXTERFACE_IS_CLOSED", "", false},
	{RefundResultAlipayUnknownError, "SYSYTEM_ERROR", "alipay unknow error", true},
}

// RefundResultCodes returns the whole refund result-code table of the
// reference, in its order.
func RefundResultCodes() []RefundResultInfo {
	out := make([]RefundResultInfo, len(refundResultTable))
	copy(out, refundResultTable[:])
	return out
}

// Info returns the table row of c, and false for a code the table lacks.
func (c RefundResultCode) Info() (RefundResultInfo, bool) {
	for _, row := range refundResultTable {
		if row.Code == c {
			return row, true
		}
	}
	return RefundResultInfo{Code: c}, false
}

// Message returns the table's message for c ("" for an unknown code).
func (c RefundResultCode) Message() string { info, _ := c.Info(); return info.Message }

// Description returns the table's description for c, "" where it has none.
func (c RefundResultCode) Description() string { info, _ := c.Info(); return info.Description }

// Retryable reports whether sending the same refund (same out_refund_id)
// again later can help.
func (c RefundResultCode) Retryable() bool { info, _ := c.Info(); return info.Retryable }

// Known reports whether c is in the reference's table.
func (c RefundResultCode) Known() bool { _, ok := c.Info(); return ok }

// IsFailure reports whether c reports a failed refund: any code other than
// "" and "0000".
func (c RefundResultCode) IsFailure() bool {
	return c != "" && c != RefundResultProcessing
}
