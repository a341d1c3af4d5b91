//! Who the customers are: names with readings, birth dates, prefectures weighted by population,
//! addresses, and phone numbers and email addresses that are unique by construction.

use kimochi_domain::prefecture::PREFECTURES;
use kimochi_domain::{Email, Gender, PhoneNumber};

use crate::random::{DemoRng, between, chance, weighted};

/// A name part: written form, reading in katakana, romaji for email addresses.
pub(crate) type NamePart = (&'static str, &'static str, &'static str);

/// The hundred most common surnames, roughly in order of frequency.
const SURNAMES: [NamePart; 100] = [
    ("佐藤", "サトウ", "sato"),
    ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"),
    ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
    ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"),
    ("山田", "ヤマダ", "yamada"),
    ("佐々木", "ササキ", "sasaki"),
    ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"),
    ("井上", "イノウエ", "inoue"),
    ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"),
    ("斎藤", "サイトウ", "saito"),
    ("清水", "シミズ", "shimizu"),
    ("山崎", "ヤマザキ", "yamazaki"),
    ("森", "モリ", "mori"),
    ("池田", "イケダ", "ikeda"),
    ("橋本", "ハシモト", "hashimoto"),
    ("阿部", "アベ", "abe"),
    ("石川", "イシカワ", "ishikawa"),
    ("山下", "ヤマシタ", "yamashita"),
    ("中島", "ナカジマ", "nakajima"),
    ("石井", "イシイ", "ishii"),
    ("小川", "オガワ", "ogawa"),
    ("前田", "マエダ", "maeda"),
    ("岡田", "オカダ", "okada"),
    ("長谷川", "ハセガワ", "hasegawa"),
    ("藤田", "フジタ", "fujita"),
    ("後藤", "ゴトウ", "goto"),
    ("近藤", "コンドウ", "kondo"),
    ("村上", "ムラカミ", "murakami"),
    ("遠藤", "エンドウ", "endo"),
    ("青木", "アオキ", "aoki"),
    ("坂本", "サカモト", "sakamoto"),
    ("斉藤", "サイトウ", "saito"),
    ("福田", "フクダ", "fukuda"),
    ("太田", "オオタ", "ota"),
    ("西村", "ニシムラ", "nishimura"),
    ("藤井", "フジイ", "fujii"),
    ("金子", "カネコ", "kaneko"),
    ("岡本", "オカモト", "okamoto"),
    ("藤原", "フジワラ", "fujiwara"),
    ("中野", "ナカノ", "nakano"),
    ("三浦", "ミウラ", "miura"),
    ("原田", "ハラダ", "harada"),
    ("中川", "ナカガワ", "nakagawa"),
    ("松田", "マツダ", "matsuda"),
    ("竹内", "タケウチ", "takeuchi"),
    ("小野", "オノ", "ono"),
    ("田村", "タムラ", "tamura"),
    ("中山", "ナカヤマ", "nakayama"),
    ("和田", "ワダ", "wada"),
    ("石田", "イシダ", "ishida"),
    ("森田", "モリタ", "morita"),
    ("上田", "ウエダ", "ueda"),
    ("原", "ハラ", "hara"),
    ("内田", "ウチダ", "uchida"),
    ("柴田", "シバタ", "shibata"),
    ("酒井", "サカイ", "sakai"),
    ("宮崎", "ミヤザキ", "miyazaki"),
    ("横山", "ヨコヤマ", "yokoyama"),
    ("高木", "タカギ", "takagi"),
    ("安藤", "アンドウ", "ando"),
    ("宮本", "ミヤモト", "miyamoto"),
    ("大野", "オオノ", "ono"),
    ("小島", "コジマ", "kojima"),
    ("谷口", "タニグチ", "taniguchi"),
    ("今井", "イマイ", "imai"),
    ("工藤", "クドウ", "kudo"),
    ("高田", "タカダ", "takada"),
    ("増田", "マスダ", "masuda"),
    ("丸山", "マルヤマ", "maruyama"),
    ("杉山", "スギヤマ", "sugiyama"),
    ("村田", "ムラタ", "murata"),
    ("大塚", "オオツカ", "otsuka"),
    ("新井", "アライ", "arai"),
    ("小山", "コヤマ", "koyama"),
    ("平野", "ヒラノ", "hirano"),
    ("藤本", "フジモト", "fujimoto"),
    ("河野", "コウノ", "kono"),
    ("上野", "ウエノ", "ueno"),
    ("野口", "ノグチ", "noguchi"),
    ("武田", "タケダ", "takeda"),
    ("松井", "マツイ", "matsui"),
    ("千葉", "チバ", "chiba"),
    ("岩崎", "イワサキ", "iwasaki"),
    ("菅原", "スガワラ", "sugawara"),
    ("木下", "キノシタ", "kinoshita"),
    ("久保", "クボ", "kubo"),
    ("佐野", "サノ", "sano"),
    ("野村", "ノムラ", "nomura"),
    ("松尾", "マツオ", "matsuo"),
    ("市川", "イチカワ", "ichikawa"),
    ("菊地", "キクチ", "kikuchi"),
];

/// Women's given names: the first half common among older generations, the second among
/// younger ones.
const FEMALE_NAMES: [NamePart; 100] = [
    ("幸子", "サチコ", "sachiko"),
    ("和子", "カズコ", "kazuko"),
    ("節子", "セツコ", "setsuko"),
    ("悦子", "エツコ", "etsuko"),
    ("弘子", "ヒロコ", "hiroko"),
    ("美智子", "ミチコ", "michiko"),
    ("信子", "ノブコ", "nobuko"),
    ("文子", "フミコ", "fumiko"),
    ("良子", "ヨシコ", "yoshiko"),
    ("敏子", "トシコ", "toshiko"),
    ("正子", "マサコ", "masako"),
    ("房子", "フサコ", "fusako"),
    ("千代子", "チヨコ", "chiyoko"),
    ("光子", "ミツコ", "mitsuko"),
    ("君子", "キミコ", "kimiko"),
    ("芳子", "ヨシコ", "yoshiko"),
    ("登美子", "トミコ", "tomiko"),
    ("紀美子", "キミコ", "kimiko"),
    ("洋子", "ヨウコ", "yoko"),
    ("恵子", "ケイコ", "keiko"),
    ("京子", "キョウコ", "kyoko"),
    ("順子", "ジュンコ", "junko"),
    ("陽子", "ヨウコ", "yoko"),
    ("典子", "ノリコ", "noriko"),
    ("久美子", "クミコ", "kumiko"),
    ("由美子", "ユミコ", "yumiko"),
    ("真由美", "マユミ", "mayumi"),
    ("裕子", "ユウコ", "yuko"),
    ("直美", "ナオミ", "naomi"),
    ("智子", "トモコ", "tomoko"),
    ("明美", "アケミ", "akemi"),
    ("純子", "ジュンコ", "junko"),
    ("貴子", "タカコ", "takako"),
    ("礼子", "レイコ", "reiko"),
    ("聡子", "サトコ", "satoko"),
    ("靖子", "ヤスコ", "yasuko"),
    ("佳子", "ヨシコ", "yoshiko"),
    ("朋子", "トモコ", "tomoko"),
    ("晴美", "ハルミ", "harumi"),
    ("美奈子", "ミナコ", "minako"),
    ("恭子", "キョウコ", "kyoko"),
    ("一美", "カズミ", "kazumi"),
    ("寛子", "ヒロコ", "hiroko"),
    ("尚美", "ナオミ", "naomi"),
    ("紀子", "ノリコ", "noriko"),
    ("由紀子", "ユキコ", "yukiko"),
    ("幸恵", "ユキエ", "yukie"),
    ("美穂子", "ミホコ", "mihoko"),
    ("亜希子", "アキコ", "akiko"),
    ("奈緒子", "ナオコ", "naoko"),
    ("加奈子", "カナコ", "kanako"),
    ("真理子", "マリコ", "mariko"),
    ("美香", "ミカ", "mika"),
    ("美保", "ミホ", "miho"),
    ("智恵", "チエ", "chie"),
    ("真紀", "マキ", "maki"),
    ("美穂", "ミホ", "miho"),
    ("由美", "ユミ", "yumi"),
    ("香織", "カオリ", "kaori"),
    ("美紀", "ミキ", "miki"),
    ("さゆり", "サユリ", "sayuri"),
    ("綾子", "アヤコ", "ayako"),
    ("恵美", "エミ", "emi"),
    ("美由紀", "ミユキ", "miyuki"),
    ("千春", "チハル", "chiharu"),
    ("知美", "トモミ", "tomomi"),
    ("麻美", "アサミ", "asami"),
    ("亜紀", "アキ", "aki"),
    ("瞳", "ヒトミ", "hitomi"),
    ("静香", "シズカ", "shizuka"),
    ("里美", "サトミ", "satomi"),
    ("智美", "サトミ", "satomi"),
    ("友美", "トモミ", "tomomi"),
    ("由佳", "ユカ", "yuka"),
    ("理恵", "リエ", "rie"),
    ("優子", "ユウコ", "yuko"),
    ("沙織", "サオリ", "saori"),
    ("千尋", "チヒロ", "chihiro"),
    ("麻衣", "マイ", "mai"),
    ("愛", "アイ", "ai"),
    ("彩", "アヤ", "aya"),
    ("美咲", "ミサキ", "misaki"),
    ("舞", "マイ", "mai"),
    ("理沙", "リサ", "risa"),
    ("絵美", "エミ", "emi"),
    ("夏美", "ナツミ", "natsumi"),
    ("亜矢", "アヤ", "aya"),
    ("瑞穂", "ミズホ", "mizuho"),
    ("かおり", "カオリ", "kaori"),
    ("明日香", "アスカ", "asuka"),
    ("菜摘", "ナツミ", "natsumi"),
    ("真央", "マオ", "mao"),
    ("彩花", "アヤカ", "ayaka"),
    ("遥", "ハルカ", "haruka"),
    ("葵", "アオイ", "aoi"),
    ("七海", "ナナミ", "nanami"),
    ("美優", "ミユ", "miyu"),
    ("さくら", "サクラ", "sakura"),
    ("結衣", "ユイ", "yui"),
    ("陽菜", "ヒナ", "hina"),
];

/// Men's given names, older generations first.
const MALE_NAMES: [NamePart; 100] = [
    ("茂", "シゲル", "shigeru"),
    ("勇", "イサム", "isamu"),
    ("実", "ミノル", "minoru"),
    ("清", "キヨシ", "kiyoshi"),
    ("進", "ススム", "susumu"),
    ("三郎", "サブロウ", "saburo"),
    ("正雄", "マサオ", "masao"),
    ("忠", "タダシ", "tadashi"),
    ("秀夫", "ヒデオ", "hideo"),
    ("敏夫", "トシオ", "toshio"),
    ("和夫", "カズオ", "kazuo"),
    ("幸男", "ユキオ", "yukio"),
    ("義雄", "ヨシオ", "yoshio"),
    ("光男", "ミツオ", "mitsuo"),
    ("文雄", "フミオ", "fumio"),
    ("俊夫", "トシオ", "toshio"),
    ("達夫", "タツオ", "tatsuo"),
    ("勝", "マサル", "masaru"),
    ("武", "タケシ", "takeshi"),
    ("昭", "アキラ", "akira"),
    ("稔", "ミノル", "minoru"),
    ("博", "ヒロシ", "hiroshi"),
    ("浩", "ヒロシ", "hiroshi"),
    ("弘", "ヒロシ", "hiroshi"),
    ("宏", "ヒロシ", "hiroshi"),
    ("隆", "タカシ", "takashi"),
    ("孝", "タカシ", "takashi"),
    ("明", "アキラ", "akira"),
    ("晃", "アキラ", "akira"),
    ("修", "オサム", "osamu"),
    ("豊", "ユタカ", "yutaka"),
    ("正", "タダシ", "tadashi"),
    ("清志", "キヨシ", "kiyoshi"),
    ("克己", "カツミ", "katsumi"),
    ("一郎", "イチロウ", "ichiro"),
    ("次郎", "ジロウ", "jiro"),
    ("太郎", "タロウ", "taro"),
    ("誠", "マコト", "makoto"),
    ("学", "マナブ", "manabu"),
    ("徹", "トオル", "toru"),
    ("聡", "サトシ", "satoshi"),
    ("淳", "ジュン", "jun"),
    ("剛", "ツヨシ", "tsuyoshi"),
    ("健一", "ケンイチ", "kenichi"),
    ("健二", "ケンジ", "kenji"),
    ("浩二", "コウジ", "koji"),
    ("賢治", "ケンジ", "kenji"),
    ("修一", "シュウイチ", "shuichi"),
    ("伸一", "シンイチ", "shinichi"),
    ("真一", "シンイチ", "shinichi"),
    ("幸一", "コウイチ", "koichi"),
    ("浩一", "コウイチ", "koichi"),
    ("誠一", "セイイチ", "seiichi"),
    ("恵一", "ケイイチ", "keiichi"),
    ("純一", "ジュンイチ", "junichi"),
    ("雄一", "ユウイチ", "yuichi"),
    ("秀樹", "ヒデキ", "hideki"),
    ("英樹", "ヒデキ", "hideki"),
    ("秀明", "ヒデアキ", "hideaki"),
    ("和彦", "カズヒコ", "kazuhiko"),
    ("昌弘", "マサヒロ", "masahiro"),
    ("康弘", "ヤスヒロ", "yasuhiro"),
    ("正人", "マサト", "masato"),
    ("雅之", "マサユキ", "masayuki"),
    ("裕之", "ヒロユキ", "hiroyuki"),
    ("智之", "トモユキ", "tomoyuki"),
    ("隆之", "タカユキ", "takayuki"),
    ("貴之", "タカユキ", "takayuki"),
    ("哲也", "テツヤ", "tetsuya"),
    ("直樹", "ナオキ", "naoki"),
    ("和也", "カズヤ", "kazuya"),
    ("達也", "タツヤ", "tatsuya"),
    ("竜也", "タツヤ", "tatsuya"),
    ("克也", "カツヤ", "katsuya"),
    ("信也", "シンヤ", "shinya"),
    ("慎也", "シンヤ", "shinya"),
    ("健", "ケン", "ken"),
    ("圭", "ケイ", "kei"),
    ("大輔", "ダイスケ", "daisuke"),
    ("祐介", "ユウスケ", "yusuke"),
    ("陽介", "ヨウスケ", "yosuke"),
    ("俊介", "シュンスケ", "shunsuke"),
    ("洋平", "ヨウヘイ", "yohei"),
    ("直人", "ナオト", "naoto"),
    ("健太郎", "ケンタロウ", "kentaro"),
    ("拓也", "タクヤ", "takuya"),
    ("亮", "リョウ", "ryo"),
    ("亮太", "リョウタ", "ryota"),
    ("良太", "リョウタ", "ryota"),
    ("健太", "ケンタ", "kenta"),
    ("翔太", "ショウタ", "shota"),
    ("将太", "ショウタ", "shota"),
    ("大樹", "ダイキ", "daiki"),
    ("春樹", "ハルキ", "haruki"),
    ("翔", "ショウ", "sho"),
    ("優太", "ユウタ", "yuta"),
    ("大翔", "ヒロト", "hiroto"),
    ("悠斗", "ユウト", "yuto"),
    ("蓮", "レン", "ren"),
    ("陸", "リク", "riku"),
];

/// Population of each prefecture in ten thousands (2020 census), in [`PREFECTURES`] order.
const PREFECTURE_POPULATION: [u32; 47] = [
    522, 124, 121, 230, 96, 107, 183, 287, 193, 194, 734, 628, 1405, 924, 220, 103, 113, 77, 81, 205, 198, 363, 754,
    177, 141, 258, 884, 547, 132, 92, 55, 67, 189, 280, 134, 72, 95, 133, 69, 514, 81, 131, 174, 112, 107, 159, 147,
];

/// A city (and ward) of each prefecture, in [`PREFECTURES`] order.
const CITIES: [&str; 47] = [
    "札幌市中央区",
    "青森市",
    "盛岡市",
    "仙台市青葉区",
    "秋田市",
    "山形市",
    "郡山市",
    "水戸市",
    "宇都宮市",
    "高崎市",
    "さいたま市浦和区",
    "船橋市",
    "世田谷区",
    "横浜市港北区",
    "新潟市中央区",
    "富山市",
    "金沢市",
    "福井市",
    "甲府市",
    "松本市",
    "岐阜市",
    "浜松市中央区",
    "名古屋市千種区",
    "四日市市",
    "大津市",
    "京都市左京区",
    "大阪市阿倍野区",
    "神戸市東灘区",
    "奈良市",
    "和歌山市",
    "鳥取市",
    "松江市",
    "岡山市北区",
    "広島市安佐南区",
    "下関市",
    "徳島市",
    "高松市",
    "松山市",
    "高知市",
    "福岡市早良区",
    "佐賀市",
    "長崎市",
    "熊本市中央区",
    "大分市",
    "宮崎市",
    "鹿児島市",
    "那覇市",
];

const TOWNS: [&str; 24] = [
    "本町",
    "中央",
    "緑町",
    "栄町",
    "旭町",
    "桜台",
    "東町",
    "幸町",
    "若葉",
    "青葉台",
    "松が丘",
    "南町",
    "西町",
    "北町",
    "泉町",
    "大手町",
    "城山",
    "花園",
    "日の出町",
    "富士見",
    "朝日町",
    "宮前",
    "山手町",
    "平和台",
];

/// Landline area code of each prefecture's main city; Tokyo and Osaka have 2-digit codes.
const AREA_CODES: [&str; 47] = [
    "011", "017", "019", "022", "018", "023", "024", "029", "028", "027", "048", "047", "03", "045", "025", "076",
    "076", "077", "055", "026", "058", "053", "052", "059", "077", "075", "06", "078", "074", "073", "085", "085",
    "086", "082", "083", "088", "087", "089", "088", "092", "095", "095", "096", "097", "098", "099", "098",
];

const EMAIL_DOMAINS: [&str; 5] = ["example.jp", "example.ne.jp", "example.co.jp", "example.com", "example.or.jp"];

/// A person's name parts.
pub(crate) struct PersonName {
    pub surname: NamePart,
    pub given: NamePart,
}

impl PersonName {
    pub fn full(&self) -> String {
        format!("{} {}", self.surname.0, self.given.0)
    }

    pub fn kana(&self) -> String {
        format!("{} {}", self.surname.1, self.given.1)
    }
}

/// A gender: about 75% women, as in skincare mail order.
pub(crate) fn gender(rng: &mut DemoRng) -> Gender {
    match weighted(rng, &[750, 240, 10]) {
        0 => Gender::Female,
        1 => Gender::Male,
        _ => Gender::Unknown,
    }
}

/// Age in whole years, 20–79, mostly in the 40s to 60s; `shift` moves the decade weights
/// younger (negative) or older (positive), e.g. SNS ads skew young, newspapers old.
pub(crate) fn age(rng: &mut DemoRng, shift: i32) -> i64 {
    let weights: [u32; 6] = match shift {
        s if s < 0 => [14, 24, 28, 20, 10, 4],
        s if s > 0 => [2, 6, 16, 28, 30, 18],
        _ => [6, 14, 26, 27, 19, 8],
    };
    let decade = weighted(rng, &weights) as i64;
    20 + decade * 10 + between(rng, 0, 9)
}

/// A name: surnames drawn with a mild preference for common ones; given names from the half
/// of the table that fits the generation.
pub(crate) fn name(rng: &mut DemoRng, gender: Gender, age: i64) -> PersonName {
    let u: f64 = rand::Rng::random(rng);
    let surname = SURNAMES[((u * u) * SURNAMES.len() as f64) as usize % SURNAMES.len()];
    let table = match gender {
        Gender::Male => &MALE_NAMES,
        Gender::Female => &FEMALE_NAMES,
        _ if chance(rng, 0.5) => &MALE_NAMES,
        _ => &FEMALE_NAMES,
    };
    // Older people mostly carry names from the front of the table, younger from the back.
    let centre = ((age - 20) as f64 / 60.0 * table.len() as f64) as i64;
    let position = (table.len() as i64 - 1 - centre + between(rng, -35, 35)).clamp(0, table.len() as i64 - 1);
    PersonName { surname, given: table[position as usize] }
}

/// Position in [`PREFECTURES`], weighted by population.
pub(crate) fn prefecture(rng: &mut DemoRng) -> usize {
    weighted(rng, &PREFECTURE_POPULATION)
}

pub(crate) fn prefecture_name(position: usize) -> &'static str {
    PREFECTURES[position]
}

pub(crate) fn address(rng: &mut DemoRng, prefecture: usize) -> String {
    let town = TOWNS[rand::Rng::random_range(rng, 0..TOWNS.len())];
    format!(
        "{}{}{}{}丁目{}-{}",
        PREFECTURES[prefecture],
        CITIES[prefecture],
        town,
        between(rng, 1, 5),
        between(rng, 1, 30),
        between(rng, 1, 20)
    )
}

/// A bijection of `0..10^digits` onto itself: multiplying by a number coprime with 10 and
/// adding a constant, modulo 10^digits. Neighbouring customers thus get unrelated-looking
/// numbers while no two customers share one.
fn scramble(index: u64, modulus: u64) -> u64 {
    ((index % modulus) * 7_654_321 + 31_415_926) % modulus
}

/// A mobile number (090/080/070 + 8 digits) unique to the customer index below 10^8.
pub(crate) fn mobile_phone(rng: &mut DemoRng, index: u64) -> Option<PhoneNumber> {
    let prefix = ["090", "080", "070"][weighted(rng, &[5, 4, 1])];
    PhoneNumber::parse(&format!("{prefix}{:08}", scramble(index, 100_000_000))).ok()
}

/// A landline in the prefecture's area, unique to the customer index below 10^7 (10 digits in
/// all: a 2-digit area code takes 8 local digits, a 3-digit one 7). Larger indexes get none.
pub(crate) fn landline(index: u64, prefecture: usize) -> Option<PhoneNumber> {
    let area = AREA_CODES[prefecture];
    if index >= 10_000_000 {
        return None;
    }
    let local = if area.len() == 2 {
        format!("{area}{:08}", scramble(index, 100_000_000))
    } else {
        format!("{area}{:07}", scramble(index, 10_000_000))
    };
    PhoneNumber::parse(&local).ok()
}

/// An email address whose local part ends in the customer index: names hold no digits, so the
/// trailing digits identify the customer and no two customers share an address. Only the
/// reserved `example` domains are used, so no mail can reach a real person.
pub(crate) fn email(rng: &mut DemoRng, name: &PersonName, index: u64) -> Option<Email> {
    let given = name.given.2;
    let surname = name.surname.2;
    let domain = EMAIL_DOMAINS[weighted(rng, &[30, 25, 10, 25, 10])];
    let local = match rand::Rng::random_range(rng, 0..4) {
        0 => format!("{given}.{surname}{index}"),
        1 => format!("{surname}.{given}{index}"),
        2 => format!("{given}{index}"),
        _ => format!("{}{surname}{index}", &given[..1]),
    };
    Email::parse(&format!("{local}@{domain}")).ok()
}
