import type { HeldUri, RealmStats, RetainedRow, SessionRow } from './admin-protocol.js';
import { rowKey, type ConsoleState } from './console-state.js';
import { age, bytes, el, fill, showValue } from './dom.js';
import { formatRate } from './rate-chart.js';

/** The tables of the dashboard, drawn from the console's state. */

/** Rows drawn per table at most (the counts above the tables stay exact). */
const MAX_ROWS = 1000;

export function renderSessions(body: HTMLElement, state: ConsoleState, filter: string): number {
  const needle = filter.trim().toLowerCase();
  const rows = [...state.sessions.values()].filter((row) => needle === '' || sessionText(row).includes(needle)).sort(byRealmThen((row) => row.joinedAt));
  fill(
    body,
    rows.slice(0, MAX_ROWS).map((row) => {
      const load = state.sessionLoads.get(rowKey(row.realm, row.session));
      const protocol = `${row.protocol.toUpperCase()} · ${row.transport}${row.serializer === undefined ? '' : ` · ${row.serializer}`}`;
      return el(
        'tr',
        { 'data-realm': row.realm, 'data-session': row.session, 'data-authid': row.authid, 'data-client-id': row.clientId, class: load?.away ? 'away' : undefined },
        el('td', {}, row.realm),
        el('td', { class: 'mono' }, row.session),
        el('td', {}, protocol, load?.away ? el('span', { class: 'badge' }, 'away') : null),
        el('td', {}, el('strong', {}, row.authid), el('div', { class: 'muted' }, `${row.authrole} · ${row.authmethod}`), row.clientId === undefined ? null : el('div', { class: 'muted' }, `client ${row.clientId}`)),
        el('td', { class: 'mono' }, row.address ?? '—'),
        el('td', { class: 'subscriptions' }, chips(row.subscriptions)),
        el('td', { class: 'registrations' }, chips(row.registrations)),
        el('td', { class: 'num', title: 'calls made / invocations served' }, `${load?.calls ?? 0} / ${load?.invocations ?? 0}`),
        el('td', { class: 'num', title: 'send buffer / queued messages' }, `${bytes(load?.bufferedBytes ?? 0)} / ${load?.queuedMessages ?? 0}`),
        el('td', { title: new Date(row.joinedAt).toISOString() }, age(row.joinedAt)),
        el('td', {}, row.kickable ? el('button', { class: 'kick danger', type: 'button', 'data-realm': row.realm, 'data-session': row.session }, 'Kick') : null),
      );
    }),
  );
  return rows.length;
}

function sessionText(row: SessionRow): string {
  return [row.realm, row.session, row.protocol, row.transport, row.authid, row.authrole, row.address, row.clientId, ...row.subscriptions.map((held) => held.uri), ...row.registrations.map((held) => held.uri)]
    .join(' ')
    .toLowerCase();
}

function chips(held: readonly HeldUri[]): HTMLElement {
  return el('div', { class: 'chips' }, ...held.map((item) => el('span', { class: 'chip', title: `${item.match} · ID ${item.id}` }, item.uri)));
}

/** A rate for a table cell; a dash until two samples have come. */
function perSecond(value: number | undefined): string {
  return value === undefined ? '—' : formatRate(value);
}

export function renderTopics(body: HTMLElement, state: ConsoleState): number {
  const rows = [...state.subscriptions.values()].sort(byRealmThen((row) => row.uri));
  fill(
    body,
    rows.slice(0, MAX_ROWS).map((row) =>
      el(
        'tr',
        { 'data-realm': row.realm, 'data-subscription': row.id, 'data-uri': row.uri },
        el('td', {}, row.realm),
        el('td', { class: 'mono' }, row.uri),
        el('td', {}, row.match),
        el('td', { class: 'num' }, row.subscribers),
        el('td', { class: 'num' }, perSecond(state.topicRates.get(rowKey(row.realm, row.id)))),
        el('td', { class: 'mono' }, [row.shareGroup === undefined ? '' : `$share ${row.shareGroup}`, row.filter ?? ''].filter(Boolean).join(' · ') || '—'),
        el('td', { title: new Date(row.createdAt).toISOString() }, age(row.createdAt)),
      ),
    ),
  );
  return rows.length;
}

export function renderRegistrations(body: HTMLElement, state: ConsoleState): number {
  const rows = [...state.registrations.values()].sort(byRealmThen((row) => row.uri));
  fill(
    body,
    rows.slice(0, MAX_ROWS).map((row) => {
      const load = state.registrationLoads.get(rowKey(row.realm, row.id));
      return el(
        'tr',
        { 'data-realm': row.realm, 'data-registration': row.id, 'data-uri': row.uri },
        el('td', {}, row.realm),
        el('td', { class: 'mono' }, row.uri),
        el('td', {}, row.match),
        el('td', {}, row.policy),
        el('td', { class: 'num' }, row.callees.length),
        el('td', { class: 'num', title: 'invocations each callee serves at once' }, row.callees.map((callee) => callee.concurrency ?? '∞').join(', ') || '—'),
        el('td', { class: 'num' }, load?.inFlight ?? 0),
        el('td', { class: 'num' }, load?.queued ?? 0),
      );
    }),
  );
  return rows.length;
}

/** Per-realm counts, and rates from the last two stats (`previous`: the counters a second before). */
export function renderRealms(body: HTMLElement, realms: readonly RealmStats[], rates: ReadonlyMap<string, { publications: number; events: number; calls: number }>): void {
  fill(
    body,
    realms.map((realm) => {
      const rate = rates.get(realm.realm);
      return el(
        'tr',
        { 'data-realm': realm.realm },
        el('td', {}, realm.realm),
        el('td', { class: 'num' }, realm.sessions),
        el('td', { class: 'num' }, realm.subscriptions),
        el('td', { class: 'num' }, realm.registrations),
        el('td', { class: 'num' }, realm.retainedKeys ?? '—'),
        el('td', { class: 'num' }, perSecond(rate?.publications)),
        el('td', { class: 'num' }, perSecond(rate?.events)),
        el('td', { class: 'num' }, perSecond(rate?.calls)),
      );
    }),
  );
}

export function renderRetained(body: HTMLElement, entries: readonly RetainedRow[]): void {
  fill(
    body,
    entries.map((entry) =>
      el(
        'tr',
        { 'data-key': entry.key, 'data-topic': entry.topic },
        el('td', { class: 'mono' }, entry.topic, entry.mqttTopic === entry.topic ? null : el('div', { class: 'muted' }, `MQTT ${entry.mqttTopic}`)),
        el('td', { class: 'mono value' }, showValue(entry.value, undefined, 120)),
        el('td', { class: 'mono' }, entry.publisher === 0 ? 'router' : entry.publisher),
        el('td', { title: new Date(entry.updatedAt).toISOString() }, age(entry.updatedAt)),
        el('td', {}, entry.will ? 'yes' : ''),
        el(
          'td',
          { class: 'actions' },
          el('button', { class: 'view', type: 'button', 'data-key': entry.key }, 'View'),
          el('button', { class: 'delete danger', type: 'button', 'data-key': entry.key }, 'Delete'),
        ),
      ),
    ),
  );
}

function byRealmThen<T extends { realm: string }>(key: (row: T) => string | number): (a: T, b: T) => number {
  return (a, b) => {
    if (a.realm !== b.realm) return a.realm < b.realm ? -1 : 1;
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
