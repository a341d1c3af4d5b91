// The target-list builder (issue 6, T2) in a real browser: an analyst builds "subscribers with a
// high churn risk" from the demo data without writing JSON, watches the live count change as
// rows change, saves the segment and exports it as CSV (masked for analysts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

import path from "node:path";

import { SCREENSHOT_DIR, launchBrowser, login as loginAs, problems, screenshot } from "./common.mjs";

let browser;

/** Runs `action` and waits for the builder's htmx round trip it causes. */
async function change(page, action) {
  await Promise.all([
    page.waitForResponse((response) => response.url().endsWith("/analyst/targets/builder")),
    action(),
  ]);
  // htmx settles the swapped form after the response.
  await page.locator("#target-builder").waitFor();
  await page.waitForTimeout(50);
}

async function liveCount(page) {
  const output = page.locator("#segment-count");
  if ((await output.count()) === 0) {
    return null;
  }
  return Number((await output.innerText()).trim());
}

describe("the target-list builder", { concurrency: false }, () => {
  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  it("builds churn-prone subscribers, counts live, saves and exports CSV", async () => {
    const analyst = await loginAs(browser, "analyst01");
    await analyst.getByRole("navigation", { name: "メインメニュー" }).getByRole("link", { name: "ターゲット" }).click();
    await analyst.waitForURL("**/analyst/targets");
    assert.equal(await liveCount(analyst), null, "no count before any condition");

    // Row 1: stage is subscription.
    await change(analyst, () => analyst.locator("#field_0").selectOption("stage"));
    await change(analyst, () => analyst.locator("#value_0").getByLabel("定期", { exact: true }).check());
    const subscribers = await liveCount(analyst);
    assert.ok(subscribers > 0, `the demo has subscribers (${subscribers})`);

    // Row 2: churn risk is high; the count narrows.
    await change(analyst, () => analyst.locator("#field_1").selectOption("churn_level"));
    await change(analyst, () => analyst.locator("#value_1").getByLabel("高", { exact: true }).check());
    const churnProne = await liveCount(analyst);
    assert.ok(churnProne > 0 && churnProne < subscribers, `${churnProne} of ${subscribers} subscribers at high risk`);

    // NOT on row 2 gives the complement within the subscribers.
    await change(analyst, () => analyst.locator('input[name="not_1"]').check());
    const rest = await liveCount(analyst);
    assert.equal(churnProne + rest, subscribers, "NOT is the complement");
    await change(analyst, () => analyst.locator('input[name="not_1"]').uncheck());
    assert.equal(await liveCount(analyst), churnProne);

    // A contradiction shows an error beside its row and no count.
    await change(analyst, () => analyst.locator("#field_2").selectOption("stage"));
    await change(analyst, () => analyst.locator("#value_2").getByLabel("休眠", { exact: true }).check());
    const rowError = analyst.locator("#row-2 .error-text");
    await rowError.waitFor();
    assert.match(await rowError.innerText(), /矛盾/);
    assert.equal(await liveCount(analyst), null);
    // Not `screenshot()`: with a text field focused, Playwright's caret hiding injects an inline
    // style that the Content-Security-Policy refuses (and reports as a console error).
    await analyst.screenshot({ path: path.join(SCREENSHOT_DIR, "20-target-builder-error.png"), fullPage: true, caret: "initial" });
    await change(analyst, () => analyst.getByRole("button", { name: "削除 3" }).click());
    assert.equal(await liveCount(analyst), churnProne);

    // Save, and find it in the list with its count.
    // Each typed field is committed (its change event refreshes the count) before the next one,
    // so no refresh is still in flight when saving navigates away.
    for (const [label, text] of [["名前", "離反リスク高の定期顧客"], ["説明", "ブラウザテストで作成"]]) {
      await change(analyst, async () => {
        await analyst.getByLabel(label).fill(text);
        await analyst.getByLabel(label).press("Tab");
      });
    }
    await Promise.all([analyst.waitForURL("**/analyst/targets?saved=*"), analyst.getByRole("button", { name: "保存", exact: true }).click()]);
    await analyst.getByText("保存しました。").waitFor();
    const row = analyst.locator("table.saved-segments tbody tr", { hasText: "離反リスク高の定期顧客" });
    assert.equal(Number((await row.locator("td.num").innerText()).trim()), churnProne);
    assert.match(await row.innerText(), /ブラウザテストで作成/, "the description typed while the count refreshed is kept");
    await screenshot(analyst, "21-target-builder-saved");

    const [download] = await Promise.all([analyst.waitForEvent("download"), row.getByRole("link", { name: "CSV" }).click()]);
    assert.match(download.suggestedFilename(), /^segment-\d+\.csv$/);
    const text = await readFile(await download.path(), "utf8");
    assert.ok(text.startsWith("\ufeff"), "UTF-8 with BOM for Excel");
    const lines = text.slice(1).trimEnd().split("\r\n");
    assert.match(lines[0], /^顧客ID,顧客番号,氏名,カナ,電話番号,メールアドレス/);
    assert.equal(lines.length - 1, churnProne, "one row per member");
    assert.doesNotMatch(text, /\b0\d{1,4}-\d{1,4}-\d{4}\b/, "no clear phone number in an analyst's export");

    // Opening the saved segment fills the builder again.
    await row.getByRole("link", { name: "離反リスク高の定期顧客" }).click();
    await analyst.waitForURL("**/analyst/targets?segment=*");
    assert.equal(await liveCount(analyst), churnProne);
    await analyst.context().close();
  });

  it("picks a hearing question and its answer, and a typed URL for web visits", async () => {
    const analyst = await loginAs(browser, "analyst01");
    await analyst.goto(new URL("/analyst/targets", analyst.url()).href);
    // The demo's operators recorded 美容への投資意欲 on inbound calls of the last year.
    await change(analyst, () => analyst.locator("#field_0").selectOption("hearing_choice"));
    await analyst.locator("#row-0 .error-text").waitFor();
    assert.equal(await liveCount(analyst), null, "no count before a question is chosen");
    await change(analyst, () => analyst.locator("#subject_0").selectOption({ label: "肌と暮らしの聞き出し / 美容への投資意欲" }));
    await change(analyst, () => analyst.locator("#value_0").getByLabel("高い", { exact: true }).check());
    const eager = await liveCount(analyst);
    assert.ok(eager > 0, `customers whose latest appetite is 高い (${eager})`);
    await change(analyst, () => analyst.locator("#value_0").getByLabel("低い", { exact: true }).check());
    const either = await liveCount(analyst);
    assert.ok(either > eager, `高い or 低い (${either}) is more than 高い alone (${eager})`);

    // Web visits: the URL is typed, the window is required.
    // Each typed field is committed with Tab (its change event) before the next one.
    const type = (id, text) => change(analyst, async () => {
      await analyst.locator(id).fill(text);
      await analyst.locator(id).press("Tab");
    });
    await change(analyst, () => analyst.locator("#field_1").selectOption("web_visits"));
    await change(analyst, () => analyst.locator("#op_1").selectOption("gte"));
    await type("#subject_1", "products/serum");
    await type("#value_1", "1");
    await type("#days_1", "3650");
    const visitors = await liveCount(analyst);
    assert.ok(visitors !== null && visitors <= either, `appetite and a serum page visit (${visitors})`);
    await analyst.screenshot({ path: path.join(SCREENSHOT_DIR, "22-target-builder-hearing.png"), fullPage: true, caret: "initial" });
    await analyst.waitForLoadState("networkidle");
    await analyst.context().close();
  });

  it("saw no console errors, exceptions or dialogs on any page", () => {
    assert.deepEqual(problems, []);
  });
});
