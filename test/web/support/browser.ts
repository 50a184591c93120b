/**
 * Debian's Chromium driven by playwright-core, for the web interface's end-to-end tests.
 * Every page opened through `openPage` records each request it makes and each console
 * error (a CSP violation is one), and `checkAccessibility` runs axe-core on what it shows.
 */
import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { findProgram, serviceAvailable } from "../../servers/availability";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const SCREENSHOTS = fileURLToPath(new URL("../../../docs/screenshots/", import.meta.url));

/** True when Chromium is installed; otherwise says why and skips (fails under REQUIRE_SERVICES=1). */
export function chromiumAvailable(): boolean {
  return serviceAvailable("chromium", "the web interface's end-to-end tests run in a real browser");
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: findProgram("chromium") ?? "/usr/bin/chromium",
    // Chromium looks up Google's hosts by itself; nothing may leave 127.0.0.1.
    args: ["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"],
  });
}

export interface RecordedPage {
  page: Page;
  context: BrowserContext;
  /** Every URL a page in this context requested. */
  requests: string[];
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  /** Requests to anywhere but the server under test. */
  foreignRequests(): string[];
}

export async function openPage(browser: Browser, baseUrl: string): Promise<RecordedPage> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, baseURL: baseUrl });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on("request", (request) => requests.push(request.url()));
  const page = await context.newPage();
  const watch = (p: Page) => {
    p.on("console", (message) => {
      if (message.type() === "error") errors.push(`console: ${message.text()}`);
    });
    p.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  };
  watch(page);
  context.on("page", watch);
  const origin = new URL(baseUrl).origin;
  return {
    page,
    context,
    requests,
    errors,
    foreignRequests: () => requests.filter((url) => new URL(url).origin !== origin),
  };
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe-core on the page as it is now; returns the serious and critical violations. */
export async function checkAccessibility(page: Page): Promise<AxeViolation[]> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern, so the
  // page's own policy stays as strict as it is for people.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const { axe, document } = globalThis as any;
    const result: { violations: any[] } = await axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id as string,
      impact: v.impact as string | null,
      help: v.help as string,
      nodes: (v.nodes as Array<{ target: string[] }>).map((n) => n.target.join(" ")),
    }));
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** With PATCHBAY_SCREENSHOTS=1, saves the page as docs/screenshots/<name>.png (for the README). */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  if (process.env.PATCHBAY_SCREENSHOTS !== "1") return;
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: options.fullPage ?? true });
}
