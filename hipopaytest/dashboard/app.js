// The fake HipoPay's dashboard: the server renders the page with the
// state in it (dashboard/index.html); this script keeps it live by polling
// GET _mock/state every second (and at once after a button's POST),
// renders what changed the same way, and sends the buttons' POSTs. It
// never holds a request open, so headless browsers (--dump-dom with
// --virtual-time-budget) see the page settle. Every text from the server
// goes into the page as text, never as HTML.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);

  // el builds an element: attrs are attributes (data-*, aria-*, class...);
  // children are nodes or strings (text).
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined) continue;
      e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return e;
  }
  const code = (s) => el('code', {}, s);
  const wrap = (...c) => el('span', { class: 'wrap' }, ...c);
  // path is an endpoint path that may break after its slashes.
  const path = (s) => el('code', { class: 'wrap' }, s.split('/').map((p, i) => i ? [el('wbr'), '/' + p] : p));
  const dash = '—';

  // table builds a table with a caption, column headers and rows; each row
  // is {attrs, cells}, its first cell the row's header. Wide tables scroll
  // sideways in their own box (focusable, for the keyboard).
  function table(caption, columns, rows, empty) {
    if (rows.length === 0) return el('p', { class: 'empty' }, empty);
    const head = el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c)));
    const body = rows.map((r) => el('tr', r.attrs || {}, r.cells.map((c, i) =>
      i === 0 ? el('th', { scope: 'row' }, c) : el('td', {}, c))));
    const t = el('table', {}, el('caption', { class: 'vh' }, caption), el('thead', {}, head), el('tbody', {}, body));
    return el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': caption }, t);
  }

  function button(action, label, paymentNo, enabled) {
    return el('button', {
      type: 'button', 'data-action': action, 'data-payment-no': paymentNo,
      'aria-label': label + ' payment ' + paymentNo, disabled: !enabled,
    }, label);
  }

  function amount(a, currency) { return a + ' ' + currency; }

  function notificationSummary(o) {
    switch (o.notification) {
      case 'acknowledged': return 'acknowledged';
      case 'waiting': return 'not acknowledged; next retry ' + o.next_retry;
      case 'sending': return 'sending';
      case 'gave up': return 'gave up: every retry failed';
      default:
        if (o.status !== 'PAID') return dash;
        return o.notify_url ? dash : 'no notify_url';
    }
  }

  function renderOrders(s) {
    const rows = s.orders.map((o) => {
      const init = o.status === 'INIT';
      const note = o.deliveries.length > 0 || o.notification
        ? wrap(el('a', { href: '#deliveries-' + o.payment_no }, notificationSummary(o)))
        : wrap(notificationSummary(o));
      return {
        attrs: { 'data-payment-no': o.payment_no, 'data-status': o.status },
        cells: [
          code(o.out_trade_id), code(o.payment_no), amount(o.amount, o.currency),
          el('span', { class: 'status status-' + o.status }, o.status),
          el('span', { class: 'actions' },
            button('pay', 'Pay', o.payment_no, init),
            button('fail', 'Fail', o.payment_no, init),
            button('expire', 'Expire', o.payment_no, init)),
          note, o.trade_time, path(o.method),
        ],
      };
    });
    return table('Orders, newest first',
      ['out_trade_id', 'payment_no', 'Amount', 'Status', 'Actions', 'Notification', 'Placed (UTC+8)', 'Method'],
      rows, 'No orders yet: place one with the SDK or `hipopay place-order`.');
  }

  function renderNotifications(s) {
    const notified = s.orders.filter((o) => o.deliveries.length > 0 || o.notification);
    if (notified.length === 0) return el('p', { class: 'empty' }, 'No notification sent yet: pay an order that has a notify_url.');
    return notified.map((o) => {
      const rows = o.deliveries.map((d) => ({
        attrs: { 'data-attempt': d.attempt, 'data-status-code': d.status_code },
        cells: [
          d.redelivery ? d.attempt + ' (redeliver)' : String(d.attempt),
          d.time,
          d.status,
          d.body === '' ? el('span', { class: 'none' }, '(empty)') : el('code', { class: 'answer' }, d.body + (d.body_truncated ? '…' : '')),
          d.acknowledged ? 'yes' : 'no',
          d.next_retry || dash,
        ],
      }));
      const title = 'Payment ' + o.payment_no + ' (out_trade_id ' + o.out_trade_id + ')';
      return el('article', { id: 'deliveries-' + o.payment_no, 'data-deliveries-for': o.payment_no, class: 'deliveries' },
        el('h3', {}, 'Payment ', code(o.payment_no), ' ', el('span', { class: 'sub' }, '(out_trade_id ', code(o.out_trade_id), ')')),
        el('p', {}, 'To ', el('code', { class: 'url' }, o.notify_url), '. Notification: ', el('strong', { 'data-summary': '' }, notificationSummary(o)), '. ',
          button('redeliver', 'Redeliver', o.payment_no, o.status === 'PAID' && !!o.notify_url)),
        table('Deliveries of ' + title, ['Attempt', 'Sent (UTC+8)', 'HTTP status', "Merchant's answer (first bytes)", 'Acknowledged', 'Next retry (UTC+8)'],
          rows, 'Nothing sent yet.'));
    });
  }

  function renderRefunds(s) {
    const rows = s.refunds.map((r) => ({
      attrs: { 'data-refund-no': r.refund_no },
      cells: [r.finish_time, code(r.refund_no), code(r.out_refund_id), code(r.payment_no),
        amount(r.refund_amount, r.currency), r.status, code(r.result_code), wrap(r.fail_message || dash)],
    }));
    return table('Refunds, newest first',
      ['Time (UTC+8)', 'refund_no', 'out_refund_id', 'payment_no', 'Amount', 'Status', 'Result code', 'Message'],
      rows, 'No refunds yet.');
  }

  function renderDeclarations(s) {
    const rows = s.declarations.map((d) => ({
      attrs: { 'data-payment-no': d.payment_no, 'data-customs': d.customs },
      cells: [d.modify_time, code(d.payment_no), code(d.out_order_no), code(d.sub_order_no), d.customs,
        code(d.mch_customs_no), d.state, wrap(d.explanation || dash)],
    }));
    return table('Customs declarations, newest first',
      ['Modified (UTC+8)', 'payment_no', 'out_order_no', 'sub_order_no', 'Customs', 'mch_customs_no', 'State', 'Explanation'],
      rows, 'No customs declarations yet.');
  }

  // The reconciliation file: the chosen day and merchant, its download
  // link, the days that have lines, and the file itself.
  const bill = { shown: '', lines: -1, fetching: 0 };

  const toInput = (d) => d.slice(0, 4) + '-' + d.slice(4, 6) + '-' + d.slice(6, 8);
  const fromInput = (v) => v.replaceAll('-', '');
  function billURL(date, merchant) {
    return 'bill?date=' + encodeURIComponent(date) + '&merchant_no=' + encodeURIComponent(merchant);
  }

  function renderBill(s, force) {
    const dateInput = $('bill-date');
    const select = $('bill-merchant');
    if (!dateInput.value) dateInput.value = toInput(s.today);
    const chosen = select.value || s.merchant_no;
    select.replaceChildren(...s.merchants.map((m) => el('option', { value: m, selected: m === chosen }, m)));
    const date = fromInput(dateInput.value);
    const merchant = select.value;
    const link = $('bill-link');
    link.href = billURL(date, merchant);
    link.setAttribute('download', 'hipopay-bill-' + merchant + '-' + date + '.csv');

    const days = s.bill_days.filter((d) => d.merchant_no === merchant);
    $('bill-days').replaceChildren(days.length === 0
      ? el('p', { class: 'empty' }, 'No collection or refund yet: the file has only its title and header.')
      : el('p', {}, 'Days with lines: ', days.map((d, i) => [i ? ', ' : '',
        el('a', { href: billURL(d.date, merchant), download: 'hipopay-bill-' + merchant + '-' + d.date + '.csv', 'data-bill-date': d.date },
          d.date + ' (' + d.lines + (d.lines === 1 ? ' line)' : ' lines)'))])));

    const day = days.find((d) => d.date === date);
    const lines = day ? day.lines : 0;
    const key = merchant + '/' + date;
    if (!force && bill.shown === key && bill.lines === lines) return;
    bill.shown = key;
    bill.lines = lines;
    const ticket = ++bill.fetching;
    fetch(billURL(date, merchant), { cache: 'no-store' })
      .then(async (resp) => {
        const text = await resp.text();
        if (ticket !== bill.fetching) return;
        if (resp.ok) {
          $('bill-text').textContent = text;
          return;
        }
        let reason = text;
        try { reason = JSON.parse(text).error_message || text; } catch (e) { /* not JSON */ }
        $('bill-text').textContent = 'No file for ' + date + ': ' + reason;
      })
      .catch((e) => { $('bill-text').textContent = 'Could not fetch the file: ' + e; });
  }

  let state = null;

  // render redraws the page from state, keeping the focused button and
  // the scroll position of wide tables.
  function render() {
    const s = state;
    const focused = document.activeElement;
    const focusKey = focused && focused.dataset && focused.dataset.action
      ? [focused.dataset.action, focused.dataset.paymentNo] : null;
    const scrolls = new Map();
    document.querySelectorAll('.table-wrap').forEach((w) => scrolls.set(w.getAttribute('aria-label'), w.scrollLeft));

    $('merchant').textContent = s.merchant_no;
    $('schedule').textContent = s.retry_schedule.length ? s.retry_schedule.join(', ') : 'no re-send';
    $('orders-body').replaceChildren(renderOrders(s));
    $('notifications-body').replaceChildren(...[renderNotifications(s)].flat());
    $('refunds-body').replaceChildren(renderRefunds(s));
    $('declarations-body').replaceChildren(renderDeclarations(s));
    renderBill(s, false);

    document.querySelectorAll('.table-wrap').forEach((w) => {
      const x = scrolls.get(w.getAttribute('aria-label'));
      if (x) w.scrollLeft = x;
    });
    if (focusKey) {
      const again = document.querySelector('button[data-action="' + CSS.escape(focusKey[0]) + '"][data-payment-no="' + CSS.escape(focusKey[1]) + '"]');
      if (again) again.focus();
    }
  }

  function apply(envelope) {
    if (!envelope || !envelope.is_success) {
      say('The mock answered an error: ' + (envelope.error_message || envelope.error));
      return;
    }
    state = envelope.response;
    render();
  }

  function say(msg) { $('result').textContent = msg; }
  function live(msg) { $('live').textContent = msg; }

  const verbs = { pay: 'paid', fail: 'failed', expire: 'expired', redeliver: 'redelivered' };

  // act sends a button's POST _mock/ACTION?payment_no=N from this origin.
  async function act(action, paymentNo) {
    say(action + ' ' + paymentNo + '…');
    let resp;
    try {
      resp = await fetch(action + '?payment_no=' + encodeURIComponent(paymentNo),
        { method: 'POST', headers: { Accept: 'application/json' }, cache: 'no-store' });
    } catch (e) {
      say(action + ' ' + paymentNo + ' failed: ' + e);
      return;
    }
    const text = await resp.text();
    let answer = null;
    try { answer = JSON.parse(text); } catch (e) { /* not JSON: a refusal in plain text */ }
    if (answer && answer.is_success) {
      say('Payment ' + paymentNo + ' ' + verbs[action] + ': now ' + answer.response.status + '.');
    } else if (answer) {
      say(action + ' ' + paymentNo + ' refused: ' + (answer.error_message || answer.error));
    } else {
      say(action + ' ' + paymentNo + ' refused: HTTP ' + resp.status + ' ' + text.slice(0, 200));
    }
    poll(); // show what the press did without waiting for the next tick
  }

  document.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-action]');
    if (!b || b.disabled) return;
    act(b.dataset.action, b.dataset.paymentNo);
  });
  $('bill-form').addEventListener('submit', (ev) => ev.preventDefault());
  $('bill-date').addEventListener('change', () => { if (state) renderBill(state, true); });
  $('bill-merchant').addEventListener('change', () => { if (state) renderBill(state, true); });

  // poll fetches GET _mock/state and renders it when it changed, then
  // again a second later; a call while a fetch is under way makes one
  // more fetch follow it (a button's effect is never missed), and an
  // early call replaces the pending tick.
  const every = 1000;
  const polling = { timer: 0, busy: false, again: false, last: '' };
  function poll() {
    clearTimeout(polling.timer);
    polling.timer = 0;
    if (polling.busy) {
      polling.again = true;
      return;
    }
    polling.busy = true;
    fetch('state', { cache: 'no-store', headers: { Accept: 'application/json' } })
      .then(async (resp) => {
        const text = await resp.text();
        live('live (updated every second)');
        if (text === polling.last) return;
        let envelope = null;
        try { envelope = JSON.parse(text); } catch (e) { /* not JSON */ }
        if (!envelope) {
          say('The mock answered HTTP ' + resp.status + ': ' + text.slice(0, 200));
          return;
        }
        polling.last = text;
        apply(envelope);
      })
      .catch(() => live('connection to the mock lost; retrying…'))
      .finally(() => {
        polling.busy = false;
        if (polling.again) {
          polling.again = false;
          poll();
        } else {
          polling.timer = setTimeout(poll, every);
        }
      });
  }

  poll();
})();
