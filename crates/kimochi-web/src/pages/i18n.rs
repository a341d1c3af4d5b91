//! Every string the pages show, in Japanese (the default) and English, kept in one place so a
//! translation is one table and a missing string is a compile error.

use kimochi_domain::{Channel, Direction, KimochiKind, KimochiTag, Outcome, Polarity, Role};

/// The language of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    /// The value of `<html lang>` and of the language cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, offered by the switch in the header.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    pub fn strings(self) -> &'static Strings {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }

    /// The label people read for a vocabulary code: the domain's Japanese label, or in English
    /// the code itself made readable (`lost_order` → `Lost order`), since codes are English words.
    pub fn vocab(self, code: &str, label_ja: &str) -> String {
        match self {
            Lang::Ja => label_ja.to_owned(),
            Lang::En => {
                // Acronyms stay acronyms; every other code reads as a sentence-case phrase.
                if let Some(acronym) = ["sns", "fax", "dm"].iter().find(|a| **a == code) {
                    return acronym.to_uppercase();
                }
                let spaced = code.replace('_', " ");
                let mut chars = spaced.chars();
                match chars.next() {
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => String::new(),
                }
            }
        }
    }

    pub fn channel(self, code: &str) -> String {
        Channel::from_code(code).map_or_else(|| code.to_owned(), |c| self.vocab(c.code(), c.label_ja()))
    }

    pub fn direction(self, code: &str) -> String {
        Direction::from_code(code).map_or_else(|| code.to_owned(), |d| self.vocab(d.code(), d.label_ja()))
    }

    pub fn outcome(self, code: &str) -> String {
        Outcome::from_code(code).map_or_else(|| code.to_owned(), |o| self.vocab(o.code(), o.label_ja()))
    }

    pub fn kimochi_kind(self, code: &str) -> String {
        KimochiKind::from_code(code).map_or_else(|| code.to_owned(), |k| self.vocab(k.code(), k.label_ja()))
    }

    pub fn polarity(self, code: &str) -> String {
        Polarity::from_code(code).map_or_else(|| code.to_owned(), |p| self.vocab(p.code(), p.label_ja()))
    }

    pub fn kimochi_tag(self, code: &str) -> String {
        KimochiTag::from_code(code).map_or_else(|| code.to_owned(), |k| self.vocab(k.code(), k.label_ja()))
    }

    pub fn role(self, role: Role) -> String {
        self.vocab(role.code(), role.label_ja())
    }
}

/// The strings of one language.
#[derive(Debug)]
pub struct Strings {
    pub app_name: &'static str,
    pub skip_to_content: &'static str,
    pub nav_label: &'static str,
    pub home_title: &'static str,
    pub home_intro: &'static str,
    pub nav_search: &'static str,
    pub nav_rfm: &'static str,
    pub nav_api: &'static str,
    pub logout: &'static str,
    pub logged_in_as: &'static str,
    pub switch_language: &'static str,
    pub other_language_name: &'static str,
    pub search_title: &'static str,
    pub search_label: &'static str,
    pub search_hint: &'static str,
    pub search_button: &'static str,
    pub search_no_hits: &'static str,
    pub results_label: &'static str,
    pub col_name: &'static str,
    pub col_kana: &'static str,
    pub col_phone: &'static str,
    pub col_email: &'static str,
    pub col_prefecture: &'static str,
    pub col_birth_year: &'static str,
    pub col_last_contact: &'static str,
    pub col_external_id: &'static str,
    pub pop_title: &'static str,
    pub pop_several: &'static str,
    pub pop_not_found: &'static str,
    pub pop_create: &'static str,
    pub new_customer_title: &'static str,
    pub new_customer_save: &'static str,
    pub karte_title: &'static str,
    pub masked_notice: &'static str,
    pub cautions: &'static str,
    pub handover_notes: &'static str,
    pub do_not_call: &'static str,
    pub profile: &'static str,
    pub birth_date: &'static str,
    pub gender: &'static str,
    pub address: &'static str,
    pub ad_medium: &'static str,
    pub consent: &'static str,
    pub consent_phone: &'static str,
    pub consent_email: &'static str,
    pub consent_dm: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub none: &'static str,
    pub stats: &'static str,
    pub order_count: &'static str,
    pub total_amount: &'static str,
    pub last_order: &'static str,
    pub scores: &'static str,
    pub unscored: &'static str,
    pub scored_as_of: &'static str,
    pub stage: &'static str,
    pub rfm_cell: &'static str,
    pub recency_days: &'static str,
    pub clv: &'static str,
    pub p_alive: &'static str,
    pub churn: &'static str,
    pub churn_reasons: &'static str,
    pub loyalty: &'static str,
    pub near_loyal: &'static str,
    pub positive_dormant: &'static str,
    pub customer_type: &'static str,
    pub repeat_alerts: &'static str,
    pub repeat_alert_line: &'static str,
    pub days: &'static str,
    pub repeat_next: &'static str,
    pub repeat_overdue: &'static str,
    pub purchases: &'static str,
    pub product: &'static str,
    pub product_kind: &'static str,
    pub orders: &'static str,
    pub quantity: &'static str,
    pub first_purchase: &'static str,
    pub last_purchase: &'static str,
    pub no_purchases: &'static str,
    pub kimochi_timeline: &'static str,
    pub no_kimochi: &'static str,
    pub history: &'static str,
    pub no_history: &'static str,
    pub thread: &'static str,
    pub kimochi_tags: &'static str,
    pub crisis_words: &'static str,
    pub log_contact: &'static str,
    pub channel: &'static str,
    pub direction: &'static str,
    pub reason: &'static str,
    pub outcome: &'static str,
    pub voc_text: &'static str,
    pub save_contact: &'static str,
    pub contact_saved: &'static str,
    pub no_outcome: &'static str,
    pub rfm_title: &'static str,
    pub rfm_intro: &'static str,
    pub rfm_no_run: &'static str,
    pub rfm_run: &'static str,
    pub rfm_panel: &'static str,
    pub rfm_recency: &'static str,
    pub rfm_frequency: &'static str,
    pub rfm_legend: &'static str,
    pub rfm_fewer: &'static str,
    pub rfm_more_customers: &'static str,
    pub rfm_cell_customers: &'static str,
    pub rfm_pick_cell: &'static str,
    pub rfm_more: &'static str,
    pub export_csv: &'static str,
    pub export_xlsx: &'static str,
    pub customers_unit: &'static str,
    pub error_title: &'static str,
    pub not_found: &'static str,
    pub forbidden: &'static str,
    pub internal_error: &'static str,
    pub back_to_search: &'static str,
    pub faq_panel: &'static str,
    pub faq_search_label: &'static str,
    pub faq_search_hint: &'static str,
    pub faq_no_hits: &'static str,
}

pub static JA: Strings = Strings {
    app_name: "kimochi",
    skip_to_content: "本文へ移動",
    nav_label: "メインメニュー",
    home_title: "ホーム",
    home_intro: "使う画面を選んでください。",
    nav_search: "顧客検索",
    nav_rfm: "RFM分析",
    nav_api: "API",
    logout: "ログアウト",
    logged_in_as: "ログイン中",
    switch_language: "表示言語を切り替える",
    other_language_name: "English",
    search_title: "顧客検索",
    search_label: "氏名・カナ・電話番号・メールアドレス",
    search_hint: "入力すると候補が表示されます。電話番号は全角やハイフン付きでも検索できます。",
    search_button: "検索",
    search_no_hits: "該当するお客様はいません。",
    results_label: "検索結果",
    col_name: "氏名",
    col_kana: "カナ",
    col_phone: "電話番号",
    col_email: "メール",
    col_prefecture: "都道府県",
    col_birth_year: "生年",
    col_last_contact: "最終応対",
    col_external_id: "顧客番号",
    pop_title: "着信",
    pop_several: "この番号のお客様が複数います。選んでください。",
    pop_not_found: "この番号のお客様は登録されていません。",
    pop_create: "新しいお客様として登録する",
    new_customer_title: "お客様の新規登録",
    new_customer_save: "登録する",
    karte_title: "カルテ",
    masked_notice: "個人情報は権限に応じて伏せ字で表示しています。",
    cautions: "注意事項",
    handover_notes: "引き継ぎ",
    do_not_call: "架電禁止",
    profile: "基本情報",
    birth_date: "生年月日",
    gender: "性別",
    address: "住所",
    ad_medium: "広告媒体",
    consent: "連絡の同意",
    consent_phone: "電話",
    consent_email: "メール",
    consent_dm: "DM",
    yes: "あり",
    no: "なし",
    none: "—",
    stats: "購入と応対",
    order_count: "購入回数",
    total_amount: "累計購入金額",
    last_order: "最終購入",
    scores: "スコア",
    unscored: "未スコア",
    scored_as_of: "基準日",
    stage: "ステージ",
    rfm_cell: "RFMセル",
    recency_days: "最終購入からの日数",
    clv: "顧客生涯価値（CLV）",
    p_alive: "継続確率 P(alive)",
    churn: "離反リスク",
    churn_reasons: "理由",
    loyalty: "ロイヤルティ",
    near_loyal: "ロイヤル予備軍",
    positive_dormant: "ポジティブ休眠",
    customer_type: "顧客タイプ",
    repeat_alerts: "リピート促進アラート",
    repeat_alert_line: "周期",
    days: "日",
    repeat_next: "次回予定",
    repeat_overdue: "日超過",
    purchases: "商品別の購入履歴",
    product: "商品",
    product_kind: "種別",
    orders: "回数",
    quantity: "数量",
    first_purchase: "初回",
    last_purchase: "最終",
    no_purchases: "購入履歴はありません。",
    kimochi_timeline: "キモチの流れ（期待 → 体験 → ギャップ）",
    no_kimochi: "キモチの記録はまだありません。",
    history: "応対履歴",
    no_history: "応対履歴はありません。",
    thread: "スレッド",
    kimochi_tags: "キモチタグ",
    crisis_words: "要注意ワード",
    log_contact: "応対を記録する",
    channel: "チャネル",
    direction: "方向",
    reason: "用件",
    outcome: "結果",
    voc_text: "お客様の声（VOC）",
    save_contact: "記録する",
    contact_saved: "応対を記録しました。",
    no_outcome: "（未選択）",
    rfm_title: "RFMヒートマップ",
    rfm_intro: "最終購入（R）と購入頻度（F）の5×5表を、購入金額（M）の段階ごとに並べています。色が濃いほど人数が多いセルです。セルを選ぶとお客様の一覧を表示します。",
    rfm_no_run: "まだスコアがありません。kimochi analyze を実行してください。",
    rfm_run: "最新の分析",
    rfm_panel: "M（購入金額）",
    rfm_recency: "R（最終購入）",
    rfm_frequency: "F（購入頻度）",
    rfm_legend: "5 が最も良い段階です。",
    rfm_fewer: "少ない",
    rfm_more_customers: "多い",
    rfm_cell_customers: "セルのお客様",
    rfm_pick_cell: "ヒートマップのセルを選ぶと、ここにお客様の一覧を表示します。",
    rfm_more: "続きを表示",
    export_csv: "CSVで書き出す",
    export_xlsx: "Excel（xlsx）で書き出す",
    customers_unit: "人",
    error_title: "エラー",
    not_found: "ページまたはお客様が見つかりません。",
    forbidden: "この画面を表示する権限がありません。",
    internal_error: "システムエラーが発生しました。時間をおいてもう一度お試しください。",
    back_to_search: "顧客検索へ戻る",
    faq_panel: "FAQ",
    faq_search_label: "FAQを検索",
    faq_search_hint: "入力すると該当するFAQが表示されます。",
    faq_no_hits: "該当するFAQはありません。",
};

pub static EN: Strings = Strings {
    app_name: "kimochi",
    skip_to_content: "Skip to content",
    nav_label: "Main menu",
    home_title: "Home",
    home_intro: "Choose a screen to work in.",
    nav_search: "Customers",
    nav_rfm: "RFM analysis",
    nav_api: "API",
    logout: "Log out",
    logged_in_as: "Logged in",
    switch_language: "Switch display language",
    other_language_name: "日本語",
    search_title: "Customer search",
    search_label: "Name, kana, phone number or email",
    search_hint: "Matches appear as you type. Phone numbers may be typed with full-width digits or hyphens.",
    search_button: "Search",
    search_no_hits: "No customer matches.",
    results_label: "Search results",
    col_name: "Name",
    col_kana: "Kana",
    col_phone: "Phone",
    col_email: "Email",
    col_prefecture: "Prefecture",
    col_birth_year: "Born",
    col_last_contact: "Last contact",
    col_external_id: "Customer no.",
    pop_title: "Incoming call",
    pop_several: "Several customers have this number. Choose one.",
    pop_not_found: "No customer has this number.",
    pop_create: "Register a new customer",
    new_customer_title: "New customer",
    new_customer_save: "Register",
    karte_title: "Karte",
    masked_notice: "Personal data is masked for your role.",
    cautions: "Cautions",
    handover_notes: "Handover",
    do_not_call: "Do not call",
    profile: "Profile",
    birth_date: "Birth date",
    gender: "Gender",
    address: "Address",
    ad_medium: "Ad medium",
    consent: "Contact consent",
    consent_phone: "Phone",
    consent_email: "Email",
    consent_dm: "Direct mail",
    yes: "yes",
    no: "no",
    none: "—",
    stats: "Purchases and contacts",
    order_count: "Orders",
    total_amount: "Total spent",
    last_order: "Last order",
    scores: "Scores",
    unscored: "Not scored yet",
    scored_as_of: "As of",
    stage: "Stage",
    rfm_cell: "RFM cell",
    recency_days: "Days since last purchase",
    clv: "Customer lifetime value (CLV)",
    p_alive: "P(alive)",
    churn: "Churn risk",
    churn_reasons: "Reasons",
    loyalty: "Loyalty",
    near_loyal: "Near-loyal",
    positive_dormant: "Positive dormant",
    customer_type: "Customer type",
    repeat_alerts: "Repeat-purchase alerts",
    repeat_alert_line: "cycle",
    days: "days",
    repeat_next: "next expected",
    repeat_overdue: "days overdue",
    purchases: "Purchases by product",
    product: "Product",
    product_kind: "Kind",
    orders: "Orders",
    quantity: "Quantity",
    first_purchase: "First",
    last_purchase: "Last",
    no_purchases: "No purchases.",
    kimochi_timeline: "Kimochi timeline (expectation → experiences → gap)",
    no_kimochi: "No kimochi notes yet.",
    history: "Contact history",
    no_history: "No contacts.",
    thread: "Thread",
    kimochi_tags: "Kimochi tags",
    crisis_words: "Crisis words",
    log_contact: "Log a contact",
    channel: "Channel",
    direction: "Direction",
    reason: "Reason",
    outcome: "Outcome",
    voc_text: "Voice of the customer (VOC)",
    save_contact: "Save",
    contact_saved: "Contact saved.",
    no_outcome: "(none)",
    rfm_title: "RFM heat map",
    rfm_intro: "A 5×5 table of recency (R) by frequency (F) for each monetary (M) level. Darker cells hold more customers. Choose a cell to list its customers.",
    rfm_no_run: "No scores yet. Run kimochi analyze.",
    rfm_run: "Latest run",
    rfm_panel: "M (monetary)",
    rfm_recency: "R (recency)",
    rfm_frequency: "F (frequency)",
    rfm_legend: "5 is the best level.",
    rfm_fewer: "fewer",
    rfm_more_customers: "more",
    rfm_cell_customers: "Customers in cell",
    rfm_pick_cell: "Choose a cell of the heat map to list its customers here.",
    rfm_more: "Show more",
    export_csv: "Export CSV",
    export_xlsx: "Export Excel (xlsx)",
    customers_unit: "customers",
    error_title: "Error",
    not_found: "The page or customer was not found.",
    forbidden: "Your role may not open this page.",
    internal_error: "A system error occurred. Please try again later.",
    back_to_search: "Back to customer search",
    faq_panel: "FAQ",
    faq_search_label: "Search the FAQ",
    faq_search_hint: "Matching articles appear as you type.",
    faq_no_hits: "No FAQ article matches.",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_labels_come_from_codes() {
        assert_eq!(Lang::En.outcome("lost_order"), "Lost order");
        assert_eq!(Lang::Ja.outcome("lost_order"), "失注");
        assert_eq!(Lang::Ja.channel("sns"), "SNS");
        assert_eq!(Lang::En.channel("sns"), "SNS");
        assert_eq!(Lang::En.channel("web_form"), "Web form");
        assert_eq!(Lang::En.channel("unknown_code"), "unknown_code");
    }
}
