// What every browser test file shares: Debian's Chromium launched the way CI can run it, a
// logged-in page per role, screenshots, and the list of problems (console errors, uncaught
// exceptions, dialogs, failed requests) seen on any page, which each file asserts is empty last.
// `run.sh` starts a server over a fresh demo tenant and sets BASE_URL and SCREENSHOT_DIR.
import path from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = process.env.BASE_URL ?? "http://127.0.0.1:8080";
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR ?? "ci-artifacts/screenshots";
const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
export const PASSWORD = "kimochi-demo";

/** Problems seen on any page: console errors, uncaught exceptions, dialogs. */
export const problems = [];

/** Debian's Chromium, headless, with nothing that reaches the network on its own. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function watch(page, label) {
  page.on("console", (message) => {
    if (message.type() === "error") {
      problems.push(`${label} console error on ${page.url()}: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`${label} uncaught exception on ${page.url()}: ${error.message}`));
  page.on("dialog", async (dialog) => {
    problems.push(`${label} dialog opened on ${page.url()}: ${dialog.message()}`);
    await dialog.dismiss();
  });
  page.on("requestfailed", (request) => {
    // Downloads are aborted by design once saved, and the browser cancels a favicon fetch still
    // in flight when the test navigates on (net::ERR_ABORTED: nothing the server did); anything
    // else failing is a problem.
    const cancelledFavicon = request.url().includes("favicon") && request.failure()?.errorText === "net::ERR_ABORTED";
    if (!request.url().includes("/export.") && !cancelledFavicon) {
      problems.push(`${label} request failed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
}

export async function login(browser, loginId) {
  const context = await browser.newContext({ baseURL: BASE_URL, locale: "ja-JP", timezoneId: "Asia/Tokyo" });
  const page = await context.newPage();
  watch(page, loginId);
  await page.goto("/login");
  await page.getByLabel("テナント").fill("demo");
  await page.getByLabel("ログインID").fill(loginId);
  await page.getByLabel("パスワード").fill(PASSWORD);
  await page.getByRole("button", { name: "ログイン" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/login"));
  return page;
}

export async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** Half-width digits and hyphens as full-width ones, the way a Japanese IME often types them. */
export function fullWidth(digits) {
  return digits.replace(/[0-9-]/g, (d) => (d === "-" ? "－" : String.fromCharCode(d.charCodeAt(0) + 0xfee0)));
}
