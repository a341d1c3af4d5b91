// kimochi's pages in a real browser: Debian's Chromium driven by playwright-core, run with node's
// built-in test runner. `run.sh` starts a server over a fresh demo tenant and sets BASE_URL and
// SCREENSHOT_DIR. The tests run in order and share one browser; each role has its own context.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";

import {
  PASSWORD,
  fullWidth,
  launchBrowser,
  login as loginAs,
  problems,
  screenshot,
} from "./common.mjs";

// What a stranger might post on SNS: if any of it ran, a dialog would open or a global be set.
const HOSTILE_VOC =
  "<script>window.__kimochiXss = 1; alert('xss')</script>" +
  "<img src=x onerror=\"window.__kimochiXss = 2; alert('img')\"> 届いた商品が違う😡 #返金して";

let browser;
const login = (loginId) => loginAs(browser, loginId);

describe("kimochi in a browser", { concurrency: false }, () => {
  let agent;
  /** A demo customer with kana and a phone number, found through the API. */
  let customer;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  it("logs in and lands on the home page", async () => {
    agent = await login("op01");
    assert.equal(new URL(agent.url()).pathname, "/");
    assert.equal(await agent.locator("html").getAttribute("lang"), "ja");
    await screenshot(agent, "01-home-agent");
    const found = await agent.evaluate(async () => {
      const response = await fetch("/api/v1/customers?q=%E3%82%A2&limit=50");
      return (await response.json()).customers;
    });
    customer = found.find((c) => c.kana && c.phones.length > 0);
    assert.ok(customer, "a demo customer with kana and a phone number");
  });

  it("searches by kana as the operator types", async () => {
    await agent.goto("/agent");
    const box = agent.getByLabel("氏名・カナ・電話番号・メールアドレス");
    await box.pressSequentially(customer.kana.slice(0, 4), { delay: 30 });
    const link = agent.locator("#results").getByRole("link", { name: customer.name });
    await link.first().waitFor();
    assert.equal(new URL(agent.url()).pathname, "/agent", "live results, no page load");
    await screenshot(agent, "02-search-kana");
  });

  it("searches by a phone number typed with full-width digits", async () => {
    await agent.goto("/agent");
    const typed = fullWidth(customer.phones[0]);
    await agent.getByLabel("氏名・カナ・電話番号・メールアドレス").fill(typed);
    await agent.locator("#results").getByRole("link", { name: customer.name }).first().waitFor();
    await screenshot(agent, "03-search-phone-full-width");
  });

  it("opens the karte with its scores", async () => {
    await agent.locator("#results").getByRole("link", { name: customer.name }).first().click();
    await agent.waitForURL(`**/agent/customers/${customer.id}`);
    await agent.getByRole("heading", { name: "スコア" }).waitFor();
    const scores = await agent.locator("#scores").innerText();
    assert.match(scores, /ステージ/);
    assert.doesNotMatch(scores, /未スコア/, "the demo was analysed");
    assert.match(scores, /RFMセル/);
    assert.match(scores, /離反リスク/);
    await screenshot(agent, "04-karte");
  });

  it("logs an inbound contact and shows it with its kimochi tags in the history without a reload", async () => {
    await agent.evaluate(() => {
      window.__kimochiMarker = "same page";
    });
    await agent.getByLabel("チャネル").selectOption("phone");
    await agent.getByLabel("受信").check();
    await agent.getByLabel("用件").fill("お届け日の確認");
    await agent.getByLabel("結果").selectOption("resolved");
    await agent.getByLabel("お客様の声（VOC）").fill("来週の火曜に届くと助かります。いつも丁寧にありがとう。");
    // The kimochi heard so far show under the text while the operator types.
    await agent.locator("#voc-tags").getByText("感謝").waitFor();
    await screenshot(agent, "05a-karte-live-kimochi");
    await agent.getByRole("button", { name: "記録する" }).click();
    const newest = agent.locator("#history .thread").first();
    await newest.getByText("来週の火曜に届くと助かります。").waitFor();
    assert.match(await newest.innerText(), /お届け日の確認/);
    // The text engine's kimochi tags come with it.
    await newest.locator("ul.tags").getByText("感謝").waitFor();
    assert.equal(await agent.evaluate(() => window.__kimochiMarker), "same page", "no full reload");
    assert.equal(await agent.getByLabel("お客様の声（VOC）").inputValue(), "", "the form is cleared");
    assert.equal(await agent.locator("#voc-tags .badge").count(), 0, "and so is the live reading");
    await screenshot(agent, "05-karte-contact-logged");
  });

  it("leaves a kimochi note and a caution that the karte shows after saving", async () => {
    await agent.getByLabel("キモチの種類").selectOption("life_event");
    await agent.getByLabel("お客さまの言葉・様子").fill("来春に娘さんの結婚式があり、それまでに肌を整えたい");
    await agent.getByRole("button", { name: "キモチメモを保存" }).click();
    await agent.locator("ol.timeline").getByText("娘さんの結婚式").waitFor();
    await agent.locator("#handover-kind-caution").check();
    await agent.getByLabel("次の担当者へのメモ").fill("平日の日中は仕事中のため夕方以降に連絡");
    await agent.getByRole("button", { name: "メモを保存", exact: true }).click();
    await agent.locator("section.banner.caution").getByText("夕方以降に連絡").waitFor();
  });

  it("renders an SNS post with <script> and <img onerror> as inert text", async () => {
    await agent.getByLabel("チャネル").selectOption("sns");
    await agent.getByLabel("受信").check();
    await agent.getByLabel("お客様の声（VOC）").fill(HOSTILE_VOC);
    await agent.getByRole("button", { name: "記録する" }).click();
    await agent.locator("#history .thread").first().getByText("#返金して").waitFor();
    // After the htmx swap, and again after a full load of the karte.
    for (const when of ["swapped", "reloaded"]) {
      if (when === "reloaded") {
        await agent.reload();
      }
      const voc = agent.locator("#history .voc", { hasText: "#返金して" }).first();
      assert.equal(await voc.innerText(), HOSTILE_VOC, `shown as text (${when})`);
      assert.equal(await agent.locator("#history img").count(), 0, `no image element (${when})`);
      assert.equal(await agent.locator("#history script").count(), 0, `no script element (${when})`);
      assert.equal(await agent.evaluate(() => window.__kimochiXss), undefined, `nothing ran (${when})`);
    }
    await screenshot(agent, "06-karte-hostile-voc");
  });

  it("pops the karte for a caller's number", async () => {
    await agent.goto(`/agent/pop?phone=${encodeURIComponent(customer.phones[0])}`);
    // One customer opens the karte; a shared number lists them.
    const url = new URL(agent.url());
    if (url.pathname.startsWith("/agent/customers/")) {
      await agent.getByRole("heading", { name: "スコア" }).waitFor();
    } else {
      await agent.getByRole("link", { name: customer.name }).first().waitFor();
    }
    await agent.goto("/agent/pop?phone=0120-999-000");
    await agent.getByText("この番号のお客様は登録されていません。").waitFor();
    await screenshot(agent, "07-screen-pop-not-found");
  });

  it("shows the RFM heat map, lists a cell and exports it as CSV", async () => {
    const analyst = await login("analyst01");
    await analyst.goto("/analyst/rfm");
    const cells = analyst.locator("a.rfm-cell");
    assert.equal(await cells.count(), 125);
    // The fullest cell: the list must have rows.
    const counts = await cells.evaluateAll((links) => links.map((a) => [a.dataset.cell, Number(a.textContent)]));
    const [cell, count] = counts.reduce((best, next) => (next[1] > best[1] ? next : best));
    assert.ok(count > 0, "some cell has customers");
    await analyst.locator(`a.rfm-cell[data-cell="${cell}"]`).click();
    const heading = analyst.locator("#cell-list-heading");
    await heading.waitFor();
    assert.match(await heading.innerText(), new RegExp(`${cell}`));
    const rows = analyst.locator("#cell-list tbody tr");
    assert.equal(await rows.count(), Math.min(count, 50));
    // Analysts see phone numbers masked.
    const phones = await analyst.locator("#cell-list td.phone").allInnerTexts();
    for (const phone of phones.filter((p) => p.length > 0)) {
      assert.match(phone, /^(\*\*\*-\*\*\*\*-\d{4}(, )?)+$/, `masked: ${phone}`);
    }
    await screenshot(analyst, "08-rfm-heat-map");

    const [download] = await Promise.all([
      analyst.waitForEvent("download"),
      analyst.getByRole("link", { name: "CSVで書き出す" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `rfm-${cell}.csv`);
    const text = await readFile(await download.path(), "utf8");
    assert.ok(text.startsWith("\ufeff"), "UTF-8 with BOM for Excel");
    const lines = text.slice(1).trimEnd().split("\r\n");
    assert.match(lines[0], /^顧客ID,顧客番号,氏名,カナ,電話番号,/);
    assert.equal(lines.length - 1, count, "one row per customer of the cell");
    assert.ok(lines.slice(1).every((line) => line.includes(`,${cell},`)), "every row is in the cell");
    assert.doesNotMatch(text, /\b0\d{1,4}-\d{1,4}-\d{4}\b/, "no clear phone number in an analyst's export");
    await analyst.context().close();
  });

  it("shows analysts masked phone numbers on search and karte", async () => {
    const analyst = await login("analyst01");
    await analyst.goto("/agent");
    await analyst.getByLabel("氏名・カナ・電話番号・メールアドレス").fill(customer.kana.slice(0, 4));
    await analyst.locator("#results").getByRole("link", { name: customer.name }).first().waitFor();
    const results = await analyst.locator("#results").innerText();
    assert.match(results, /\*\*\*-\*\*\*\*-\d{4}/);
    assert.ok(!results.includes(customer.phones[0]), "no clear number in the results");
    await analyst.goto(`/agent/customers/${customer.id}`);
    const karte = await analyst.locator("main").innerText();
    assert.ok(!karte.includes(customer.phones[0]), "no clear number on the karte");
    assert.match(karte, /\*\*\*-\*\*\*\*-\d{4}/);
    assert.equal(await analyst.locator("#contact-form").count(), 0, "analysts cannot log contacts");
    await screenshot(analyst, "09-karte-analyst-masked");
    await analyst.context().close();
  });

  it("finds an FAQ article from the karte's FAQ panel as the operator types", async () => {
    await agent.goto(`/agent/customers/${customer.id}`);
    await agent.evaluate(() => {
      window.__kimochiMarker = "same page";
    });
    const box = agent.getByLabel("FAQを検索");
    await box.focus();
    await agent.keyboard.type("休止したい", { delay: 30 });
    const hit = agent.locator("#faq-results .faq-hit").filter({ hasText: "定期便を一時的に休止したい" });
    await hit.first().waitFor();
    assert.match(await hit.first().locator("h3 mark").first().innerText(), /休止/);
    assert.equal(await agent.evaluate(() => window.__kimochiMarker), "same page", "live results, no page load");
    await hit.first().scrollIntoViewIfNeeded();
    await screenshot(agent, "11-karte-faq-panel");
    // Another query replaces the results.
    await box.fill("お届け日");
    await agent.locator("#faq-results .faq-hit").filter({ hasText: "お届け日を変更したい" }).first().waitFor();
  });

  it("shows the VOC and segment views with their charts", async () => {
    const analyst = await login("analyst01");
    await analyst.goto("/analyst/rfm");
    await analyst.getByRole("link", { name: "VOC分析" }).click();
    await analyst.waitForURL("**/analyst/voc/lost-orders");

    // Lost-order reasons: the longest bar is the first word of the table, with examples.
    const lostBars = analyst.locator("#lost-order-chart svg text.bar-label");
    assert.ok((await lostBars.count()) > 0, "the lost-order chart has bars");
    const topTerm = await analyst.locator("table.report tbody tr:first-child th").innerText();
    assert.equal(await lostBars.first().textContent(), topTerm);
    assert.ok((await analyst.locator("table.report tbody tr:first-child ul.examples li").count()) > 0, "examples shown");
    await screenshot(analyst, "11-lost-order-reasons");

    // Call reasons: stacked columns, the largest reason first in the legend and the table.
    await analyst.locator("nav.tabs").getByRole("link", { name: "コールリーズン" }).click();
    await analyst.waitForURL("**/analyst/voc/call-reasons");
    assert.ok((await analyst.locator("#call-reason-chart svg rect").count()) > 0, "the stacked chart has columns");
    const topReason = await analyst.locator("#call-reason-table tbody tr:first-child th").innerText();
    assert.match(await analyst.locator("#call-reason-chart .legend-list li").first().innerText(), new RegExp(`^${topReason} `));
    await analyst.locator("#emerging h2").waitFor();
    await screenshot(analyst, "12-call-reasons");
    // A narrower range by week through the form.
    await analyst.getByLabel("集計単位").selectOption("week");
    await analyst.getByRole("button", { name: "表示" }).click();
    await analyst.waitForURL(/period=week/);
    assert.ok((await analyst.locator("#call-reason-chart svg rect").count()) > 0);

    // Churn drivers: a forest plot whose first row is the most risk-raising driver.
    await analyst.locator("nav.tabs").getByRole("link", { name: "離反要因" }).click();
    await analyst.waitForURL("**/analyst/voc/churn-drivers");
    const forest = analyst.locator("#churn-driver-chart svg g.forest-row");
    assert.ok((await forest.count()) > 0, "the forest plot has drivers");
    assert.equal(
      await forest.first().locator("text.bar-label").textContent(),
      await analyst.locator("table.report tbody tr:first-child th").innerText(),
    );
    assert.equal(await forest.first().getAttribute("class"), "forest-row risk-up", "the top driver raises the risk");
    await analyst.locator("#topic-drivers").getByRole("heading", { name: "話題（言葉）別の離反要因" }).waitFor();
    await screenshot(analyst, "13-churn-drivers");

    // Funnel, loyalty matrix and cohort retention.
    await analyst.locator("nav.tabs").getByRole("link", { name: "ファネル・ロイヤルティ" }).click();
    await analyst.waitForURL("**/analyst/segments");
    assert.ok((await analyst.locator("#funnel-chart svg rect").count()) > 0, "the funnel has bars");
    assert.equal(await analyst.locator("#loyalty-matrix .quadrant").count(), 4);
    // Cohort retention: the demo's subscribers start in many months, each a curve, plus all.
    assert.ok((await analyst.locator("#cohort-chart polyline.cohort-line").count()) >= 3, "cohort curves");
    assert.equal(await analyst.locator("#cohort-chart polyline.cohort-all").count(), 1);
    await screenshot(analyst, "14-funnel-loyalty");
    await analyst.context().close();
  });

  it("switches to English", async () => {
    await agent.goto("/agent");
    await agent.getByRole("link", { name: "English" }).click();
    await agent.getByRole("heading", { name: "Customer search" }).waitFor();
    assert.equal(await agent.locator("html").getAttribute("lang"), "en");
    await agent.goto(`/agent/customers/${customer.id}`);
    await agent.getByRole("heading", { name: "Scores" }).waitFor();
    await screenshot(agent, "10-karte-english");
    await agent.getByRole("link", { name: "日本語" }).click();
    await agent.getByRole("heading", { name: "スコア" }).waitFor();
  });

  it("shows a crisis-word alert on the supervisor board live, inert, and acknowledges it", async () => {
    const supervisor = await login("sv01");
    await supervisor.getByRole("link", { name: "スーパーバイザーボード" }).first().click();
    await supervisor.waitForURL("**/supervisor");
    await supervisor.getByRole("heading", { name: "スーパーバイザーボード" }).waitFor();
    await supervisor.locator('#board[data-connected="true"]').waitFor();
    await supervisor.evaluate(() => {
      window.__kimochiMarker = "same board";
    });
    // An operator's integration posts a contact with crisis words through the API.
    const hostile =
      "<script>window.__kimochiXss = 3</script>消費者センターに訴えます" +
      "<img src=x onerror=\"window.__kimochiXss = 4\"> 責任者を出せ";
    const posted = await agent.evaluate(
      async ({ id, text }) => {
        const session = await (await fetch("/api/v1/session")).json();
        const response = await fetch(`/api/v1/customers/${id}/contacts`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
          body: JSON.stringify({ channel: "sns", direction: "inbound", reason: "クレーム", text }),
        });
        return { status: response.status, body: await response.json() };
      },
      { id: customer.id, text: hostile },
    );
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    assert.ok(posted.body.crisis_words >= 2, "the built-in words were found");
    // The alert and the contact appear without a reload.
    const alert = supervisor.locator("#alert-list li.board-alert", { hasText: "責任者を出せ" }).first();
    await alert.waitFor();
    assert.match(await alert.innerText(), new RegExp(customer.name));
    assert.match(await alert.innerText(), /緊急/, "the most severe word's severity");
    assert.equal(await alert.locator("mark", { hasText: "消費者センター" }).count(), 1, "the word is marked");
    const contact = supervisor.locator("#contact-feed li", { hasText: "責任者を出せ" }).first();
    await contact.waitFor();
    assert.ok((await contact.innerText()).includes("<script>window.__kimochiXss = 3</script>"), "shown as text");
    for (const list of ["#alert-list", "#contact-feed"]) {
      assert.equal(await supervisor.locator(`${list} script`).count(), 0, `no script element in ${list}`);
      assert.equal(await supervisor.locator(`${list} img`).count(), 0, `no image element in ${list}`);
    }
    assert.equal(await supervisor.evaluate(() => window.__kimochiXss), undefined, "nothing ran");
    assert.equal(await supervisor.evaluate(() => window.__kimochiMarker), "same board", "no reload");
    await screenshot(supervisor, "11-supervisor-board-alert");
    // Acknowledge it from the board.
    await alert.getByRole("button", { name: "確認しました" }).click();
    const acknowledged = supervisor.locator("#alert-list li.board-alert.acked", { hasText: "責任者を出せ" }).first();
    await acknowledged.getByText("確認済み").waitFor();
    const open = await supervisor.evaluate(async () => (await (await fetch("/api/v1/alerts?unacknowledged=true&limit=500")).json()).alerts);
    assert.ok(!open.some((a) => a.text.includes("責任者を出せ")), "acknowledged in the database");
    await screenshot(supervisor, "12-supervisor-board-acknowledged");
    await supervisor.context().close();
  });

  it("draws the karte's expectation-gap timeline and retention points for a customer who wants to leave", async () => {
    // A customer planted through the API: an expectation at purchase, a negative experience
    // about the price, then intent to cancel.
    const planted = await agent.evaluate(async () => {
      const session = await (await fetch("/api/v1/session")).json();
      const post = async (path, body) => {
        const response = await fetch(path, {
          method: "POST",
          headers: { "content-type": "application/json", "x-csrf-token": session.csrf_token },
          body: JSON.stringify(body),
        });
        return { status: response.status, body: await response.json() };
      };
      const customer = await post("/api/v1/customers", { name: "期待 ギャップ子", kana: "キタイ ギャップコ" });
      const id = customer.body.id;
      const note = await post(`/api/v1/customers/${id}/kimochi`, {
        kind: "expectation",
        text: "シミが薄くなると期待して購入",
        captured_at: "2026-08-01 10:00",
      });
      const worse = await post(`/api/v1/customers/${id}/contacts`, {
        channel: "phone",
        direction: "inbound",
        text: "効果が全然感じられず、値段も高くて不満です",
        started_at: "2026-09-15 10:00",
      });
      const leave = await post(`/api/v1/customers/${id}/contacts`, {
        channel: "phone",
        direction: "inbound",
        text: "もう解約したいです",
        started_at: "2026-10-20 10:00",
      });
      return { id, statuses: [customer.status, note.status, worse.status, leave.status] };
    });
    assert.deepEqual(planted.statuses, [201, 201, 201, 201]);
    await agent.goto(`/agent/customers/${planted.id}`);
    const chart = agent.locator("#gap-chart");
    await chart.waitFor();
    assert.equal(await chart.locator("polygon.expectation-mark").count(), 1, "the expectation marker");
    assert.equal(await chart.locator("g.gap-point.negative").count(), 2, "two experiences below the line");
    assert.match(await chart.locator("svg").getAttribute("aria-label"), /期待 1件.*ギャップスコア/);
    assert.match(await agent.locator("#gap-score").innerText(), /ギャップスコア/);
    const retention = agent.locator("#retention-points");
    await retention.getByRole("heading", { name: /引き留めのポイント/ }).waitFor();
    const box = await retention.innerText();
    assert.match(box, /シミが薄くなると期待して購入/, "the original expectation");
    assert.match(box, /使い方のご案内/);
    assert.match(box, /プラン・コース変更のご提案/);
    // The table alternative holds the same events.
    await agent.locator("details.gap-table summary").click();
    assert.equal(await agent.locator("details.gap-table tbody tr").count(), 3);
    await screenshot(agent, "15-karte-expectation-gap");
  });

  it("lets the administrator add a user and an NG word", async () => {
    const admin = await login("admin");
    await admin.getByRole("navigation", { name: "メインメニュー" }).getByRole("link", { name: "管理", exact: true }).click();
    await admin.waitForURL((url) => url.pathname === "/admin/users");
    // A too-short password is refused inline, and nothing typed is lost.
    await admin.getByLabel("ログインID", { exact: true }).fill("op-new01");
    await admin.getByLabel("氏名", { exact: true }).fill("新人 太郎");
    await admin.getByLabel("役割", { exact: true }).selectOption("agent");
    await admin.locator("#new-password").fill("short");
    await admin.locator("#new-password").evaluate((input) => input.removeAttribute("minlength"));
    await admin.getByRole("button", { name: "ユーザーを追加する", exact: true }).click();
    await admin.locator("#new-user-errors [role=alert]", { hasText: "8文字以上" }).waitFor();
    assert.equal(await admin.getByLabel("ログインID", { exact: true }).inputValue(), "op-new01");
    await admin.locator("#new-password").fill(PASSWORD);
    await admin.getByRole("button", { name: "ユーザーを追加する", exact: true }).click();
    await admin.getByRole("status").filter({ hasText: "保存しました" }).waitFor();
    const row = admin.locator("table.admin-users tr", { hasText: "op-new01" });
    assert.match(await row.innerText(), /新人 太郎/);
    assert.match(await row.innerText(), /オペレーター/);
    await screenshot(admin, "15-admin-users");

    // The new operator can log in with the password given.
    const newcomer = await login("op-new01");
    assert.match(await newcomer.locator("h1").innerText(), /新人 太郎/);
    assert.equal(await newcomer.getByRole("link", { name: "管理", exact: true }).count(), 0, "no admin link for operators");
    await newcomer.context().close();

    await admin.getByRole("link", { name: "NGワード", exact: true }).click();
    await admin.waitForURL((url) => url.pathname === "/admin/crisis-words");
    await admin.getByLabel("語", { exact: true }).fill("ヘンピン");
    await admin.getByLabel("重要度", { exact: true }).selectOption({ label: "緊急" });
    await admin.getByLabel("メモ", { exact: true }).fill("返品の強い要求");
    await admin.getByRole("button", { name: "NGワードを追加" }).click();
    await admin.getByRole("status").filter({ hasText: "保存しました" }).waitFor();
    const word = admin.locator("table.admin-words tr", { hasText: "ヘンピン" });
    assert.match(await word.innerText(), /緊急/);
    // The same word in half-width kana is the API's conflict, shown in the form.
    await admin.getByLabel("語", { exact: true }).fill("ﾍﾝﾋﾟﾝ");
    await admin.getByRole("button", { name: "NGワードを追加" }).click();
    await admin.locator("#word-errors [role=alert]", { hasText: "既に登録されています" }).waitFor();
    await screenshot(admin, "16-admin-ng-words");

    await admin.getByRole("link", { name: "テナント設定", exact: true }).click();
    await admin.waitForURL((url) => url.pathname === "/admin/settings");
    const dormant = admin.getByLabel("休眠とみなす日数", { exact: true });
    assert.equal(await dormant.inputValue(), "365", "the defaults until an admin saves");
    await dormant.fill("180");
    await admin.getByRole("button", { name: "保存", exact: true }).click();
    await admin.getByRole("status").filter({ hasText: "保存しました" }).waitFor();
    assert.equal(await admin.getByLabel("休眠とみなす日数", { exact: true }).inputValue(), "180");
    await screenshot(admin, "17-admin-settings");
    await admin.context().close();
  });

  it("saw no console errors, exceptions or dialogs on any page", () => {
    assert.deepEqual(problems, []);
  });
});
