//! Built-in reference data: the standard relief catalogue, the two hub nodes
//! of the first deployment, African destinations and the first donors.
//!
//! Weights and volumes are per catalogue unit (a carton, a kit, a tent) and
//! follow the published specifications of the standard items.

use crate::domain::{Destination, Item, Names, Node, NodeKind, Organisation, OrganisationKind};

/// Everything `reliefhub init` loads.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceData {
    pub items: Vec<Item>,
    pub organisations: Vec<Organisation>,
    pub nodes: Vec<Node>,
    pub destinations: Vec<Destination>,
}

#[allow(clippy::too_many_arguments)]
fn item(
    code: &str,
    name: &str,
    category: &str,
    unit: &str,
    unit_weight_kg: f64,
    unit_volume_m3: f64,
    cold_chain: bool,
    un_number: Option<&str>,
    min_shelf_life_days: u32,
) -> Item {
    Item {
        code: code.to_string(),
        name: name.to_string(),
        category: category.to_string(),
        unit: unit.to_string(),
        unit_weight_kg,
        unit_volume_m3,
        cold_chain,
        un_number: un_number.map(str::to_string),
        min_shelf_life_days,
        // An item with a minimum shelf life is perishable: its lots carry
        // an expiry date.
        needs_expiry: min_shelf_life_days > 0,
        names: Names::default(),
        pack_size: 1,
        gtins: Vec::new(),
        un_class: None,
        value_usd_per_unit: None,
    }
}

fn names(fr: &str, ar: &str, ru: &str) -> Names {
    Names {
        fr: Some(fr.to_string()),
        ar: Some(ar.to_string()),
        ru: Some(ru.to_string()),
    }
}

/// The catalogue's values per unit (US dollars, typical procurement prices
/// of the standard items) and names in French, Arabic and Russian.
const CATALOGUE_EXTRA: &[(&str, f64, &str, &str, &str)] = &[
    (
        "HEB-10KG",
        30.0,
        "Biscuits à haute teneur énergétique, carton de 10 kg",
        "بسكويت عالي الطاقة، كرتونة 10 كغ",
        "Высокоэнергетическое печенье, коробка 10 кг",
    ),
    (
        "RUTF-150",
        50.0,
        "Aliment thérapeutique prêt à l'emploi, carton de 150 sachets de 92 g",
        "أغذية علاجية جاهزة للاستخدام، كرتونة من 150 كيسًا × 92 غ",
        "Готовое к употреблению лечебное питание, коробка 150 пакетиков по 92 г",
    ),
    (
        "WHEAT-FLOUR-50KG",
        25.0,
        "Farine de blé, sac de 50 kg",
        "دقيق القمح، كيس 50 كغ",
        "Пшеничная мука, мешок 50 кг",
    ),
    (
        "RICE-50KG",
        30.0,
        "Riz, sac de 50 kg",
        "أرز، كيس 50 كغ",
        "Рис, мешок 50 кг",
    ),
    (
        "LENTILS-50KG",
        45.0,
        "Lentilles corail, sac de 50 kg",
        "عدس أحمر، كيس 50 كغ",
        "Красная чечевица, мешок 50 кг",
    ),
    (
        "VEG-OIL-4X5L",
        30.0,
        "Huile végétale enrichie, carton de 4 x 5 l",
        "زيت نباتي مدعّم، كرتونة 4 × 5 لتر",
        "Обогащённое растительное масло, коробка 4 x 5 л",
    ),
    (
        "FOOD-PARCEL",
        45.0,
        "Colis alimentaire familial, un mois",
        "سلة غذائية عائلية لشهر واحد",
        "Семейный продуктовый набор на месяц",
    ),
    (
        "TENT-FAMILY-16M2",
        300.0,
        "Tente familiale 16 m2",
        "خيمة عائلية 16 م2",
        "Семейная палатка 16 м2",
    ),
    (
        "TARPAULIN-4X6",
        40.0,
        "Bâches plastiques 4 x 6 m, balle de 5",
        "أغطية بلاستيكية 4 × 6 م، رزمة من 5",
        "Полиэтиленовые тенты 4 x 6 м, кипа из 5",
    ),
    (
        "BLANKET-BALE-10",
        50.0,
        "Couvertures thermiques, balle de 10",
        "بطانيات حرارية، رزمة من 10",
        "Термоодеяла, кипа из 10",
    ),
    (
        "SLEEPING-MAT-10",
        30.0,
        "Nattes de couchage, lot de 10",
        "حصائر نوم، حزمة من 10",
        "Спальные коврики, связка из 10",
    ),
    (
        "KITCHEN-SET",
        35.0,
        "Kit de cuisine familial",
        "طقم مطبخ عائلي",
        "Семейный кухонный набор",
    ),
    (
        "JERRYCAN-10L-X10",
        25.0,
        "Jerricans pliables 10 l, paquet de 10",
        "جراكن قابلة للطي 10 لتر، عبوة من 10",
        "Складные канистры 10 л, упаковка из 10",
    ),
    (
        "HYGIENE-KIT",
        30.0,
        "Kit d'hygiène familial",
        "حقيبة نظافة عائلية",
        "Семейный гигиенический набор",
    ),
    (
        "AQUATABS-CTN",
        120.0,
        "Comprimés de purification de l'eau, carton de 20 000",
        "أقراص تنقية المياه، كرتونة من 20000",
        "Таблетки для очистки воды, коробка 20 000 шт.",
    ),
    (
        "SOAP-CTN",
        35.0,
        "Savon en barre, carton de 100 x 200 g",
        "صابون قطع، كرتونة 100 × 200 غ",
        "Кусковое мыло, коробка 100 x 200 г",
    ),
    (
        "LLIN-BALE-40",
        100.0,
        "Moustiquaires imprégnées d'insecticide longue durée, balle de 40",
        "ناموسيات معالجة بمبيد حشري طويل الأمد، رزمة من 40",
        "Москитные сетки с инсектицидом длительного действия, кипа из 40",
    ),
    (
        "IEHK-BASIC",
        900.0,
        "Kit sanitaire d'urgence interinstitutions, unité de base",
        "مجموعة الصحة الطارئة المشتركة بين الوكالات، الوحدة الأساسية",
        "Межучрежденческий медицинский комплект для чрезвычайных ситуаций, базовый модуль",
    ),
    (
        "CHOLERA-KIT-CENTRAL",
        2500.0,
        "Kit choléra, module central",
        "مجموعة الكوليرا، الوحدة المركزية",
        "Противохолерный комплект, центральный модуль",
    ),
    (
        "ORS-CTN",
        80.0,
        "Sels de réhydratation orale, carton de 1 000 sachets",
        "أملاح الإماهة الفموية، كرتونة من 1000 كيس",
        "Соли для пероральной регидратации, коробка 1000 пакетиков",
    ),
    (
        "MEASLES-VACCINE",
        160.0,
        "Vaccin contre la rougeole, carton isotherme de 500 doses",
        "لقاح الحصبة، كرتونة معزولة حراريًا من 500 جرعة",
        "Вакцина против кори, термоконтейнер на 500 доз",
    ),
    (
        "OCV-VACCINE",
        1500.0,
        "Vaccin anticholérique oral, carton isotherme de 1 000 doses",
        "لقاح الكوليرا الفموي، كرتونة معزولة حراريًا من 1000 جرعة",
        "Пероральная холерная вакцина, термоконтейнер на 1000 доз",
    ),
    (
        "SOLAR-LANTERN-10",
        100.0,
        "Lanternes solaires avec batteries lithium-ion, carton de 10",
        "فوانيس شمسية ببطاريات ليثيوم أيون، كرتونة من 10",
        "Солнечные фонари с литий-ионными аккумуляторами, коробка из 10",
    ),
    (
        "CALCIUM-HYPOCHLORITE-45KG",
        150.0,
        "Hypochlorite de calcium 70 %, fût de 45 kg",
        "هيبوكلوريت الكالسيوم 70%، برميل 45 كغ",
        "Гипохлорит кальция 70 %, барабан 45 кг",
    ),
];

/// The dangerous-goods class of the UN numbers of the catalogue.
const UN_CLASSES: &[(&str, &str)] = &[("UN3481", "9"), ("UN2880", "5.1")];

/// The ISO 3166-1 alpha-2 codes (249, from the ISO 3166 country-codes data
/// package). `refdata countries` may add more; these are always known.
pub const COUNTRY_CODES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
];

/// Whether a text is an ISO 3166-1 alpha-2 code of the built-in list.
pub fn is_country_code(text: &str) -> bool {
    COUNTRY_CODES.binary_search(&text).is_ok()
}

/// The standard relief catalogue.
pub fn catalogue() -> Vec<Item> {
    let mut items = standard_items();
    for item in &mut items {
        if let Some((_, value, fr, ar, ru)) =
            CATALOGUE_EXTRA.iter().find(|(code, ..)| *code == item.code)
        {
            item.value_usd_per_unit = Some(*value);
            item.names = names(fr, ar, ru);
        }
        item.un_class = item.un_number.as_deref().and_then(|un| {
            UN_CLASSES
                .iter()
                .find(|(n, _)| *n == un)
                .map(|(_, class)| class.to_string())
        });
    }
    items
}

fn standard_items() -> Vec<Item> {
    vec![
        item(
            "HEB-10KG",
            "High-energy biscuits, carton 10 kg",
            "food",
            "carton",
            10.4,
            0.031,
            false,
            None,
            180,
        ),
        item(
            "RUTF-150",
            "Ready-to-use therapeutic food, carton of 150 sachets x 92 g",
            "nutrition",
            "carton",
            14.9,
            0.036,
            false,
            None,
            180,
        ),
        item(
            "WHEAT-FLOUR-50KG",
            "Wheat flour, bag 50 kg",
            "food",
            "bag",
            50.2,
            0.070,
            false,
            None,
            90,
        ),
        item(
            "RICE-50KG",
            "Rice, bag 50 kg",
            "food",
            "bag",
            50.3,
            0.065,
            false,
            None,
            180,
        ),
        item(
            "LENTILS-50KG",
            "Red lentils, bag 50 kg",
            "food",
            "bag",
            50.2,
            0.068,
            false,
            None,
            180,
        ),
        item(
            "VEG-OIL-4X5L",
            "Fortified vegetable oil, carton 4 x 5 l",
            "food",
            "carton",
            19.6,
            0.026,
            false,
            None,
            180,
        ),
        item(
            "FOOD-PARCEL",
            "Family food parcel, one month",
            "food",
            "parcel",
            16.5,
            0.040,
            false,
            None,
            120,
        ),
        item(
            "TENT-FAMILY-16M2",
            "Family tent 16 m2",
            "shelter",
            "tent",
            55.0,
            0.280,
            false,
            None,
            0,
        ),
        item(
            "TARPAULIN-4X6",
            "Plastic sheeting 4 x 6 m, bale of 5",
            "shelter",
            "bale",
            22.5,
            0.050,
            false,
            None,
            0,
        ),
        item(
            "BLANKET-BALE-10",
            "Thermal blankets, bale of 10",
            "shelter",
            "bale",
            15.0,
            0.090,
            false,
            None,
            0,
        ),
        item(
            "SLEEPING-MAT-10",
            "Sleeping mats, bundle of 10",
            "shelter",
            "bundle",
            14.0,
            0.120,
            false,
            None,
            0,
        ),
        item(
            "KITCHEN-SET",
            "Family kitchen set",
            "shelter",
            "set",
            8.5,
            0.035,
            false,
            None,
            0,
        ),
        item(
            "JERRYCAN-10L-X10",
            "Collapsible jerrycans 10 l, pack of 10",
            "wash",
            "pack",
            4.0,
            0.020,
            false,
            None,
            0,
        ),
        item(
            "HYGIENE-KIT",
            "Family hygiene kit",
            "wash",
            "kit",
            14.0,
            0.060,
            false,
            None,
            365,
        ),
        item(
            "AQUATABS-CTN",
            "Water purification tablets, carton of 20,000",
            "wash",
            "carton",
            12.0,
            0.030,
            false,
            None,
            365,
        ),
        item(
            "SOAP-CTN",
            "Bar soap, carton of 100 x 200 g",
            "wash",
            "carton",
            20.5,
            0.025,
            false,
            None,
            365,
        ),
        item(
            "LLIN-BALE-40",
            "Long-lasting insecticidal nets, bale of 40",
            "health",
            "bale",
            25.0,
            0.100,
            false,
            None,
            365,
        ),
        item(
            "IEHK-BASIC",
            "Interagency emergency health kit, basic unit",
            "health",
            "kit",
            45.0,
            0.200,
            false,
            None,
            365,
        ),
        item(
            "CHOLERA-KIT-CENTRAL",
            "Cholera kit, central module",
            "health",
            "module",
            38.0,
            0.160,
            false,
            None,
            365,
        ),
        item(
            "ORS-CTN",
            "Oral rehydration salts, carton of 1,000 sachets",
            "health",
            "carton",
            22.0,
            0.040,
            false,
            None,
            365,
        ),
        item(
            "MEASLES-VACCINE",
            "Measles vaccine, insulated carton of 500 doses",
            "health",
            "carton",
            4.5,
            0.020,
            true,
            None,
            180,
        ),
        item(
            "OCV-VACCINE",
            "Oral cholera vaccine, insulated carton of 1,000 doses",
            "health",
            "carton",
            6.0,
            0.030,
            true,
            None,
            180,
        ),
        item(
            "SOLAR-LANTERN-10",
            "Solar lanterns with lithium-ion batteries, carton of 10",
            "energy",
            "carton",
            6.0,
            0.030,
            false,
            Some("UN3481"),
            0,
        ),
        item(
            "CALCIUM-HYPOCHLORITE-45KG",
            "Calcium hypochlorite 70%, drum 45 kg",
            "wash",
            "drum",
            48.0,
            0.070,
            false,
            Some("UN2880"),
            365,
        ),
    ]
}

fn organisation(code: &str, name: &str, kind: OrganisationKind, country: &str) -> Organisation {
    Organisation {
        code: code.to_string(),
        name: name.to_string(),
        kind,
        country: country.to_string(),
        names: Names::default(),
    }
}

/// Names in French, Arabic and Russian of the organisations that have
/// established ones.
const ORGANISATION_NAMES: &[(&str, &str, &str, &str)] = &[
    (
        "RU-EMERCOM",
        "EMERCOM de Russie",
        "وزارة الطوارئ الروسية",
        "МЧС России",
    ),
    (
        "AE-UAEAID",
        "Agence d'aide des Émirats arabes unis",
        "وكالة الإمارات للمساعدات الدولية",
        "Агентство помощи ОАЭ",
    ),
    (
        "SA-KSRELIEF",
        "Centre du roi Salmane pour l'aide humanitaire et les secours",
        "مركز الملك سلمان للإغاثة والأعمال الإنسانية",
        "Центр гуманитарной помощи и спасения имени короля Салмана",
    ),
    (
        "QA-QFFD",
        "Fonds du Qatar pour le développement",
        "صندوق قطر للتنمية",
        "Катарский фонд развития",
    ),
    (
        "KW-KRCS",
        "Société du Croissant-Rouge du Koweït",
        "جمعية الهلال الأحمر الكويتي",
        "Общество Красного Полумесяца Кувейта",
    ),
    (
        "LY-LRC",
        "Croissant-Rouge libyen",
        "الهلال الأحمر الليبي",
        "Ливийский Красный Полумесяц",
    ),
];

/// Names in French, Arabic and Russian of the built-in destinations.
const DESTINATION_NAMES: &[(&str, &str, &str, &str)] = &[
    ("SDPZU", "Port-Soudan", "بورتسودان", "Порт-Судан"),
    ("DJJIB", "Djibouti", "جيبوتي", "Джибути"),
    ("KEMBA", "Mombasa", "مومباسا", "Момбаса"),
    ("LYBEN", "Benghazi", "بنغازي", "Бенгази"),
    ("TDNDJ", "N'Djaména", "انجامينا", "Нджамена"),
    ("MLBKO", "Bamako", "باماكو", "Бамако"),
    ("NENIM", "Niamey", "نيامي", "Ниамей"),
    ("CFBGF", "Bangui", "بانغي", "Банги"),
    ("ETADD", "Addis-Abeba", "أديس أبابا", "Аддис-Абеба"),
    ("SSJUB", "Djouba", "جوبا", "Джуба"),
    ("SOMGQ", "Mogadiscio", "مقديشو", "Могадишо"),
    ("CDFIH", "Kinshasa", "كينشاسا", "Киншаса"),
];

fn translated(table: &[(&str, &str, &str, &str)], code: &str) -> Names {
    table
        .iter()
        .find(|(c, ..)| *c == code)
        .map_or_else(Names::default, |(_, fr, ar, ru)| names(fr, ar, ru))
}

/// Donors, the recipient agencies of the built-in destinations, and the hub.
pub fn organisations() -> Vec<Organisation> {
    let mut all = standard_organisations();
    for org in &mut all {
        org.names = translated(ORGANISATION_NAMES, &org.code);
    }
    all
}

fn standard_organisations() -> Vec<Organisation> {
    use OrganisationKind::{Donor, Hub, Recipient};
    vec![
        organisation("RU-EMERCOM", "EMERCOM of Russia", Donor, "RU"),
        organisation("AE-UAEAID", "UAE Aid Agency", Donor, "AE"),
        organisation(
            "SA-KSRELIEF",
            "King Salman Humanitarian Aid and Relief Centre",
            Donor,
            "SA",
        ),
        organisation("QA-QFFD", "Qatar Fund for Development", Donor, "QA"),
        organisation("KW-KRCS", "Kuwait Red Crescent Society", Donor, "KW"),
        organisation("HUB-OPS", "Hub operations", Hub, "SY"),
        organisation(
            "SD-HAC",
            "Humanitarian Aid Commission, Sudan",
            Recipient,
            "SD",
        ),
        organisation(
            "DJ-ONARS",
            "Office national d'assistance aux refugies et sinistres, Djibouti",
            Recipient,
            "DJ",
        ),
        organisation(
            "KE-NDMA",
            "National Drought Management Authority, Kenya",
            Recipient,
            "KE",
        ),
        organisation("LY-LRC", "Libyan Red Crescent", Recipient, "LY"),
        organisation(
            "TD-CNARR",
            "Commission nationale d'accueil et de reinsertion des refugies, Chad",
            Recipient,
            "TD",
        ),
        organisation(
            "ML-DGPC",
            "Direction generale de la protection civile, Mali",
            Recipient,
            "ML",
        ),
        organisation(
            "NE-MAHGC",
            "Ministere de l'action humanitaire, Niger",
            Recipient,
            "NE",
        ),
        organisation(
            "CF-MASRN",
            "Ministere de l'action humanitaire, Central African Republic",
            Recipient,
            "CF",
        ),
        organisation(
            "ET-EDRMC",
            "Ethiopian Disaster Risk Management Commission",
            Recipient,
            "ET",
        ),
        organisation(
            "SS-RRC",
            "Relief and Rehabilitation Commission, South Sudan",
            Recipient,
            "SS",
        ),
        organisation(
            "SO-SODMA",
            "Somali Disaster Management Agency",
            Recipient,
            "SO",
        ),
        organisation(
            "CD-MASAH",
            "Ministere des affaires sociales et humanitaires, DR Congo",
            Recipient,
            "CD",
        ),
    ]
}

/// The two hub nodes of the first deployment.
pub fn nodes() -> Vec<Node> {
    vec![
        Node {
            code: "TARTUS-PORT".to_string(),
            name: "Port of Tartus".to_string(),
            kind: NodeKind::Port,
            locode: "SYTTS".to_string(),
            iata: None,
            icao: None,
            latitude_deg: 34.8959,
            longitude_deg: 35.8867,
        },
        Node {
            code: "HMEIMIM-AIR".to_string(),
            name: "Hmeimim / Latakia airfield".to_string(),
            kind: NodeKind::Airport,
            locode: "SYLTK".to_string(),
            iata: Some("LTK".to_string()),
            icao: Some("OSLK".to_string()),
            latitude_deg: 35.4011,
            longitude_deg: 35.9487,
        },
    ]
}

fn destination(
    locode: &str,
    name: &str,
    iata: &str,
    icao: &str,
    latitude_deg: f64,
    longitude_deg: f64,
) -> Destination {
    Destination {
        locode: locode.to_string(),
        name: name.to_string(),
        iata: Some(iata.to_string()),
        icao: Some(icao.to_string()),
        latitude_deg,
        longitude_deg,
        seaport: SEAPORTS.contains(&locode),
        airport: true,
        names: translated(DESTINATION_NAMES, locode),
    }
}

/// The built-in destinations a sailing can reach.
const SEAPORTS: &[&str] = &["SDPZU", "DJJIB", "KEMBA", "LYBEN", "SOMGQ"];

/// African destinations the hub serves.
pub fn destinations() -> Vec<Destination> {
    vec![
        destination("SDPZU", "Port Sudan", "PZU", "HSPN", 19.4336, 37.2341),
        destination("DJJIB", "Djibouti", "JIB", "HDAM", 11.5473, 43.1595),
        destination("KEMBA", "Mombasa", "MBA", "HKMO", -4.0348, 39.5942),
        destination("LYBEN", "Benghazi", "BEN", "HLLB", 32.0968, 20.2695),
        destination("TDNDJ", "N'Djamena", "NDJ", "FTTJ", 12.1337, 15.0340),
        destination("MLBKO", "Bamako", "BKO", "GABS", 12.5335, -7.9499),
        destination("NENIM", "Niamey", "NIM", "DRRN", 13.4815, 2.1836),
        destination("CFBGF", "Bangui", "BGF", "FEFF", 4.3985, 18.5188),
        destination("ETADD", "Addis Ababa", "ADD", "HAAB", 8.9779, 38.7993),
        destination("SSJUB", "Juba", "JUB", "HJJJ", 4.8720, 31.6011),
        destination("SOMGQ", "Mogadishu", "MGQ", "HCMM", 2.0144, 45.3047),
        destination("CDFIH", "Kinshasa", "FIH", "FZAA", -4.3858, 15.4446),
    ]
}

/// All built-in reference data.
pub fn builtin() -> ReferenceData {
    ReferenceData {
        items: catalogue(),
        organisations: organisations(),
        nodes: nodes(),
        destinations: destinations(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::is_locode;
    use std::collections::HashSet;

    #[test]
    fn builtin_reference_data_meets_its_promises() {
        let data = builtin();
        assert!(data.items.len() >= 20);
        let codes: HashSet<_> = data.items.iter().map(|i| &i.code).collect();
        assert_eq!(codes.len(), data.items.len(), "item codes are unique");
        for item in &data.items {
            assert!(
                item.unit_weight_kg > 0.0 && item.unit_volume_m3 > 0.0,
                "{}",
                item.code
            );
        }
        let un: HashSet<_> = data
            .items
            .iter()
            .filter_map(|i| i.un_number.as_deref())
            .collect();
        assert!(un.contains("UN3481") && un.contains("UN2880"));
        assert!(data.items.iter().any(|i| i.cold_chain));
        assert!(data.destinations.len() >= 10);
        for destination in &data.destinations {
            assert!(is_locode(&destination.locode), "{}", destination.locode);
            assert_eq!(destination.iata.as_deref().map(str::len), Some(3));
            assert_eq!(destination.icao.as_deref().map(str::len), Some(4));
        }
        let donor_countries: HashSet<_> = data
            .organisations
            .iter()
            .filter(|o| o.kind == OrganisationKind::Donor)
            .map(|o| o.country.as_str())
            .collect();
        for country in ["RU", "AE", "SA", "QA", "KW"] {
            assert!(donor_countries.contains(country), "{country}");
        }
        assert_eq!(data.nodes.len(), 2);
    }

    #[test]
    fn the_seed_has_a_value_and_four_names_for_every_item() {
        for item in catalogue() {
            let value = item.value_usd_per_unit.unwrap_or(0.0);
            assert!(value > 0.0, "{} has no value per unit", item.code);
            for lang in ["fr", "ar", "ru"] {
                assert_ne!(item.name_in(lang), item.name, "{} in {lang}", item.code);
            }
            assert_eq!(item.name_in("en"), item.name);
            assert_eq!(
                item.un_class.is_some(),
                item.un_number.is_some(),
                "{}",
                item.code
            );
        }
        for destination in destinations() {
            assert!(destination.names.ar.is_some(), "{}", destination.locode);
            assert_eq!(destination.name_in("xx"), destination.name);
        }
        let extra: HashSet<_> = CATALOGUE_EXTRA.iter().map(|e| e.0).collect();
        assert_eq!(
            extra.len(),
            catalogue().len(),
            "one row per item, no stray code"
        );
    }
}
