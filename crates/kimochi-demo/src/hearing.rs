//! The demo tenant's hearing-point set (聞き出しポイント, issue 6): what the operators of a
//! cosmetics mail-order business try to learn in a call, beyond the order itself. Fixed content,
//! so the demo stays deterministic.

use kimochi_domain::hearing::{AnswerKind, NewHearingQuestion, NewHearingSet};

fn question(label: &str, kind: AnswerKind, soft_attribute: &str, hint: &str, weight: u32) -> NewHearingQuestion {
    NewHearingQuestion {
        id: None,
        label: label.to_owned(),
        kind,
        soft_attribute: soft_attribute.to_owned(),
        hint: hint.to_owned(),
        weight,
    }
}

fn choice(options: &[&str]) -> AnswerKind {
    AnswerKind::Choice { options: options.iter().map(|o| (*o).to_owned()).collect() }
}

/// 「肌と暮らしの聞き出し」: the inbound default set of the demo tenant.
pub fn demo_hearing_set() -> NewHearingSet {
    NewHearingSet {
        name: "肌と暮らしの聞き出し".to_owned(),
        description:
            "受電時に会話の流れで聞き出す項目。売り込みではなく、次のご提案の時期と内容を決めるために使います。"
                .to_owned(),
        default_inbound: true,
        questions: vec![
            question(
                "いちばん気になる肌悩み",
                choice(&["乾燥", "小じわ", "シミ", "くすみ", "たるみ", "ハリ不足", "毛穴", "敏感肌"]),
                "skin_concern",
                "使い心地を伺ったあとに「ほかに気になるところはありますか」と続ける",
                10,
            ),
            question(
                "化粧品選びで重視すること",
                choice(&["効果の実感", "価格", "成分の安心さ", "使い心地", "香り"]),
                "what_matters_most",
                "以前お使いの化粧品を変えた理由を伺うと自然に出てきます",
                10,
            ),
            question(
                "月々のスキンケア予算",
                AnswerKind::Number { min: Some(0.0), max: Some(100_000.0), unit: Some("円".to_owned()) },
                "monthly_budget",
                "定期便の金額の話題のときに「普段どのくらいかけていらっしゃいますか」",
                10,
            ),
            question(
                "美容への投資意欲",
                choice(&["高い", "普通", "低い"]),
                "investment_appetite",
                "直接は聞かない。会話の印象で記録してかまいません",
                15,
            ),
            question(
                "近い予定のお祝い事・イベントの日",
                AnswerKind::Date,
                "life_event_date",
                "結婚式・同窓会・旅行など「その日までに肌を整えたい」という話が出たら日付を伺う",
                20,
            ),
            question(
                "ご家族や暮らしの変化",
                AnswerKind::Text { max_chars: 200 },
                "life_plan",
                "お届け日や連絡時間の相談のときに伺えることが多い(転居・出産・介護など)",
                5,
            ),
        ],
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_demo_set_is_valid() {
        super::demo_hearing_set().validate().unwrap();
    }
}
