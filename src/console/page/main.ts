import type { ChangeBatch, RetainedList, RetainedRow, Snapshot, Stats } from './admin-protocol.js';
import { ConsoleState, RateSeries } from './console-state.js';
import { age, byId, el, fill, showValue } from './dom.js';
import { RateChart } from './rate-chart.js';
import { renderRealms, renderRegistrations, renderRetained, renderSessions, renderTopics } from './views.js';
import { WampSession, type AuthMethod } from './wamp-client.js';

/**
 * The admin console: logs in to the router's console realm over WAMP, takes a snapshot of every realm with
 * `fox.admin.snapshot` and keeps it current with the `fox.admin.on_change` batches; `fox.admin.on_stats`
 * brings the rates and the loads (calls in flight, queue depths) once a second. The server writes where to
 * connect into the page's <body> data attributes.
 */

const ADMIN = {
  snapshot: 'fox.admin.snapshot',
  kill: 'fox.admin.kill',
  retainedList: 'fox.admin.retained.list',
  retainedDelete: 'fox.admin.retained.delete',
  onChange: 'fox.admin.on_change',
  onStats: 'fox.admin.on_stats',
};

interface PageSettings {
  readonly wampPath: string;
  readonly realm: string;
  readonly authmethod: AuthMethod;
}

function pageSettings(): PageSettings {
  const { wampPath = '/ws', realm = 'fox.admin', authmethod = 'ticket' } = document.body.dataset;
  return { wampPath, realm, authmethod: authmethod === 'wampcra' ? 'wampcra' : 'ticket' };
}

/** The WAMP WebSocket URL on the page's own host: ws:// for http, wss:// for https. */
function wampUrl(path: string): string {
  const url = new URL(path, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.href;
}

class ConsolePage {
  private session: WampSession | undefined;
  private state = new ConsoleState();
  private rates = new RateSeries();
  private realmRates = new Map<string, { publications: number; events: number; calls: number }>();
  private previousStats: Stats | undefined;
  private retained: readonly RetainedRow[] = [];
  private renderQueued = false;
  private readonly charts = {
    messages: new RateChart(byId<HTMLCanvasElement>('chart-messages'), [
      { field: 'messagesIn', label: 'in', color: '#0969da' },
      { field: 'messagesOut', label: 'out', color: '#1a7f37' },
    ], 'messages/s'),
    routing: new RateChart(byId<HTMLCanvasElement>('chart-routing'), [
      { field: 'publications', label: 'publications', color: '#8250df' },
      { field: 'events', label: 'events', color: '#bf8700' },
      { field: 'calls', label: 'calls', color: '#cf222e' },
    ], 'per second'),
    bytes: new RateChart(byId<HTMLCanvasElement>('chart-bytes'), [
      { field: 'bytesIn', label: 'in', color: '#0969da' },
      { field: 'bytesOut', label: 'out', color: '#1a7f37' },
    ], 'bytes/s'),
  };

  constructor(private readonly settings: PageSettings) {
    byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.login(new FormData(event.target as HTMLFormElement));
    });
    byId('logout').addEventListener('click', () => void this.session?.close());
    byId('sessions-filter').addEventListener('input', () => this.scheduleRender());
    byId('sessions').addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button.kick');
      if (button !== null) void this.kick(button.dataset.realm!, Number(button.dataset.session));
    });
    byId<HTMLFormElement>('retained-form').addEventListener('submit', (event) => {
      event.preventDefault();
      void this.browseRetained();
    });
    byId('retained').addEventListener('click', (event) => {
      const button = (event.target as Element).closest<HTMLButtonElement>('button');
      const key = button?.dataset.key;
      if (key === undefined) return;
      if (button!.classList.contains('view')) this.viewRetained(key);
      if (button!.classList.contains('delete')) void this.deleteRetained(key);
    });
  }

  private async login(form: FormData): Promise<void> {
    const authid = String(form.get('authid') ?? '');
    const secret = String(form.get('secret') ?? '');
    const error = byId('login-error');
    error.textContent = '';
    try {
      const session = await WampSession.connect(wampUrl(this.settings.wampPath), this.settings.realm, { authid, secret, authmethod: this.settings.authmethod });
      this.session = session;
      session.onclose = (reason, message) => this.loggedOut(reason, message);
      this.state = new ConsoleState();
      this.rates = new RateSeries();
      this.previousStats = undefined;
      // Subscribed before the snapshot: batches that arrive first are held and applied after it.
      await session.subscribe(ADMIN.onChange, (args) => this.changed(args[0] as ChangeBatch));
      await session.subscribe(ADMIN.onStats, (args) => this.sampled(args[0] as Stats));
      const snapshot = (await session.call(ADMIN.snapshot)).args[0] as Snapshot;
      this.state.applySnapshot(snapshot);
      byId('login').hidden = true;
      byId('dashboard').hidden = false;
      byId('logout').hidden = false;
      byId('whoami').textContent = `${authid} @ ${snapshot.consoleRealm}`;
      this.fillRealmChoices();
      this.render();
      await this.browseRetained();
    } catch (failure) {
      // Closed first: closing shows the login form again, and the failure must stay on it.
      await this.session?.close();
      error.textContent = `Login failed: ${(failure as Error).message}`;
    }
  }

  private loggedOut(reason: string, message: string): void {
    this.session = undefined;
    byId('dashboard').hidden = true;
    byId('logout').hidden = true;
    byId('login').hidden = false;
    byId('whoami').textContent = '';
    byId('login-error').textContent = reason === 'wamp.close.normal' || reason === 'wamp.close.goodbye_and_out' ? '' : `Disconnected: ${reason} ${message}`;
  }

  private changed(batch: ChangeBatch): void {
    this.state.applyChanges(batch);
    this.scheduleRender();
  }

  private sampled(stats: Stats): void {
    this.state.applyStats(stats);
    if (stats.counters !== undefined) this.rates.add(stats.time, stats.counters);
    this.realmRates = realmRates(this.previousStats, stats);
    this.previousStats = stats;
    this.fillRealmChoices();
    this.scheduleRender();
  }

  private scheduleRender(): void {
    if (this.renderQueued) return;
    this.renderQueued = true;
    requestAnimationFrame(() => {
      this.renderQueued = false;
      this.render();
    });
  }

  private render(): void {
    const { state } = this;
    const shown = renderSessions(byId('sessions-body'), state, byId<HTMLInputElement>('sessions-filter').value);
    byId('sessions-count').textContent = shown === state.sessions.size ? `${shown}` : `${shown} of ${state.sessions.size}`;
    byId('topics-count').textContent = `${renderTopics(byId('topics-body'), state)}`;
    byId('registrations-count').textContent = `${renderRegistrations(byId('registrations-body'), state)}`;
    renderRealms(byId('realms-body'), state.realmStats, this.realmRates);
    const retainedKeys = state.realmStats.reduce((sum, realm) => sum + (realm.retainedKeys ?? 0), 0);
    fill(byId('summary'), [
      card('Sessions', state.sessions.size),
      card('Topics', state.subscriptions.size),
      card('Registrations', state.registrations.size),
      card('Retained keys', state.realmStats.length === 0 ? '—' : retainedKeys),
      card('Realms', state.realms.length),
      card('Server up', state.startedAt === 0 ? '—' : age(state.startedAt)),
    ]);
    byId('rates-off').hidden = state.metrics;
    // How many rate points the charts have: what a test (or a curious operator) can wait for.
    byId('charts').dataset.samples = String(this.rates.points.length);
    this.charts.messages.draw(this.rates.points);
    this.charts.routing.draw(this.rates.points);
    this.charts.bytes.draw(this.rates.points);
  }

  /** The realm choices of the retained browser; the default realm (the first that is not the console's) first. */
  private fillRealmChoices(): void {
    const select = byId<HTMLSelectElement>('retained-realm');
    const realms = [...this.state.realms].sort((a, b) => Number(a === this.state.consoleRealm) - Number(b === this.state.consoleRealm));
    const current = [...select.options].map((option) => option.value);
    if (current.join('\n') === realms.join('\n')) return;
    const chosen = select.value;
    fill(select, realms.map((realm) => el('option', { value: realm }, realm)));
    if (realms.includes(chosen)) select.value = chosen;
  }

  private async kick(realm: string, session: number): Promise<void> {
    if (!window.confirm(`Kick session ${session} of realm ${realm}?`)) return;
    await this.run(() => this.session!.call(ADMIN.kill, [realm, session]));
  }

  private async browseRetained(): Promise<void> {
    const realm = byId<HTMLSelectElement>('retained-realm').value;
    const filter = byId<HTMLInputElement>('retained-filter').value;
    if (realm === '' || this.session === undefined) return;
    await this.run(async () => {
      const list = (await this.session!.call(ADMIN.retainedList, [realm, filter])).args[0] as RetainedList;
      this.retained = list.entries;
      renderRetained(byId('retained-body'), list.entries);
      byId('retained-count').textContent = list.truncated ? `first ${list.entries.length}` : `${list.entries.length}`;
      byId('retained-value').hidden = true;
    });
  }

  private viewRetained(key: string): void {
    const entry = this.retained.find((candidate) => candidate.key === key);
    const viewer = byId('retained-value');
    viewer.hidden = entry === undefined;
    if (entry !== undefined) viewer.textContent = `${entry.topic}\n\n${showValue(entry.value, 2)}`;
  }

  private async deleteRetained(key: string): Promise<void> {
    const realm = byId<HTMLSelectElement>('retained-realm').value;
    if (!window.confirm(`Delete the retained key ${key} of realm ${realm}?`)) return;
    await this.run(async () => {
      await this.session!.call(ADMIN.retainedDelete, [realm, key]);
      await this.browseRetained();
    });
  }

  /** Runs an action, showing its failure (an ERROR from the router) in the banner. */
  private async run(action: () => Promise<unknown>): Promise<void> {
    const banner = byId('banner');
    banner.hidden = true;
    try {
      await action();
    } catch (failure) {
      banner.textContent = (failure as Error).message;
      banner.hidden = false;
    }
  }
}

function card(label: string, value: string | number): HTMLElement {
  return el('div', { class: 'stat' }, el('div', { class: 'stat-value' }, value), el('div', { class: 'stat-label' }, label));
}

/** Each realm's publications, events and calls per second between two stats. */
function realmRates(previous: Stats | undefined, current: Stats): Map<string, { publications: number; events: number; calls: number }> {
  const rates = new Map<string, { publications: number; events: number; calls: number }>();
  if (previous === undefined || current.time <= previous.time) return rates;
  const seconds = (current.time - previous.time) / 1000;
  const before = new Map(previous.realms.map((realm) => [realm.realm, realm.counters]));
  for (const realm of current.realms) {
    const now = realm.counters;
    const then = before.get(realm.realm);
    if (now === undefined || then === undefined) continue;
    const rate = (a: number, b: number) => Math.max(0, a - b) / seconds;
    rates.set(realm.realm, { publications: rate(now.publications, then.publications), events: rate(now.events, then.events), calls: rate(now.calls, then.calls) });
  }
  return rates;
}

new ConsolePage(pageSettings());
