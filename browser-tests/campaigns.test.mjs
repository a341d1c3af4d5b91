// Outbound care campaigns in a real browser (issue 6): an analyst creates a campaign on
// /analyst/campaigns from a pasted list, an operator opens the call list (/agent/calls), sees the
// talk hints drawn from the customer's own data, records an outcome with the keyboard and gets
// the next customer; the results page draws both groups and the interval.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";

import { launchBrowser, login as loginAs, problems, screenshot } from "./common.mjs";

let browser;
const login = (loginId) => loginAs(browser, loginId);

/** Calls the JSON API from a logged-in page, with the session's CSRF token. */
async function api(page, method, path, body) {
  return page.evaluate(
    async ({ method, path, body }) => {
      const session = await (await fetch("/api/v1/session")).json();
      const response = await fetch(path, {
        method,
        headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json().catch(() => null) };
    },
    { method, path, body },
  );
}

describe("campaigns and the call list", { concurrency: false }, () => {
  /** Ids of the customers the campaign calls, in creation order. */
  const ids = [];
  let campaignId;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  it("an analyst creates a campaign from a pasted list", async () => {
    // Customers of our own with phone consent, an expectation, a product bought on a cycle and a
    // FAQ about it: the talk hints must come from these.
    const admin = await login("admin");
    const product = await api(admin, "POST", "/api/v1/products", { name: "キモチ美容液ミスト", kind: "subscription", price: 3980 });
    assert.equal(product.status, 201, JSON.stringify(product.body));
    const faq = await api(admin, "POST", "/api/v1/faq", {
      title: "キモチ美容液ミストの使い方のコツ",
      body: "キモチ美容液ミストは洗顔後すぐ、顔から20cm離して3プッシュ。乾燥が気になるときは重ねづけを。",
    });
    assert.equal(faq.status, 201, JSON.stringify(faq.body));
    for (const [i, name] of ["架電 一郎", "架電 二郎"].entries()) {
      const created = await api(admin, "POST", "/api/v1/customers", {
        name,
        kana: "カデン テスト",
        phones: [`090-7777-000${i}`],
        consent: { phone: true, email: false, dm: false },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const id = created.body.id;
      ids.push(id);
      for (const when of ["2026-08-01T10:00:00+09:00", "2026-09-01T10:00:00+09:00"]) {
        const order = await api(admin, "POST", `/api/v1/customers/${id}/orders`, {
          ordered_at: when,
          is_subscription: true,
          lines: [{ product_id: product.body.id, amount: 3980 }],
        });
        assert.equal(order.status, 201, JSON.stringify(order.body));
      }
      const note = await api(admin, "POST", `/api/v1/customers/${id}/kimochi`, {
        kind: "expectation",
        text: `${name}様：朝まで乾燥しない肌を期待して購入`,
      });
      assert.equal(note.status, 201, JSON.stringify(note.body));
    }
    await admin.context().close();

    const analyst = await login("analyst01");
    await analyst.goto("/analyst/campaigns");
    await analyst.getByRole("heading", { name: "キャンペーンを作成" }).waitFor();
    await analyst.getByLabel("名前", { exact: true }).fill("ブラウザテストのケアコール");
    await analyst.getByLabel("ホールドアウト（%）").fill("0");
    await analyst.getByLabel("顧客ID（貼り付け、空白・カンマ・改行区切り）").fill(ids.join("\n"));
    await analyst.getByLabel("2. 待つ（日数、0 で待たない）").fill("0");
    await analyst.getByLabel("対象", { exact: true }).selectOption("everyone");
    await analyst.getByLabel("開始時刻").fill("00:00");
    await analyst.getByLabel("終了時刻").fill("23:59");
    await analyst.getByLabel("架電間隔（分）").fill("0");
    // Zero members first: a clear error in the form, nothing created.
    await analyst.getByLabel("顧客ID（貼り付け、空白・カンマ・改行区切り）").fill("");
    await analyst.getByRole("button", { name: "作成する" }).click();
    await analyst.locator("#form-errors [role=alert]", { hasText: "members" }).waitFor();
    await analyst.getByLabel("顧客ID（貼り付け、空白・カンマ・改行区切り）").fill(ids.join("\n"));
    await analyst.getByRole("button", { name: "作成する" }).click();
    await analyst.waitForURL((url) => /^\/analyst\/campaigns\/\d+$/.test(url.pathname));
    campaignId = Number(new URL(analyst.url()).pathname.split("/").pop());
    await analyst.getByRole("heading", { name: /キャンペーンの結果/ }).waitFor();
    // Nothing has happened yet: said in words, not only as empty bars.
    await analyst.locator("#no-outcomes", { hasText: "まだ結果はありません" }).waitFor();
    await screenshot(analyst, "30-campaign-created");
    await analyst.context().close();
  });

  it("an operator opens the call list, sees talk hints, records an outcome and gets the next customer", async () => {
    const operator = await login("op01");
    await operator.getByRole("navigation", { name: "メインメニュー" }).getByRole("link", { name: "架電リスト" }).click();
    await operator.waitForURL((url) => url.pathname === "/agent/calls");
    // The demo tenant may have campaigns of its own: ours is served through its filter.
    await operator.goto(`/agent/calls?campaign=${campaignId}`);
    const customer = operator.locator("#call-customer");
    await customer.waitFor();
    const first = (await customer.getByRole("heading").innerText()).trim();
    assert.match(first, /^架電 [一二]郎/);
    const hints = operator.locator("#talk-hints");
    assert.match(await hints.locator("#hint-expectation").innerText(), /朝まで乾燥しない肌を期待/);
    assert.match(await hints.locator("#hint-products").innerText(), /キモチ美容液ミスト/);
    assert.match(await hints.locator("#hint-products").innerText(), /31/, "the purchase cycle in days");
    assert.match(await hints.locator("#hint-faq").innerText(), /使い方のコツ/);
    await screenshot(operator, "31-call-list");

    // Keyboard only: the first outcome has the focus; arrow to 「不在」, type a note, submit.
    await operator.locator("#outcome-reached").focus();
    await operator.keyboard.press("ArrowDown");
    assert.equal(await operator.locator("#outcome-no_answer").isChecked(), true);
    await operator.locator("#call-text").focus();
    await operator.keyboard.type("留守番電話。夕方に再度おかけします");
    await operator.keyboard.press("Tab");
    await Promise.all([operator.waitForEvent("load"), operator.keyboard.press("Enter")]);
    // The next customer comes: the other one of ours.
    await operator.waitForFunction(
      (previous) => {
        const heading = document.querySelector("#call-customer h2");
        return heading && !heading.textContent.startsWith(previous);
      },
      first.slice(0, 4),
    );
    const second = (await operator.locator("#call-customer h2").innerText()).trim();
    assert.notEqual(second.slice(0, 4), first.slice(0, 4));
    await operator.getByLabel("4. ガチャ切り").check();
    await Promise.all([
      operator.waitForEvent("load"),
      operator.getByRole("button", { name: "記録して次のお客様へ" }).click(),
    ]);
    // The first customer waits for the spacing? No: spacing is 0, so they come back for their
    // second attempt; the second customer hung up and is done.
    await operator.waitForFunction(() => {
      const heading = document.querySelector("#call-customer h2");
      const none = document.querySelector("#no-calls");
      return none || (heading && heading.textContent.trim().length > 0);
    });
    await screenshot(operator, "32-call-list-next");

    // The attempts are contacts on the karte: phone, outbound, with the note.
    const contacts = await api(operator, "GET", `/api/v1/customers/${ids[0]}/contacts`);
    const texts = [...contacts.body.contacts, ...(await api(operator, "GET", `/api/v1/customers/${ids[1]}/contacts`)).body.contacts];
    assert.ok(texts.some((c) => c.text.includes("留守番電話") && c.outcome === "no_contact" && c.direction === "outbound"));
    assert.ok(texts.some((c) => c.outcome === "hung_up"));
    await operator.context().close();
  });

  it("the results page draws both groups and the interval", async () => {
    const analyst = await login("analyst01");
    await analyst.goto(`/analyst/campaigns/${campaignId}`);
    await analyst.locator("#campaign-rates-chart svg").waitFor();
    assert.ok((await analyst.locator("#campaign-rates-chart rect").count()) >= 8, "two bars per proportion");
    // Without a holdout there is no difference to draw: said, not drawn empty.
    await analyst.locator("#campaign-lift-chart [role=note]", { hasText: "データ不足" }).waitFor();

    // A campaign of demo customers from an RFM cell with the default 10 % holdout: both groups.
    await analyst.goto("/analyst/campaigns");
    let created = false;
    for (const cell of ["111", "211", "112", "555", "311", "121"]) {
      await analyst.getByLabel("名前", { exact: true }).fill(`RFM ${cell} のケア`);
      await analyst.getByLabel("RFMセル（例: 155）").fill(cell);
      await analyst.getByLabel("2. 待つ（日数、0 で待たない）").fill("0");
      // No email step here, so the calls go to everyone (a call for those who did not open needs
      // an email and a wait before it).
      await analyst.locator("#c-condition").selectOption("everyone");
      await analyst.getByRole("button", { name: "作成する" }).click();
      const ended = await Promise.race([
        analyst.waitForURL((url) => /^\/analyst\/campaigns\/\d+$/.test(url.pathname)).then(() => "created", () => "none"),
        analyst.locator("#form-errors [role=alert]").waitFor().then(() => "refused", () => "none"),
      ]);
      if (ended === "created") {
        created = true;
        break;
      }
      await analyst.locator("#form-errors").evaluate((node) => node.replaceChildren());
    }
    assert.ok(created, "one of the RFM cells has customers");
    await analyst.locator("#campaign-lift-chart svg").waitFor();
    // An interval per proportion (retention only when the cell has subscribers).
    assert.ok((await analyst.locator("#campaign-lift-chart line.ci").count()) >= 3);
    const table = await analyst.locator("#campaign-results").innerText();
    assert.match(table, /接触率/);
    assert.match(table, /1人あたり売上/);
    assert.match(table, /pt/);
    assert.doesNotMatch(await analyst.locator("#campaign-results tbody tr").first().innerText(), /– \(n=0\)/);
    await screenshot(analyst, "33-campaign-results");
    await analyst.context().close();
  });

  it("saw no console errors, exceptions or dialogs on any page", () => {
    assert.deepEqual(problems, []);
  });
  it("on the demo data: a campaign from a saved care segment; the call list speaks from the customer's own words", async () => {
    const analyst = await login("analyst01");
    // Issue 6's care segment on the demo business. The browser suite loads 2,000 customers, too
    // few for the churn-level and no-answer conditions (the API test on 20,000 has them), so
    // here: subscribers whose expectation went unmet and who may be called.
    const rule = {
      all: [
        { field: "stage", op: "in", value: ["subscription"] },
        { field: "unmet_expectation", op: "eq", value: true },
        { field: "consent_phone", op: "eq", value: true },
        { field: "do_not_call", op: "eq", value: false },
      ],
    };
    const count = await api(analyst, "POST", "/api/v1/segments/count", { rule });
    assert.equal(count.status, 200, JSON.stringify(count.body));
    assert.ok(count.body.count >= 5, `the demo has subscribers with unmet expectations: ${count.body.count}`);
    const name = "期待未充足の定期顧客（デモ）";
    const segment = await api(analyst, "POST", "/api/v1/segments", { name, rule });
    assert.equal(segment.status, 201, JSON.stringify(segment.body));

    await analyst.goto("/analyst/campaigns");
    await analyst.getByLabel("名前", { exact: true }).fill("期待ギャップのケアコール（デモ）");
    await analyst.locator("#c-segment").selectOption({ label: name });
    await analyst.getByLabel("2. 待つ（日数、0 で待たない）").fill("0");
    await analyst.locator("#c-condition").selectOption("everyone");
    await analyst.getByLabel("開始時刻").fill("00:00");
    await analyst.getByLabel("終了時刻").fill("23:59");
    await analyst.getByRole("button", { name: "作成する" }).click();
    await analyst.waitForURL((url) => /^\/analyst\/campaigns\/\d+$/.test(url.pathname));
    const demoCampaign = Number(new URL(analyst.url()).pathname.split("/").pop());
    const members = await api(analyst, "GET", `/api/v1/campaigns/${demoCampaign}/members?limit=1000`);
    assert.equal(members.body.members.length, count.body.count, "the snapshot is the segment");
    const holdout = members.body.members.filter((m) => m.group === "holdout").map((m) => m.customer_id);
    assert.ok(holdout.length >= 1, "the default 10 % holdout");
    await analyst.context().close();

    const operator = await login("op01");
    await operator.goto(`/agent/calls?campaign=${demoCampaign}`);
    await operator.locator("#call-customer").waitFor();
    const href = await operator.locator("#call-customer a[href^='/agent/customers/']").getAttribute("href");
    const customerId = Number(href.split("/").pop());
    assert.ok(!holdout.includes(customerId), "the holdout is never called");
    // The expectation hint is the customer's own words, from a kimochi note or a contact.
    const expectation = (await operator.locator("#hint-expectation").innerText()).trim();
    const notes = await api(operator, "GET", `/api/v1/customers/${customerId}/kimochi`);
    const contacts = await api(operator, "GET", `/api/v1/customers/${customerId}/contacts?limit=200`);
    const ownWords = [...notes.body.kimochi, ...contacts.body.contacts].map((record) => record.text);
    assert.ok(ownWords.some((text) => text.includes(expectation)), expectation);
    assert.match(await operator.locator("#hint-gap").innerText(), /\d/, "how far experience fell short");
    // Use tips from the demo's FAQ about the kind of product the customer buys (美容液).
    assert.ok((await operator.locator("#hint-faq li").count()) >= 1, "FAQ tips for the customer's products");
    await screenshot(operator, "34-call-list-demo-care");
    await operator.getByLabel("1. 通話できた").check();
    await operator.locator("#call-text").fill("効果の出方についてご説明し、使い方を見直すことに。");
    await Promise.all([
      operator.waitForEvent("load"),
      operator.getByRole("button", { name: "記録して次のお客様へ" }).click(),
    ]);
    await operator.locator("#call-customer").waitFor();
    const next = await operator.locator("#call-customer a[href^='/agent/customers/']").getAttribute("href");
    assert.notEqual(next, href, "the next customer of the care list");
    const history = await api(operator, "GET", `/api/v1/customers/${customerId}/contacts?limit=200`);
    assert.ok(history.body.contacts.some((c) => c.text.includes("使い方を見直す") && c.direction === "outbound"));
    await operator.context().close();
  });
});
