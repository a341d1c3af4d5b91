//! The voice of the customer (VOC) and the operators' notes, in the style Japanese contact
//! centers record them: built from template pieces so that texts vary (thousands of distinct
//! ones) while every planted signal stays detectable by its marker words.
//!
//! Invariants the tests rely on: only [`advocacy`] writes 「勧め」; only [`crisis_post`] writes
//! a crisis word ([`crate::CRISIS_WORDS`]); only [`lost_order`] writes lost-order reasons.

use kimochi_domain::Channel;

use crate::catalog::spoken_name;
use crate::effects::{AdMedium, LostOrderReason};
use crate::random::{DemoRng, between, chance};

/// One of the phrases, uniformly.
fn one(rng: &mut DemoRng, phrases: &[&'static str]) -> &'static str {
    phrases[rand::Rng::random_range(rng, 0..phrases.len())]
}

/// Skin concerns (肌悩み): the short word (for notes and attributes) and how customers say it.
pub(crate) const CONCERNS: [(&str, &str); 8] = [
    ("乾燥", "肌の乾燥"),
    ("小じわ", "目元の乾燥小じわ"),
    ("シミ", "頬のシミ"),
    ("くすみ", "肌のくすみ"),
    ("たるみ", "フェイスラインのたるみ"),
    ("ハリ不足", "肌のハリのなさ"),
    ("毛穴", "毛穴の開き"),
    ("敏感肌", "季節の変わり目の肌荒れ"),
];

fn concern_phrase(concern: usize) -> &'static str {
    CONCERNS[concern].1
}

/// How a customer says where they saw the product.
fn medium_phrase(rng: &mut DemoRng, medium: AdMedium) -> &'static str {
    let options: &[&str] = match medium {
        AdMedium::TvShopping => &["テレビ通販", "テレビの通販番組", "朝のテレビショッピング"],
        AdMedium::Newspaper => &["新聞の広告", "朝刊の全面広告", "新聞の折り込みチラシ"],
        AdMedium::WebAd => &["ネットの広告", "検索して出てきた広告", "動画サイトの広告"],
        AdMedium::Affiliate => &["口コミサイト", "ブログの紹介記事", "比較サイト"],
        AdMedium::Magazine => &["雑誌の記事", "美容雑誌の特集", "通販カタログ誌"],
        AdMedium::SnsAd => &["インスタの広告", "SNSの広告", "インフルエンサーの投稿"],
        AdMedium::Referral => &["友人の紹介", "姉の紹介", "職場の同僚の紹介"],
    };
    one(rng, options)
}

/// A span of use in natural words: 「5日」「2週間」「3か月」.
pub(crate) fn period(days: i64) -> String {
    match days {
        ..=13 => format!("{}日", days.max(1)),
        14..=55 => format!("{}週間", days / 7),
        56..=359 => format!("{}か月", (days + 15) / 30),
        _ => format!("{}年", days / 365),
    }
}

fn concat(parts: &[&str]) -> String {
    let mut text = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        text.push_str(part);
    }
    text
}

const POSITIVE_EFFECTS: [&str; 10] = [
    "乾燥が気にならなくなりました",
    "朝まで肌がしっとりしています",
    "化粧のりが良くなった気がします",
    "肌がもちもちしてきました",
    "つけた後のべたつきがなくて使いやすいです",
    "目元の小じわが目立たなくなってきました",
    "肌の調子が安定しています",
    "夕方になってもつっぱらなくなりました",
    "香りがなくて毎日使いやすいです",
    "くすみが少し明るくなった気がします",
];

const GAP_EFFECTS: [&str; 8] = [
    "思っていたほどしっとりしません",
    "テレビで見たようなハリは感じられません",
    "乾燥はあまり変わりません",
    "シミが薄くなるのを期待していましたが、変化がありません",
    "つけた直後はいいのですが、昼には元に戻ってしまいます",
    "毎日使っているのに、全然効果が感じられません",
    "値段のわりに違いがよくわかりません",
    "小じわに効くと思っていたのですが、正直よくわかりません",
];

/// A phone order of the trial set (or main product) from an advertisement.
pub(crate) fn phone_first_order(rng: &mut DemoRng, medium: AdMedium, concern: usize, main: bool) -> String {
    let seen = medium_phrase(rng, medium);
    let opener = one(
        rng,
        &["を見てお電話しました。", "で見た美容液の件で電話しました。", "がきっかけで、電話で注文したいと思いました。"],
    );
    let worry = one(
        rng,
        &[
            "最近{}が気になっていて、",
            "年齢とともに{}がひどくなってきたので、",
            "冬になると{}がつらくて、",
            "{}をなんとかしたくて、",
        ],
    );
    let request = if main {
        one(rng, &["本品を1本お願いします。", "お試しではなく本品を注文したいです。", "本品をまとめて始めたいです。"])
    } else {
        one(
            rng,
            &[
                "トライアルセットをお願いしたいです。",
                "まずはお試しから始めてみたいです。",
                "お試しセットを1つ注文したいです。",
                "7日分のトライアルを申し込みたいです。",
            ],
        )
    };
    let note =
        one(rng, &["", "お支払いは後払い希望。", "お届けは午前中希望。", "初めての購入とのこと。", "代引きを希望。"]);
    let mut text = concat(&[seen, opener]);
    text.push_str(&worry.replace("{}", concern_phrase(concern)));
    text.push_str(request);
    text.push_str(note);
    text
}

/// A repeat order of the main product by phone.
pub(crate) fn phone_repeat_order(rng: &mut DemoRng, product: usize) -> String {
    let lead = one(
        rng,
        &["{}がなくなりそうなので、", "{}が残り少なくなってきたので、", "いつもの{}を、", "{}がとても良かったので、"],
    );
    let ask = one(
        rng,
        &[
            "もう1本注文したいです。",
            "追加で注文をお願いします。",
            "また送ってください。",
            "今回は2本お願いできますか。",
        ],
    );
    let tail =
        one(rng, &["", "前回と同じ住所でお願いします。", "支払いは前回と同じで。", "届くのはいつ頃になりますか。"]);
    let mut text = lead.replace("{}", spoken_name(product));
    text.push_str(ask);
    text.push_str(tail);
    text
}

/// The inbound call requesting a free sample.
pub(crate) fn sample_request(rng: &mut DemoRng, medium: AdMedium, concern: usize) -> String {
    let seen = medium_phrase(rng, medium);
    let middle = one(rng, &["で見たのですが、", "に載っていた", "で知った"]);
    let ask = one(
        rng,
        &[
            "無料サンプルはありますか。",
            "サンプルを送ってほしいです。",
            "肌に合うか心配なので、まずサンプルを試したいです。",
        ],
    );
    let mut text = concat(&[seen, middle, ask]);
    if chance(rng, 0.5) {
        text.push_str(&format!("{}が気になっているとのこと。", concern_phrase(concern)));
    }
    text
}

/// Purchase trigger and expectation (購入動機・期待), as the operator noted it (K1).
pub(crate) fn expectation_note(rng: &mut DemoRng, medium: AdMedium, concern: usize) -> String {
    let seen = medium_phrase(rng, medium);
    let worry = concern_phrase(concern);
    match between(rng, 0, 5) {
        0 => format!("{worry}が気になり、{seen}で見て期待して購入。"),
        1 => format!("{worry}の改善を期待。きっかけは{seen}。"),
        2 => format!("{}に{worry}を指摘され、{seen}を見て購入を決めた。", one(rng, &["娘", "夫", "友人", "母"])),
        3 => {
            format!("以前の化粧品が合わなくなり、{seen}で見て試すことに。{worry}に効くことを期待。")
        }
        4 => format!(
            "{seen}の「{}」という言葉にひかれた。{worry}をなんとかしたい。",
            one(rng, &["うるおいが続く", "年齢肌に", "乾燥小じわを目立たなくする", "ハリのある肌へ"])
        ),
        _ => format!(
            "{}を控えて{worry}を改善したい。{seen}がきっかけ。",
            one(rng, &["同窓会", "娘の結婚式", "旅行", "写真撮影"])
        ),
    }
}

/// A skin concern as noted (悩み).
pub(crate) fn concern_note(rng: &mut DemoRng, concern: usize) -> String {
    let worry = concern_phrase(concern);
    let detail = one(
        rng,
        &[
            "特に冬場がつらいとのこと。",
            "ここ数年で急に気になり始めた。",
            "エアコンの効いた職場で悪化する。",
            "マスクを外すのが憂うつと話していた。",
            "皮膚科に通うほどではないが気にしている。",
            "",
        ],
    );
    format!("{worry}が悩み。{detail}")
}

/// The trial follow-up call that converts to the main product or the subscription.
pub(crate) fn followup_ordered(rng: &mut DemoRng, days_used: i64, subscribe: bool, lukewarm: bool) -> String {
    let effect = if lukewarm {
        one(
            rng,
            &[
                "まだはっきりした実感はないが、もう少し続けてみたい",
                "効果はこれからだと思うので、続けてみる",
                "正直まだよくわからないが、せっかくなので続ける",
            ],
        )
    } else {
        one(rng, &POSITIVE_EFFECTS)
    };
    let order = if subscribe {
        one(
            rng,
            &[
                "定期便で続けたいとのこと。定期便をお申込み。",
                "定期便の特典をご案内し、お申込みいただいた。",
                "毎月届くほうが楽なので定期便にしたいとのこと。",
            ],
        )
    } else {
        one(
            rng,
            &[
                "まずは本品を1本購入したいとのこと。",
                "定期は様子を見てからにしたいので、本品を1本ご注文。",
                "本品をご注文いただいた。",
            ],
        )
    };
    format!("トライアルを{}使ってみて、{effect}。{order}", period(days_used))
}

/// The trial follow-up call on which the customer declines the main product (失注, K4): the
/// reason is always in the text, recognisable by [`LostOrderReason::markers`].
pub(crate) fn lost_order(rng: &mut DemoRng, reason: LostOrderReason) -> String {
    let opener = one(
        rng,
        &["トライアルのご感想を伺い、本品をご案内。", "本品のご案内のため架電。", "トライアル後のフォローコール。", ""],
    );
    let said: &[&str] = match reason {
        LostOrderReason::InstructionsDidNotWork => &[
            "説明書どおりに朝晩使っても効果が出ないとのこと。",
            "説明書の通りに朝晩使っているのに、全然効果が感じられないとのこと。",
            "書いてある通りに2プッシュずつ使ったが、何も変わらなかったとのこと。",
            "使い方の案内どおりに1週間続けたけれど、肌の変化がわからないとのこと。",
            "記載の使用量を守って使ったが、しっとり感が続かないとのこと。",
            "「説明書に書いてあるようにやったのに効かない」とのこと。",
        ],
        LostOrderReason::TooExpensive => &[
            "価格が高くて続けられないとのこと。",
            "年金暮らしなので毎月この値段が続くのは厳しい、値段が高いとのこと。",
            "効果は感じるが、価格が予算オーバーとのこと。",
            "毎月のお金がかかるのは避けたいとのこと。",
        ],
        LostOrderReason::SkinDidNotSuit => &[
            "肌に合わず、少しかゆみが出たとのこと。",
            "使った翌日に赤みが出たので、肌に合わないと思うとのこと。",
            "つけるとピリピリしたので使うのをやめたとのこと。",
            "自分の肌に合わなかったようだとのこと。",
        ],
        LostOrderReason::UsesOtherBrand => &[
            "今は他社の美容液を使っているのでとのこと。",
            "デパートで買っている化粧品があるので、そちらを続けるとのこと。",
            "ドラッグストアの商品で満足しているとのこと。",
            "いつもの化粧品に戻すことにしたとのこと。",
        ],
        LostOrderReason::NotNeededNow => &[
            "今は特に必要ないとのこと。",
            "まだトライアルが残っているので今はいらないとのこと。",
            "しばらく様子を見たいとのこと。",
            "今のところ必要ないので、また必要になったら連絡するとのこと。",
        ],
        LostOrderReason::FamilyOpposed => &[
            "夫に反対されたとのこと。",
            "家族に相談したら無駄遣いだと言われたとのこと。",
            "娘さんに「続けるなら他のものにしたら」と反対されたとのこと。",
            "家族に相談したところ、今回はやめておくことになったとのこと。",
        ],
    };
    let closing = one(
        rng,
        &["今回は見送り。", "本品の購入は見送りたいとのこと。", "また機会があればとのこと。", "ご案内は終了。", ""],
    );
    concat(&[opener, one(rng, said), closing])
}

/// An outbound attempt that reached nobody, or the line was busy.
pub(crate) fn no_contact(rng: &mut DemoRng, busy: bool) -> String {
    if busy {
        (one(rng, &["話し中。", "話中のため時間をおいて再架電予定。", "通話中。"])).to_owned()
    } else {
        (one(
            rng,
            &[
                "不在。留守電なし。",
                "呼び出し音のみ、応答なし。",
                "留守番電話にメッセージを残した。",
                "不在。留守電に折り返し先を残した。",
                "応答なし。",
            ],
        ))
        .to_owned()
    }
}

/// The customer hung up at once (ガチャ切り).
pub(crate) fn hung_up(rng: &mut DemoRng) -> String {
    (one(
        rng,
        &[
            "名乗った直後に切電された。",
            "「結構です」とすぐに切られた。",
            "営業の電話は困ると言って切られた。",
            "用件を伝える前に切られた。",
        ],
    ))
    .to_owned()
}

/// The customer asked to be called back (折り返し).
pub(crate) fn callback(rng: &mut DemoRng) -> String {
    let when = one(rng, &["夕方", "17時以降", "明日の午前中", "週末", "1時間後"]);
    let why = one(rng, &["今手が離せないので", "運転中なので", "来客中なので", "仕事中なので"]);
    format!("{why}、{when}にかけ直してほしいとのこと。")
}

/// The first-month follow-up call to a new subscriber (初回フォローコール).
pub(crate) fn welcome_call(rng: &mut DemoRng, days_used: i64) -> String {
    let lead = one(rng, &["定期便の初回お届け後のフォローコール。", "定期便1回目のお届け確認。", "初回フォロー。"]);
    let said = match between(rng, 0, 3) {
        0 => format!("使い始めて{}、{}。", period(days_used), one(rng, &POSITIVE_EFFECTS)),
        1 => format!(
            "使い方の確認。化粧水の後に2プッシュとご案内。{}",
            one(rng, &["問題なく使えているとのこと。", "ハンドプレスは知らなかったとのこと。", ""])
        ),
        2 => format!("{}とのこと。次回お届け日をご案内。", one(rng, &POSITIVE_EFFECTS)),
        _ => (one(
            rng,
            &[
                "特に問題なし。次回お届け日をご案内。",
                "在庫は足りているとのこと。お届け周期はそのまま。",
                "忙しそうだったので手短にご案内。",
            ],
        ))
        .to_owned(),
    };
    concat(&[lead, &said])
}

/// What an unmet expectation sounds like on the phone or in an email.
pub(crate) fn gap_utterance(rng: &mut DemoRng, days_used: i64) -> String {
    let effect = one(rng, &GAP_EFFECTS);
    let tail = one(
        rng,
        &[
            "期待していたほどではないです。",
            "このまま続けていいのか迷っています。",
            "もう少し様子を見ますが…。",
            "正直がっかりしています。",
        ],
    );
    format!("使い始めて{}ですが、{effect}。{tail}", period(days_used))
}

/// The gap between expectation and reality (期待とのギャップ), as noted.
pub(crate) fn gap_note(rng: &mut DemoRng, concern: usize) -> String {
    let worry = concern_phrase(concern);
    let reality = one(rng, &GAP_EFFECTS);
    let feeling = one(
        rng,
        &["期待とのギャップあり。", "効果への不満が強い。", "継続に迷いあり。", "期待値が高かった分、落胆している。"],
    );
    format!("{worry}の改善を期待していたが「{reality}」。{feeling}")
}

/// What an advocate says (推奨, E1/F17). The only writer of 「勧め」.
pub(crate) fn advocacy(rng: &mut DemoRng) -> String {
    let effect = one(rng, &POSITIVE_EFFECTS);
    let recommend = one(
        rng,
        &[
            "友達にも勧めました。",
            "姉にも勧めて、一緒に使っています。",
            "職場の同僚に勧めたら、同じものを買ったそうです。",
            "母にも勧めています。",
            "ママ友にも勧めたところです。",
            "人に勧められる化粧品に初めて出会いました。",
        ],
    );
    format!("{effect}。{recommend}")
}

/// An experience note (使用感) for an advocate: carries the recommendation too.
pub(crate) fn advocacy_note(rng: &mut DemoRng) -> String {
    let who = one(rng, &["友人", "姉妹", "職場の同僚", "母親", "ママ友"]);
    let feel = one(rng, &["使用感にとても満足。", "効果を実感している。", "ブランドへの信頼が厚い。"]);
    format!("{feel}{who}にも勧めたとのこと。推奨意向あり。")
}

/// A neutral or positive experience note (使用感).
pub(crate) fn experience_note(rng: &mut DemoRng, days_used: i64) -> String {
    let effect = one(rng, &POSITIVE_EFFECTS);
    format!(
        "使用{}。「{effect}」とのこと。{}",
        period(days_used),
        one(rng, &["継続意向あり。", "満足している様子。", "", "テクスチャーが気に入っている。"])
    )
}

/// A subscriber cancels (定期便の解約).
pub(crate) fn cancel(rng: &mut DemoRng, expectation_unmet: bool) -> String {
    let ask = one(
        rng,
        &[
            "定期便をやめたいのですが、手続きを教えてください。",
            "次回のお届けで定期を止めたいです。",
            "定期便を解約したいです。",
            "定期をいったん終わりにしたいです。",
        ],
    );
    let why = if expectation_unmet {
        one(
            rng,
            &[
                "思ったほど効果が感じられないので。",
                "期待していた効果がなかったので。",
                "続けても変わらない気がするので。",
            ],
        )
    } else {
        one(
            rng,
            &[
                "まだ在庫が余っているので。",
                "引っ越すことになったので。",
                "家計を見直しているので。",
                "ほかの商品も試してみたいので。",
                "肌の調子が落ち着いたので。",
                "しばらく使う時間がないので。",
                "",
            ],
        )
    };
    let handled = one(
        rng,
        &[
            "解約手続き完了。",
            "休止をご案内したが解約希望。手続き完了。",
            "お届け周期の変更をご案内したが、解約を希望。手続き完了。",
            "解約を承った。次回分は停止。",
        ],
    );
    concat(&[ask, why, handled])
}

/// A periodic care call to a subscriber (定期フォローコール); `upsell` when they order an add-on.
pub(crate) fn care_call(rng: &mut DemoRng, months: i64, upsell: Option<usize>) -> String {
    let lead = format!("定期{}か月目のフォローコール。", months.max(1));
    match upsell {
        Some(product) => {
            format!("{lead}{}。{}をご案内し、ご注文いただいた。", one(rng, &POSITIVE_EFFECTS), spoken_name(product))
        }
        None => format!(
            "{lead}{}",
            one(
                rng,
                &[
                    "順調に使えているとのこと。",
                    "お届け周期はこのままでよいとのこと。",
                    "在庫が少し余り気味。使用量を確認し2プッシュをご案内。",
                    "季節の変わり目で少し乾燥するとのこと。重ねづけをご案内。",
                    "特に変わりなし。",
                ]
            )
        ),
    }
}

/// Kinds of spontaneous contact a customer makes, with the call reason (コールリーズン, E4) each
/// is filed under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Inquiry {
    DeliveryDate,
    DeliveryCycle,
    Pause,
    Usage,
    SkinTrouble,
    Payment,
    Address,
    NotArrived,
    Product,
    Feedback,
    Counselling,
}

impl Inquiry {
    pub fn reason(self) -> &'static str {
        match self {
            Inquiry::DeliveryDate => "お届け日変更",
            Inquiry::DeliveryCycle => "お届け周期の変更",
            Inquiry::Pause => "定期便の休止",
            Inquiry::Usage => "商品の使い方",
            Inquiry::SkinTrouble => "肌トラブル",
            Inquiry::Payment => "支払い",
            Inquiry::Address => "住所変更",
            Inquiry::NotArrived => "配送",
            Inquiry::Product => "問い合わせ",
            Inquiry::Feedback => "ご意見・ご感想",
            Inquiry::Counselling => "カウンセリング",
        }
    }
}

/// What the customer wrote or said in a spontaneous contact, and how it was handled.
pub(crate) fn inquiry(rng: &mut DemoRng, kind: Inquiry, days_used: i64) -> String {
    let (said, handled): (String, &str) = match kind {
        Inquiry::DeliveryDate => (
            format!(
                "{}ので、次回のお届けを{}にずらしてほしい。",
                one(rng, &["旅行で家を空ける", "仕事で留守にする", "実家に帰省する", "入院する予定がある"]),
                one(rng, &["1週間後", "来月の10日", "月末", "再来週の土曜日"])
            ),
            one(rng, &["お届け日を変更済み。", "次回分のみ変更で承った。", "変更完了。"]),
        ),
        Inquiry::DeliveryCycle => (
            (one(
                rng,
                &[
                    "使い切れずに余ってしまうので、届く間隔を空けたいです。",
                    "45日ごとのお届けに変えられますか。",
                    "毎月だと多いので2か月に1回にしたい。",
                    "使う量が増えたので、周期を短くできますか。",
                ],
            ))
            .to_owned(),
            one(rng, &["45日周期に変更。", "60日周期に変更。使用量も確認した。", "周期変更を承った。"]),
        ),
        Inquiry::Pause => (
            (one(
                rng,
                &[
                    "在庫がたまってきたので、1回お休みしたいです。",
                    "しばらく定期を休止したい。",
                    "次回だけスキップできますか。",
                ],
            ))
            .to_owned(),
            one(rng, &["1回スキップで承った。", "2か月休止で承った。", "休止を承り、再開時期をご案内。"]),
        ),
        Inquiry::Usage => (
            (one(
                rng,
                &[
                    "化粧水の前と後、どちらにつければいいですか。",
                    "朝も使っていいのでしょうか。",
                    "1回に何プッシュ使えばいいですか。",
                    "乳液と一緒に使っても大丈夫ですか。",
                    "目の周りにもつけて大丈夫ですか。",
                    "ポンプが出にくくなりました。",
                ],
            ))
            .to_owned(),
            one(
                rng,
                &[
                    "使用手順をご案内。",
                    "FAQに沿ってご案内。納得された様子。",
                    "化粧水の後に2プッシュ、ハンドプレスをご案内。",
                ],
            ),
        ),
        Inquiry::SkinTrouble => (
            format!(
                "使い始めて{}ですが、{}が出ました。",
                period(days_used),
                one(rng, &["頬に少し赤み", "かゆみ", "ポツポツとした湿疹", "ヒリヒリ感"])
            ),
            one(
                rng,
                &[
                    "使用中止をお願いし、品質管理部へ報告。",
                    "皮膚科の受診をおすすめし、返金保証をご案内。",
                    "症状を詳しく伺い、品質管理部へ共有。",
                ],
            ),
        ),
        Inquiry::Payment => (
            (one(
                rng,
                &[
                    "クレジットカードを新しくしたので、支払い方法を変えたいです。",
                    "後払いの請求書が届いていません。",
                    "コンビニ払いに変更できますか。",
                    "今月の請求額が前と違う気がします。",
                ],
            ))
            .to_owned(),
            one(rng, &["変更手続きをご案内。", "請求書を再発行。", "明細を確認しご説明。ご納得いただいた。"]),
        ),
        Inquiry::Address => (
            format!(
                "{}ので、住所を変更したいです。",
                one(rng, &["引っ越した", "来月転居する", "実家に戻る", "娘の家の近くに移る"])
            ),
            one(rng, &["住所変更完了。定期便のお届け先も変更。", "本人確認のうえ変更。", "新住所を登録済み。"]),
        ),
        Inquiry::NotArrived => (
            (one(
                rng,
                &[
                    "定期便がまだ届いていません。",
                    "発送のメールが来たのに、荷物が届きません。",
                    "いつ届くか教えてください。",
                ],
            ))
            .to_owned(),
            one(
                rng,
                &["伝票番号をご案内。", "物流に確認し、翌日配達と判明。", "配送会社に調査を依頼。折り返しを約束。"],
            ),
        ),
        Inquiry::Product => (
            (one(
                rng,
                &[
                    "敏感肌でも使えますか。",
                    "妊娠中でも使って大丈夫でしょうか。",
                    "成分にアルコールは入っていますか。",
                    "クリームと一緒に使うとどう違いますか。",
                    "使用期限はどれくらいですか。",
                    "男性でも使えますか。主人が使いたいと言っています。",
                ],
            ))
            .to_owned(),
            one(rng, &["FAQに沿って回答。", "成分表をご案内。", "回答済み。"]),
        ),
        Inquiry::Feedback => (
            format!("使い始めて{}、{}。", period(days_used), one(rng, &POSITIVE_EFFECTS)),
            one(rng, &["お礼をお伝えした。", "ご感想を商品部に共有。", ""]),
        ),
        Inquiry::Counselling => (
            format!("催事の肌診断で{}を相談。", one(rng, &["乾燥", "シミ", "毛穴", "くすみ"])),
            one(
                rng,
                &["クリームとの併用をご案内。", "使い方をご説明し、サンプルをお渡し。", "肌診断の結果をお伝えした。"],
            ),
        ),
    };
    let mut text = said;
    text.push_str(handled);
    text
}

/// A social-media post praising the product.
pub(crate) fn sns_praise(rng: &mut DemoRng, days_used: i64) -> String {
    format!(
        "#うるおい美容液 使い始めて{}。{}{}",
        period(days_used),
        one(rng, &POSITIVE_EFFECTS),
        one(rng, &["！", "♪", "。リピ確定です。", "。もっと早く知りたかった。"])
    )
}

/// A social-media post or email that complains, without crisis words.
pub(crate) fn complaint(rng: &mut DemoRng) -> String {
    (one(
        rng,
        &[
            "解約したいのに電話がなかなかつながらない…",
            "定期便の解約方法がわかりにくいです。",
            "届いた箱がつぶれていました。",
            "前回と同じ商品なのに、香りが違う気がします。",
            "お届け日を変えたのに、前の日付で届きました。",
            "オペレーターの説明がわかりにくかったです。",
        ],
    ))
    .to_owned()
}

/// A post or email with a crisis word (危機ワード, F5). The only writer of those words.
pub(crate) fn crisis_post(rng: &mut DemoRng) -> String {
    let what = one(
        rng,
        &[
            "肌が真っ赤に腫れた。",
            "解約したのにまた届いた。",
            "何度電話してもつながらない。",
            "勝手に定期便にされていた。",
            "効果があると言うから買ったのに何も変わらない。",
        ],
    );
    let threat = one(
        rng,
        &[
            "消費者センターに相談します。",
            "返金しろ。",
            "本当に最悪。二度と買わない。",
            "訴えることも考えています。",
            "このままなら拡散して炎上させます。",
        ],
    );
    concat(&[what, threat])
}

/// The public reply to a post: thanks for praise, an apology and a private follow-up otherwise.
pub(crate) fn sns_reply(rng: &mut DemoRng, positive: bool) -> String {
    if positive {
        one(
            rng,
            &[
                "ご投稿ありがとうございます。とても励みになります!",
                "嬉しいお言葉をありがとうございます。これからもよろしくお願いいたします。",
                "ご愛用ありがとうございます。スタッフ一同とても喜んでおります。",
            ],
        )
        .to_owned()
    } else {
        one(
            rng,
            &[
                "ご不便をおかけし申し訳ございません。詳しくお伺いしたく、DMをお送りしました。",
                "この度はご迷惑をおかけしております。お電話でご連絡させていただきます。",
                "ご不快な思いをおかけし申し訳ございません。担当よりご連絡いたします。",
            ],
        )
        .to_owned()
    }
}

/// The phone call that answers a post, an email or a callback request (same thread, F3).
pub(crate) fn thread_followup_call(rng: &mut DemoRng, crisis: bool, started_by: Channel) -> String {
    let about = match started_by {
        Channel::Sns => "SNSへのご投稿",
        Channel::Email => "いただいたメール",
        Channel::WebForm => "Webフォームからのお問い合わせ",
        _ => "お問い合わせ",
    };
    let handled = if crisis {
        one(
            rng,
            &[
                "お詫びし、状況を詳しく伺った。返品・返金の手続きをご案内。SV同席。",
                "ご不快な思いをさせたことをお詫び。事実確認のうえ、改めてご連絡すると約束。",
                "SVより、お申し出内容を確認し、お詫びと今後の対応をご説明。ご納得いただいた。",
            ],
        )
    } else {
        one(
            rng,
            &[
                "詳しく伺い、解決。",
                "ご説明し、ご納得いただいた。",
                "状況を伺い、お詫びと対応をご説明。",
                "ご用件を伺い対応完了。",
            ],
        )
    };
    format!("{about}の件でお電話。{handled}")
}

/// A preference (好み).
pub(crate) fn preference_note(rng: &mut DemoRng) -> String {
    (one(
        rng,
        &[
            "無香料のものが好み。",
            "べたつかないテクスチャーを好む。",
            "朝は時短したい。オールインワン志向。",
            "天然由来成分にこだわりあり。",
            "ポンプ式が使いやすいとのこと。",
            "まとめ買いより毎月届くほうが安心。",
            "メールより電話での案内を好む。",
            "DMはよく読んでいるとのこと。",
            "しっとり重めの使用感が好き。",
            "夜だけしっかりケアしたい派。",
        ],
    ))
    .to_owned()
}

/// A life event or life plan (ライフイベント).
pub(crate) fn life_event_note(rng: &mut DemoRng) -> String {
    (one(
        rng,
        &[
            "来年、結婚式を控えている。",
            "出産したばかりで肌が敏感になっている。",
            "春に転居予定。住所変更の案内済み。",
            "今年退職し、自分の時間ができた。",
            "娘さんが成人式。一緒に使いたいとのこと。",
            "初孫が生まれた。",
            "転職して仕事が忙しくなった。",
            "更年期で肌の変化を感じている。",
            "子どもが独立し、夫婦二人の生活に。",
            "介護が始まり、自分のケアの時間が減った。",
        ],
    ))
    .to_owned()
}

/// A potential (ポテンシャル): signs of a future purchase.
pub(crate) fn potential_note(rng: &mut DemoRng) -> String {
    (one(
        rng,
        &[
            "クリームにも興味あり。次回ご案内。",
            "娘さんへのプレゼントを検討中。",
            "化粧水とのライン使いを検討している。",
            "定期セットへの切り替えに前向き。",
            "ご主人も使いたいとのこと。2本目の可能性。",
            "年末にまとめて購入したいとのこと。",
        ],
    ))
    .to_owned()
}

/// A caution for the next operator (注意事項).
pub(crate) fn caution_note(rng: &mut DemoRng) -> String {
    (one(
        rng,
        &[
            "言葉遣いに厳しい方。丁寧に対応。",
            "耳が遠いので、ゆっくり大きめの声で話すこと。",
            "長電話になりやすい。用件を先に確認。",
            "ご家族が電話に出ることが多い。本人確認を徹底。",
            "過去に配送遅延のクレームあり。SV対応推奨。",
            "早口だと不機嫌になる。ゆっくり話すこと。",
        ],
    ))
    .to_owned()
}

/// A handover (引き継ぎ) for the next operator.
pub(crate) fn handover_note(rng: &mut DemoRng, evening: bool) -> String {
    if evening {
        return (one(rng, &["次回は17時以降に架電希望。", "平日は18時以降なら電話に出られるとのこと。"])).to_owned();
    }
    (one(
        rng,
        &[
            "平日昼間は不在。土曜午前なら可。",
            "次回お届け時に使用感を伺う約束。",
            "定期便のお届け日を毎月10日に変更済み。",
            "クレジットカード更新の案内を送付予定。",
            "クリームのサンプルを同梱済み。感想を伺うこと。",
            "電話はご本人の携帯へ。固定電話はご家族が出る。",
        ],
    ))
    .to_owned()
}
