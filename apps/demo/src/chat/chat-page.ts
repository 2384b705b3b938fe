/**
 * The chat's web page: plain HTML and a hand-written WAMP v2 client (JSON over WebSocket, subprotocol
 * `wamp.2.json`) of a few dozen lines: HELLO, SUBSCRIBE, CALL and the replies it needs. `WAMP_PATH` is
 * replaced with the listener's path when the page is served.
 */
export const CHAT_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fox-wamp chat</title>
<style>
  body { font: 15px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; }
  #log { border: 1px solid #ccc; height: 20rem; overflow-y: auto; padding: .5rem; }
  #log p { margin: .2rem 0; } .user { font-weight: bold; } .error { color: #b00; }
  form { display: flex; gap: .5rem; margin-top: .5rem; } #text { flex: 1; }
</style>
</head>
<body>
<h1>fox-wamp chat</h1>
<p id="status">connecting…</p>
<div id="log"></div>
<form id="form">
  <input id="user" placeholder="name" size="10" required>
  <input id="text" placeholder="message" required>
  <button>Send</button>
</form>
<script>
  // WAMP message codes used here.
  const HELLO = 1, WELCOME = 2, ABORT = 3, GOODBYE = 6, ERROR = 8, SUBSCRIBE = 32, SUBSCRIBED = 33,
    EVENT = 36, CALL = 48, RESULT = 50;
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
  const call = (procedure, args = [], kwargs = {}) => request([CALL, {}, procedure, args, kwargs]);
  async function subscribe(topic, handler) {
    const subscriptionId = await request([SUBSCRIBE, {}, topic]);
    handlers.set(subscriptionId, handler);
  }

  socket.onopen = () => socket.send(JSON.stringify([HELLO, 'realm1', { roles: { caller: {}, subscriber: {} } }]));
  socket.onclose = () => (document.getElementById('status').textContent = 'disconnected');
  socket.onmessage = (frame) => {
    const message = JSON.parse(frame.data);
    switch (message[0]) {
      case WELCOME: return joined();
      case ABORT: case GOODBYE: return socket.close();
      case SUBSCRIBED: return settle(message[1], 'resolve', message[2]);
      case RESULT: return settle(message[1], 'resolve', message[4] === undefined ? (message[3] || [])[0] : message[4]);
      case ERROR: return settle(message[2], 'reject', { error: message[4], args: message[5] || [], kwargs: message[6] || {} });
      case EVENT: return handlers.get(message[1])?.(message[4] || [], message[5] || {});
    }
  };
  function settle(id, how, value) {
    const entry = pending.get(id);
    pending.delete(id);
    entry?.[how](value);
  }

  const log = document.getElementById('log');
  function show(user, text, cls) {
    const line = document.createElement('p');
    if (cls) line.className = cls;
    const name = document.createElement('span');
    name.className = 'user';
    name.textContent = user ? user + ': ' : '';
    line.append(name, text);
    log.append(line);
    log.scrollTop = log.scrollHeight;
  }

  async function joined() {
    document.getElementById('status').textContent = 'connected to ' + url;
    await subscribe('chat.message', (_args, message) => show(message.user, message.text));
    for (const message of await call('chat.history')) show(message.user, message.text);
  }

  document.getElementById('form').onsubmit = async (event) => {
    event.preventDefault();
    const text = document.getElementById('text');
    try {
      await call('chat.post', [], { user: document.getElementById('user').value, text: text.value });
      text.value = '';
    } catch (error) {
      show('', (error.kwargs.messages || error.args).join('; '), 'error');
    }
  };
</script>
</body>
</html>
`;
