// The public email pages (issue 6, F6) as a reader of a mail sees them, without logging in: the
// unsubscribe confirmation (a link scanner's GET must not unsubscribe anyone), its button, and
// the answer; a click on a tracked link that is not valid. An unknown token is answered exactly
// like a real one, so these pages can be checked without a sent email.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { BASE_URL, launchBrowser, problems, screenshot, watch } from "./common.mjs";

describe("email pages for readers", () => {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it("asks before unsubscribing, then confirms in Japanese and English", async () => {
    const context = await browser.newContext({ baseURL: BASE_URL, locale: "ja-JP" });
    const page = await context.newPage();
    watch(page, "reader");
    const response = await page.goto(`/t/u/${"0".repeat(32)}`);
    assert.equal(response.status(), 200);
    await page.getByRole("heading", { name: "配信停止 / Unsubscribe" }).waitFor();
    assert.match(await page.locator("main").innerText(), /今後のメール配信を停止しますか/);
    await screenshot(page, "30-email-unsubscribe-confirm");
    await page.getByRole("button", { name: "配信を停止する / Unsubscribe" }).click();
    await page.getByRole("heading", { name: /配信を停止しました/ }).waitFor();
    assert.match(await page.locator("main").innerText(), /You will no longer receive these emails/);
    await screenshot(page, "31-email-unsubscribed");

    const click = await page.goto(`/t/c/${"0".repeat(32)}/0`);
    assert.equal(click.status(), 404);
    await page.getByRole("heading", { name: /リンクが見つかりません/ }).waitFor();
    await context.close();
  });

  it("saw no console errors, exceptions or dialogs on any page", () => {
    // The 404 of the invalid link is the answer under test, not a problem.
    const unexpected = problems.filter((p) => !(p.includes("/t/c/") && p.includes("404")));
    assert.deepEqual(unexpected, []);
  });
});
