/**
 * The live invoices page: plain HTML and a hand-written WAMP v2 client (JSON over WebSocket, subprotocol
 * `wamp.2.json`), no library and no CDN. It subscribes to `detail.#` and `invoice.#` with `get_retained`
 * (the current rows first, then every change), publishes invoices with `acknowledge` (so that a row the
 * schema refuses comes back as an ERROR with the validation messages), deletes them with an empty
 * publication on `invoice.<number>`, and counts its own visits through the `demo.views.*` reducer.
 * `WAMP_PATH` is replaced with the listener's path when the page is served.
 */
export const INVOICES_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fox-wamp invoices: per-customer totals</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 48rem; margin: 2rem auto; }
  table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
  th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; }
  td.number { text-align: right; font-variant-numeric: tabular-nums; }
  tr.changed { animation: flash 1s; } @keyframes flash { from { background: #ffeb99; } to { background: none; } }
  form { display: flex; gap: .5rem; flex-wrap: wrap; } input { width: 7rem; }
  .error { color: #b00; white-space: pre-line; } .muted { color: #777; }
</style>
</head>
<body>
<h1>Invoices → per-customer totals</h1>
<p id="status" class="muted">connecting…</p>
<h2>Totals per customer <span class="muted">(<code>detail</code>, kept by the aggregate engine)</span></h2>
<table><thead><tr><th>customer</th><th>sales</th><th>total</th></tr></thead><tbody id="detail"></tbody></table>
<h2>Invoices <span class="muted">(<code>invoice</code>; refunds do not count)</span></h2>
<table><thead><tr><th>number</th><th>customer</th><th>type</th><th>amount</th><th></th></tr></thead><tbody id="invoice"></tbody></table>
<form id="form">
  <input id="number" type="number" placeholder="number" required>
  <input id="customer" placeholder="customer" required>
  <select id="type"><option>sale</option><option>refund</option></select>
  <input id="amount" type="number" step="0.01" placeholder="amount" required>
  <button>Publish invoice</button>
</form>
<p id="error" class="error"></p>
<p class="muted">Page views: <span id="views">…</span> (a reducer on <code>demo.views.invoices</code>)</p>
<script>
  // WAMP message codes used here.
  const HELLO = 1, WELCOME = 2, ABORT = 3, GOODBYE = 6, ERROR = 8, PUBLISH = 16, PUBLISHED = 17,
    SUBSCRIBE = 32, SUBSCRIBED = 33, EVENT = 36;
  const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + 'WAMP_PATH';
  const socket = new WebSocket(url, 'wamp.2.json');
  const pending = new Map();
  const handlers = new Map();
  let nextRequest = 1;

  function request(message) {
    const id = nextRequest++;
    message.splice(1, 0, id);
    socket.send(JSON.stringify(message));
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }
  // exclude_me: false, so that this page also sees the invoice rows it writes (the router's detail rows it sees anyway).
  const publish = (topic, kwargs) => request([PUBLISH, { acknowledge: true, exclude_me: false }, topic, [], kwargs || {}]);
  async function subscribe(topic, handler) {
    const subscriptionId = await request([SUBSCRIBE, { get_retained: true }, topic]);
    handlers.set(subscriptionId, handler);
  }

  socket.onopen = () => socket.send(JSON.stringify([HELLO, 'realm1', { roles: { publisher: {}, subscriber: {} } }]));
  socket.onclose = () => (document.getElementById('status').textContent = 'disconnected');
  socket.onmessage = (frame) => {
    const message = JSON.parse(frame.data);
    switch (message[0]) {
      case WELCOME: return joined();
      case ABORT: case GOODBYE: return socket.close();
      case SUBSCRIBED: return settle(message[1], 'resolve', message[2]);
      case PUBLISHED: return settle(message[1], 'resolve', message[2]);
      case ERROR: return settle(message[2], 'reject', { error: message[4], args: message[5] || [], kwargs: message[6] || {} });
      case EVENT: return handlers.get(message[1])?.(message[3].topic, message[4] || [], message[5] || {});
    }
  };
  function settle(id, how, value) {
    const entry = pending.get(id);
    pending.delete(id);
    entry?.[how](value);
  }

  // A row is the event's one argument; an empty event means the row was deleted.
  function showRow(tableId, topic, row, cells) {
    const body = document.getElementById(tableId);
    let line = [...body.rows].find((candidate) => candidate.dataset.topic === topic);
    if (!row) return line?.remove();
    if (!line) {
      line = body.insertRow();
      line.dataset.topic = topic;
    }
    line.replaceChildren(...cells(row));
    line.classList.remove('changed');
    void line.offsetWidth;
    line.classList.add('changed');
  }
  function cell(text, className) {
    const td = document.createElement('td');
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }
  function deleteButton(number) {
    const td = document.createElement('td');
    const button = document.createElement('button');
    button.textContent = 'delete';
    button.onclick = () => publish('invoice.' + number).catch(showError);
    td.append(button);
    return td;
  }
  function showError(error) {
    const problems = (error.kwargs.errors || []).map((problem) => (problem.path || 'row') + ' ' + problem.message);
    document.getElementById('error').textContent = problems.length > 0 ? problems.join('\\n') : error.args[0] || error.error;
  }

  async function joined() {
    document.getElementById('status').textContent = 'connected to ' + url;
    await subscribe('detail.#', (topic, args) =>
      showRow('detail', topic, args[0], (row) => [cell(row.customer), cell(row.invoices, 'number'), cell(row.total.toFixed(2), 'number')]),
    );
    await subscribe('invoice.#', (topic, args) =>
      showRow('invoice', topic, args[0], (row) => [
        cell(row.number, 'number'), cell(row.customer), cell(row.type), cell(row.amount.toFixed(2), 'number'), deleteButton(row.number),
      ]),
    );
    await subscribe('demo.views.invoices', (_topic, args) => (document.getElementById('views').textContent = args[0]));
    await publish('demo.views.invoices');
  }

  document.getElementById('form').onsubmit = async (event) => {
    event.preventDefault();
    const value = (id) => document.getElementById(id).value;
    document.getElementById('error').textContent = '';
    const row = { number: Number(value('number')), customer: value('customer'), type: value('type'), amount: Number(value('amount')) };
    await publish('invoice', row).catch(showError);
  };
</script>
</body>
</html>
`;
