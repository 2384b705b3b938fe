import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`scripts/ensure-test-packages.sh` installs it); `FOX_CHROMIUM` points elsewhere. */
export const CHROMIUM_PATH = process.env.FOX_CHROMIUM ?? '/usr/bin/chromium';

/** Launches headless Chromium through playwright-core, which downloads no browser of its own. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's chromium (bash scripts/ensure-test-packages.sh) or set FOX_CHROMIUM`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true });
}
