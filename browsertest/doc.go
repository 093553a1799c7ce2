// Package browsertest tests the fake HipoPay's dashboard (_mock/dashboard
// of package hipopaytest and of `hipopay mock`) in a real browser: chromedp
// drives headless Chromium through orders, payments, notification
// deliveries, redeliveries, refunds, customs declarations and the
// reconciliation file, at desktop and phone widths. It also checks that
// the page the server renders and the page the script renders agree, and
// runs the acceptance check as a plain process: the built `hipopay mock`,
// an order placed with `hipopay place-order`, and `chromium --headless
// --dump-dom` (at once and with --virtual-time-budget) showing the order.
//
// It is a module of its own so that the SDK's module keeps its three
// dependencies. The tests need Chromium: /usr/bin/chromium, a chromium or
// google-chrome on PATH, or the path in HIPOPAY_CHROMIUM. Without one they
// skip and say why; .ci/browser.sh installs it (apt-get install chromium)
// and fails on any skip.
//
//	cd browsertest && go test ./...
//	cd browsertest && HIPOPAY_SCREENSHOT_DIR=../docs go test -run 'TestDashboardInBrowser|TestDashboardOnPhone' ./...
//
// The second form also writes the screenshots the README shows,
// docs/dashboard.png (1280 px) and docs/dashboard-phone.png (390 px); the
// first writes them to the temporary directory.
package browsertest
