//! The fixed part of the demo tenant: the product line, the teams, the users and the FAQ of
//! 「うるおい美容液」, a moisturising serum sold by single-product mail order (単品通販).

use kimochi_domain::{ExternalId, NewFaq, NewProduct, ProductKind, Role};

/// Password of every demo user. The demo is for trying kimochi out, never for production data.
pub const DEMO_PASSWORD: &str = "kimochi-demo";

/// Positions of the products in [`demo_products`] (and in [`crate::DemoIds::products`]).
pub mod product {
    /// Free sample, 3 days (サンプル).
    pub const SAMPLE: usize = 0;
    /// Trial set, 7 days (トライアルセット).
    pub const TRIAL: usize = 1;
    /// The serum bought outright (本品).
    pub const SERUM: usize = 2;
    pub const CREAM: usize = 3;
    pub const LOTION: usize = 4;
    /// The serum by monthly subscription (定期便).
    pub const SERUM_SUBSCRIPTION: usize = 5;
    /// Serum and cream by monthly subscription (定期セット).
    pub const SET_SUBSCRIPTION: usize = 6;
    /// Cotton pads, an add-on (その他).
    pub const COTTON: usize = 7;
}

struct ProductRow {
    code: &'static str,
    name: &'static str,
    kind: ProductKind,
    category: &'static str,
    price: i64,
}

const PRODUCTS: [ProductRow; 8] = [
    ProductRow {
        code: "URU-S03",
        name: "うるおい美容液 サンプル(3日分)",
        kind: ProductKind::Sample,
        category: "美容液",
        price: 0,
    },
    ProductRow {
        code: "URU-T07",
        name: "うるおい美容液 トライアルセット(7日分)",
        kind: ProductKind::Trial,
        category: "美容液",
        price: 1_980,
    },
    ProductRow {
        code: "URU-S30",
        name: "うるおい美容液 30mL",
        kind: ProductKind::Main,
        category: "美容液",
        price: 6_800,
    },
    ProductRow {
        code: "URU-C30",
        name: "うるおいクリーム 30g",
        kind: ProductKind::Main,
        category: "クリーム",
        price: 5_500,
    },
    ProductRow {
        code: "URU-L150",
        name: "うるおい化粧水 150mL",
        kind: ProductKind::Main,
        category: "化粧水",
        price: 3_800,
    },
    ProductRow {
        code: "URU-S30-T",
        name: "うるおい美容液 定期便(毎月お届け)",
        kind: ProductKind::Subscription,
        category: "美容液",
        price: 5_780,
    },
    ProductRow {
        code: "URU-SET-T",
        name: "うるおい美容液+クリーム 定期セット",
        kind: ProductKind::Subscription,
        category: "セット",
        price: 9_980,
    },
    ProductRow {
        code: "URU-COT",
        name: "オリジナルコットン(80枚)",
        kind: ProductKind::Other,
        category: "その他",
        price: 440,
    },
];

/// Yen price of the product at `position` in [`demo_products`].
pub(crate) fn price(position: usize) -> i64 {
    PRODUCTS[position].price
}

/// Short name of a product as customers say it.
pub(crate) fn spoken_name(position: usize) -> &'static str {
    match position {
        product::SAMPLE => "サンプル",
        product::TRIAL => "トライアルセット",
        product::SERUM => "美容液",
        product::CREAM => "クリーム",
        product::LOTION => "化粧水",
        product::SERUM_SUBSCRIPTION => "美容液の定期便",
        product::SET_SUBSCRIPTION => "定期セット",
        _ => "コットン",
    }
}

/// The product line, in the order of [`product`]'s positions: a sample, a trial set, three main
/// products, two subscriptions and an add-on.
pub fn demo_products() -> Vec<NewProduct> {
    PRODUCTS
        .iter()
        .map(|row| NewProduct {
            external_id: ExternalId::parse(row.code).ok(),
            name: row.name.to_owned(),
            kind: row.kind,
            category: Some(row.category.to_owned()),
            price: row.price,
        })
        .collect()
}

/// Positions of the teams in [`demo_teams`].
pub mod team {
    /// The dedicated line for loyal customers, answered by skilled operators (E6).
    pub const LOYAL: usize = 0;
    pub const GENERAL: usize = 1;
    /// Outbound care (アウトバウンドケア, T3).
    pub const OUTBOUND: usize = 2;
    /// Email, web form, chat and SNS.
    pub const DIGITAL: usize = 3;
}

pub fn demo_teams() -> Vec<&'static str> {
    vec!["ロイヤルカスタマー窓口", "一般受付", "アウトバウンドケア", "メール・SNS対応"]
}

/// A user of the demo tenant; every one logs in with [`DEMO_PASSWORD`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoUser {
    pub login: &'static str,
    pub display_name: &'static str,
    pub role: Role,
    /// Position in [`demo_teams`].
    pub team: Option<usize>,
}

const fn user(login: &'static str, display_name: &'static str, role: Role, team: Option<usize>) -> DemoUser {
    DemoUser { login, display_name, role, team }
}

const USERS: [DemoUser; 30] = [
    user("op01", "青山 美咲", Role::Agent, Some(team::LOYAL)),
    user("op02", "石原 由紀", Role::Agent, Some(team::LOYAL)),
    user("op03", "上村 千夏", Role::Agent, Some(team::LOYAL)),
    user("op04", "江口 恵理", Role::Agent, Some(team::LOYAL)),
    user("op05", "大西 真紀", Role::Agent, Some(team::LOYAL)),
    user("op06", "川口 奈々", Role::Agent, Some(team::GENERAL)),
    user("op07", "北村 彩香", Role::Agent, Some(team::GENERAL)),
    user("op08", "桑原 智恵", Role::Agent, Some(team::GENERAL)),
    user("op09", "小松 亜美", Role::Agent, Some(team::GENERAL)),
    user("op10", "桜井 優花", Role::Agent, Some(team::GENERAL)),
    user("op11", "島田 里奈", Role::Agent, Some(team::GENERAL)),
    user("op12", "関 美帆", Role::Agent, Some(team::GENERAL)),
    user("op13", "高野 真弓", Role::Agent, Some(team::GENERAL)),
    user("op14", "土屋 翔子", Role::Agent, Some(team::GENERAL)),
    user("op15", "永井 沙也加", Role::Agent, Some(team::OUTBOUND)),
    user("op16", "西田 恭平", Role::Agent, Some(team::OUTBOUND)),
    user("op17", "野田 佳奈", Role::Agent, Some(team::OUTBOUND)),
    user("op18", "浜田 朋美", Role::Agent, Some(team::OUTBOUND)),
    user("op19", "平井 絵里", Role::Agent, Some(team::OUTBOUND)),
    user("op20", "福島 瑞希", Role::Agent, Some(team::OUTBOUND)),
    user("op21", "松岡 玲奈", Role::Agent, Some(team::DIGITAL)),
    user("op22", "水野 拓海", Role::Agent, Some(team::DIGITAL)),
    user("op23", "宮田 紗希", Role::Agent, Some(team::DIGITAL)),
    user("op24", "山内 希", Role::Agent, Some(team::DIGITAL)),
    user("sv01", "早川 理沙", Role::Supervisor, Some(team::LOYAL)),
    user("sv02", "広瀬 啓介", Role::Supervisor, Some(team::GENERAL)),
    user("sv03", "本田 由香里", Role::Supervisor, Some(team::OUTBOUND)),
    user("analyst01", "森本 健太", Role::Analyst, None),
    user("analyst02", "吉川 真央", Role::Analyst, None),
    user("admin", "管理者", Role::Admin, None),
];

/// Twenty-four operators in four teams, three supervisors, two analysts and an administrator.
/// Operators come first, so their ids can be passed to [`crate::DemoIds::agents`] in this order.
pub fn demo_users() -> Vec<DemoUser> {
    USERS.to_vec()
}

/// Team of each operator, in the order of the operators in [`demo_users`].
pub(crate) fn operator_teams() -> impl Iterator<Item = usize> {
    USERS.iter().filter(|user| user.role == Role::Agent).map(|user| user.team.unwrap_or(team::GENERAL))
}

struct FaqRow {
    title: &'static str,
    category: &'static str,
    tags: &'static [&'static str],
    body: &'static str,
}

const FAQ: [FaqRow; 22] = [
    FaqRow {
        title: "定期便を解約したい",
        category: "定期便",
        tags: &["解約", "定期便", "退会"],
        body: "次回お届け日の7日前までにお電話・Webマイページ・メールのいずれかでお申し出ください。\n\
               解約の前に、ご不満の点(効果・使い方・お届け周期・在庫)を必ず伺ってください。\n\
               在庫が余っている場合は「休止」や「お届け周期の変更」もご案内できます。\n\
               回数の縛りはありません。解約手数料もかかりません。",
    },
    FaqRow {
        title: "定期便を一時的に休止したい",
        category: "定期便",
        tags: &["休止", "スキップ", "定期便"],
        body: "1回分のお届けをお休み(スキップ)するか、最長3か月まで休止できます。\n\
               次回お届け日の7日前までに承ります。休止期間が終わると自動で再開します。\n\
               再開時にはお届けの10日前にメールでお知らせします。",
    },
    FaqRow {
        title: "お届け周期を変更したい",
        category: "定期便",
        tags: &["お届け周期", "30日", "45日", "60日"],
        body: "お届け周期は30日・45日・60日からお選びいただけます。\n\
               「使い切れずに余ってしまう」というお声が多い場合は、45日周期への変更をご提案ください。\n\
               変更は次回お届け分から反映されます(お届け日の7日前まで)。",
    },
    FaqRow {
        title: "お届け日を変更したい",
        category: "お届け",
        tags: &["お届け日", "日付指定", "時間指定"],
        body: "毎月のお届け日は1日〜28日の範囲でご指定いただけます。\n\
               時間帯指定:午前中/14〜16時/16〜18時/18〜20時/19〜21時。\n\
               今回だけの変更も承ります。次回お届け日の5日前を過ぎた場合は出荷済みの可能性があるため、物流担当に確認してください。",
    },
    FaqRow {
        title: "肌に合わないと感じたとき",
        category: "肌トラブル",
        tags: &["肌トラブル", "赤み", "かゆみ", "返品"],
        body: "すぐに使用を中止していただき、症状(赤み・かゆみ・ヒリヒリ感)と部位、使用期間を伺ってください。\n\
               症状が続く場合は皮膚科の受診をおすすめし、受診された場合は診断内容を記録してください。\n\
               初回ご購入の方は「30日間全額返金保証」の対象です。開封済みでも返品を承ります。\n\
               必ず品質管理部へ報告(エスカレーション)してください。",
    },
    FaqRow {
        title: "美容液の使い方(基本)",
        category: "使い方",
        tags: &["使い方", "使用量", "順番"],
        body: "洗顔後、化粧水で肌を整えてから、2プッシュを手のひらに取り、顔全体になじませます。\n\
               最後に手のひらで顔を包み込むように10秒ほどハンドプレスすると、なじみが良くなります。\n\
               乾燥が気になる目元・口元には重ねづけしてください。朝晩2回のご使用で約30日分です。",
    },
    FaqRow {
        title: "「説明書どおりに使っても効果を感じない」と言われたら",
        category: "使い方",
        tags: &["効果", "使い方", "失注", "ハンドプレス"],
        body: "使用量が少ない(1プッシュ)、化粧水を使わずに直接つけている、ハンドプレスをしていない、のいずれかが多い原因です。\n\
               使用手順を一緒に確認し、化粧水の後に2プッシュ、ハンドプレス10秒をお伝えください。\n\
               実感までの目安は2〜4週間です。お客様の声として記録し、「使い方」タグを付けてください。",
    },
    FaqRow {
        title: "使用期限と保管方法",
        category: "使い方",
        tags: &["使用期限", "保管", "開封後"],
        body: "未開封で製造から3年、開封後は3か月以内にお使いください。\n\
               直射日光・高温多湿を避けて保管してください。冷蔵庫での保管は不要です。",
    },
    FaqRow {
        title: "敏感肌でも使えますか",
        category: "商品",
        tags: &["敏感肌", "成分", "パッチテスト"],
        body: "無香料・無着色・アルコールフリー・パラベンフリーです。アレルギーテスト済みですが、すべての方にアレルギーが起きないわけではありません。\n\
               ご心配な方には、腕の内側でのパッチテストをおすすめしてください。",
    },
    FaqRow {
        title: "全成分を知りたい",
        category: "商品",
        tags: &["成分", "全成分", "アレルギー"],
        body: "全成分は外箱と公式サイトの商品ページに記載しています。\n\
               主な保湿成分:セラミド、ヒアルロン酸、コラーゲン、スクワラン。\n\
               特定の成分のアレルギーについてのご質問は、成分名を伺って品質管理部に確認してください。",
    },
    FaqRow {
        title: "支払い方法を知りたい・変更したい",
        category: "お支払い",
        tags: &["支払い", "クレジットカード", "後払い", "代引き"],
        body: "クレジットカード、コンビニ後払い、代金引換、口座振替(定期便のみ)がご利用いただけます。\n\
               定期便の支払い方法は次回お届け日の10日前までに変更できます。\n\
               カード番号はお電話では伺いません。マイページまたは変更用紙でお手続きいただいてください。",
    },
    FaqRow {
        title: "後払いの請求書が届かない・紛失した",
        category: "お支払い",
        tags: &["後払い", "請求書", "再発行"],
        body: "請求書は商品とは別に郵送されます(発送から約1週間)。\n\
               紛失の場合は再発行を承ります。支払期限を過ぎた場合も、再発行分でお支払いいただけます。",
    },
    FaqRow {
        title: "返品・交換したい",
        category: "返品",
        tags: &["返品", "交換", "返金保証"],
        body: "商品到着後8日以内で未開封の場合は返品を承ります(送料はお客様負担)。\n\
               初回ご購入の方は30日間全額返金保証の対象です(開封済みでも可、送料は当社負担)。\n\
               破損・誤配送の場合は当社負担で交換します。写真をお送りいただくようお願いしてください。",
    },
    FaqRow {
        title: "住所・電話番号を変更したい",
        category: "会員情報",
        tags: &["住所変更", "電話番号", "転居"],
        body: "ご本人確認(お名前・生年月日・登録電話番号)のうえ、新しいご住所を伺ってください。\n\
               定期便のお届け先も同時に変更してよいか、必ず確認してください。\n\
               次回お届け日の5日前を過ぎている場合は、旧住所に発送される可能性があります。",
    },
    FaqRow {
        title: "トライアルセットは何回でも買えますか",
        category: "商品",
        tags: &["トライアル", "お試し", "初回限定"],
        body: "トライアルセット(1,980円・7日分)はお一人様1回限りです。\n\
               ご家族へのプレゼントの場合は、ご家族のお名前で別途お申し込みいただけます。",
    },
    FaqRow {
        title: "定期便の特典を知りたい",
        category: "定期便",
        tags: &["定期便", "割引", "特典", "送料無料"],
        body: "定期便は通常価格6,800円のところ15%オフの5,780円(税込)、送料無料です。\n\
               美容液+クリームの定期セットは9,980円です。回数の縛りはありません。\n\
               継続12回目以降はゴールド会員としてロイヤルカスタマー窓口をご利用いただけます。",
    },
    FaqRow {
        title: "使い切れずに余ってしまう",
        category: "定期便",
        tags: &["在庫", "余る", "お届け周期", "休止"],
        body: "朝晩2回・2プッシュで30日分です。余っている場合は使用量が少ない可能性があるため、使い方を確認してください。\n\
               そのうえで、お届け周期の変更(45日・60日)や1回スキップをご案内します。解約のご案内は最後です。",
    },
    FaqRow {
        title: "商品が届かない",
        category: "お届け",
        tags: &["配送", "未着", "追跡"],
        body: "出荷日と伝票番号をお伝えし、配送会社の追跡ページをご案内してください。\n\
               出荷から4日以上経って届かない場合は、物流担当に調査を依頼し、お客様に折り返しの日時をお約束してください。",
    },
    FaqRow {
        title: "妊娠中・授乳中でも使えますか",
        category: "商品",
        tags: &["妊娠", "授乳", "出産"],
        body: "妊娠中・授乳中の方にもお使いいただいています。ホルモンバランスの変化で肌が敏感になることがあるため、\n\
               ご心配な場合はかかりつけの医師にご相談いただくようご案内してください。",
    },
    FaqRow {
        title: "男性でも使えますか",
        category: "商品",
        tags: &["男性", "髭剃り後"],
        body: "男性のお客様にも多くご愛用いただいています。髭剃り後の乾燥・ヒリつきが気になる方には、化粧水の後に1〜2プッシュをおすすめしてください。",
    },
    FaqRow {
        title: "SNSで苦情・批判的な投稿を見つけたとき",
        category: "SNS対応",
        tags: &["SNS", "クレーム", "炎上", "エスカレーション"],
        body: "投稿内容を記録し、SVに即時エスカレーションしてください。投稿への返信は定型文(お詫びとDM・お電話でのご連絡のお願い)のみとします。\n\
               「消費者センター」「訴える」「返金しろ」などの言葉が含まれる場合は、危機ワードとして管理者に自動通知されます。",
    },
    FaqRow {
        title: "電話がつながりにくい",
        category: "お問い合わせ",
        tags: &["混雑", "待ち時間", "受付時間"],
        body: "受付時間は9時〜20時(年末年始を除く)です。月曜日と午前10時台は混み合います。\n\
               定期便の変更・解約はWebマイページからも24時間お手続きいただけます。",
    },
];

/// Twenty-two FAQ articles an operator of this business needs during a call (E2).
pub fn demo_faq() -> Vec<NewFaq> {
    FAQ.iter()
        .map(|row| NewFaq {
            title: row.title.to_owned(),
            body: row.body.split('\n').map(str::trim).collect::<Vec<_>>().join("\n"),
            category: Some(row.category.to_owned()),
            tags: row.tags.iter().map(|tag| (*tag).to_owned()).collect(),
        })
        .collect()
}
