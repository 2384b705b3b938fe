import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Controller, Get, Inject, Logger, NotFoundException, Param, Res } from '@nestjs/common';
import { CONSOLE_CSS, consoleHtml } from './console-page.js';
import { CONSOLE_SETTINGS, type ConsoleSettings } from './console-settings.js';

interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/** Where the build puts the page's scripts (`src/console/page/tsconfig.json`), next to this file's output. */
const PAGE_DIRECTORY = fileURLToPath(new URL('./page/', import.meta.url));

/**
 * The page may talk to its own origin only (the WAMP WebSocket included), run only its own scripts, be
 * framed by nobody (a kick button under someone else's page), and submit no form anywhere: the login form is
 * the script's, and without the script the browser must not send the password in a URL.
 */
const PAGE_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** Serves the admin console: the page at `/console`, its style sheet, and its built scripts under `/console/app/`. */
@Controller('console')
export class ConsoleController {
  private readonly html: string;
  /** The built scripts by file name, read once: nothing else under the page's directory is served. */
  private readonly scripts: ReadonlyMap<string, string>;

  constructor(@Inject(CONSOLE_SETTINGS) settings: ConsoleSettings) {
    this.html = consoleHtml(settings);
    this.scripts = readScripts();
  }

  @Get()
  page(@Res({ passthrough: true }) response: HeaderSink): string {
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.setHeader('Content-Security-Policy', PAGE_POLICY);
    response.setHeader('X-Content-Type-Options', 'nosniff');
    response.setHeader('Referrer-Policy', 'no-referrer');
    response.setHeader('Cache-Control', 'no-store');
    return this.html;
  }

  @Get('console.css')
  styles(@Res({ passthrough: true }) response: HeaderSink): string {
    response.setHeader('Content-Type', 'text/css; charset=utf-8');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    return CONSOLE_CSS;
  }

  @Get('app/:file')
  script(@Param('file') file: string, @Res({ passthrough: true }) response: HeaderSink): string {
    const script = this.scripts.get(file);
    if (script === undefined) throw new NotFoundException(`no console script ${file}`);
    response.setHeader('Content-Type', file.endsWith('.map') ? 'application/json; charset=utf-8' : 'text/javascript; charset=utf-8');
    response.setHeader('X-Content-Type-Options', 'nosniff');
    return script;
  }
}

function readScripts(): Map<string, string> {
  const scripts = new Map<string, string>();
  let files: string[] = [];
  try {
    files = readdirSync(PAGE_DIRECTORY);
  } catch {
    // Reported below.
  }
  for (const file of files) {
    if (file.endsWith('.js') || file.endsWith('.js.map')) scripts.set(file, readFileSync(`${PAGE_DIRECTORY}${file}`, 'utf8'));
  }
  if (!scripts.has('main.js')) new Logger('FoxWamp').error(`the console page is not built (no main.js in ${PAGE_DIRECTORY}): run npm run build`);
  return scripts;
}
