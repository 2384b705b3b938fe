import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** How long a step of the console waits for what it expects to see (a live change arrives within ~100 ms). */
const STEP_TIMEOUT_MS = 5_000;

/**
 * The admin console at `/console` in a headless browser, driven as an operator would: log in, read the tables,
 * kick sessions, browse and delete retained keys. Locators point at rows by the data attributes the page
 * puts on them (`data-session`, `data-client-id`, `data-uri`, `data-topic`); confirmation dialogs are
 * accepted.
 */
export class AdminConsole {
  /** Errors the page's scripts threw, and messages they logged as errors (a test may assert there were none). */
  readonly pageErrors: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    page.on('dialog', (dialog) => void dialog.accept());
    page.on('pageerror', (error) => this.pageErrors.push(error.message));
  }

  /** A fresh browser context (no cookies, no storage) with the console page open, not logged in. */
  static async open(browser: Browser, httpUrl: string): Promise<AdminConsole> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const adminConsole = new AdminConsole(context, await context.newPage());
    const response = await adminConsole.page.goto(`${httpUrl}/console`);
    if (response?.status() !== 200) throw new Error(`GET /console answered ${response?.status()}`);
    return adminConsole;
  }

  /** Fills in the login form and submits it (without waiting for the outcome). */
  async submitLogin(user: string, password: string): Promise<void> {
    await this.page.fill('input[name=authid]', user);
    await this.page.fill('input[name=secret]', password);
    await this.page.click('#login-form button[type=submit]');
  }

  /** Logs in and waits until the dashboard shows the snapshot. */
  async login(user: string, password: string): Promise<void> {
    await this.submitLogin(user, password);
    await this.page.locator('#dashboard').waitFor({ state: 'visible' });
  }

  /** The text of the login form's error line, once it has one. */
  async loginError(): Promise<string> {
    const error = this.page.locator('#login-error:not(:empty)');
    await error.waitFor();
    return (await error.textContent()) ?? '';
  }

  /** The row of a session in the sessions table, by its session ID. */
  sessionRow(realm: string, session: number): Locator {
    return this.page.locator(`#sessions-body tr[data-realm="${realm}"][data-session="${session}"]`);
  }

  /** The row of an MQTT session, by its client identifier. */
  mqttSessionRow(clientId: string): Locator {
    return this.page.locator(`#sessions-body tr[data-client-id="${clientId}"]`);
  }

  topicRow(realm: string, uri: string): Locator {
    return this.page.locator(`#topics-body tr[data-realm="${realm}"][data-uri="${uri}"]`);
  }

  registrationRow(realm: string, uri: string): Locator {
    return this.page.locator(`#registrations-body tr[data-realm="${realm}"][data-uri="${uri}"]`);
  }

  realmRow(realm: string): Locator {
    return this.page.locator(`#realms-body tr[data-realm="${realm}"]`);
  }

  /** Waits until the cell in column `column` (from 0) of a row reads exactly `text` (loads change once a second). */
  async waitForCell(row: Locator, column: number, text: string): Promise<void> {
    const exactly = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`);
    await row.locator('td').nth(column).filter({ hasText: exactly }).waitFor();
  }

  /** Waits until a cell's text, read as a number, is above zero (a rate that the next stats show). */
  async waitForPositive(cell: Locator): Promise<void> {
    // Read from outside the page: its Content-Security-Policy forbids the string evaluation of waitForFunction.
    await expect.poll(async () => Number.parseFloat((await cell.textContent()) ?? '0'), { timeout: STEP_TIMEOUT_MS }).toBeGreaterThan(0);
  }

  /** Clicks a session row's Kick button (and accepts the confirmation). */
  async kick(row: Locator): Promise<void> {
    await row.locator('button.kick').click();
  }

  /** Lists the retained keys of `realm` that `filter` matches (a WAMP pattern with `*`/`#`, or an MQTT filter). */
  async browseRetained(realm: string, filter: string): Promise<void> {
    await this.page.selectOption('#retained-realm', realm);
    await this.page.fill('#retained-filter', filter);
    await this.page.click('#retained-form button[type=submit]');
  }

  retainedRow(topic: string): Locator {
    return this.page.locator(`#retained-body tr[data-topic="${topic}"]`);
  }

  /** Opens a retained entry in the viewer and returns what the viewer shows. */
  async viewRetained(topic: string): Promise<string> {
    await this.retainedRow(topic).locator('button.view').click();
    const viewer = this.page.locator('#retained-value');
    await viewer.waitFor({ state: 'visible' });
    return (await viewer.textContent()) ?? '';
  }

  async deleteRetained(topic: string): Promise<void> {
    await this.retainedRow(topic).locator('button.delete').click();
  }

  /** Waits until the charts have `count` rate points (one per second of stats after the first). */
  async waitForRateSamples(count: number, timeoutMs = STEP_TIMEOUT_MS + count * 1000): Promise<void> {
    const charts = this.page.locator('#charts');
    await expect.poll(async () => Number((await charts.getAttribute('data-samples')) ?? 0), { timeout: timeoutMs }).toBeGreaterThanOrEqual(count);
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}
