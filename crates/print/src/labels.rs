//! The printed documents' words in English, French, Arabic and Russian.

/// A document's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Fr,
    Ar,
    Ru,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Fr, Lang::Ar, Lang::Ru];

    pub fn parse(code: &str) -> Option<Lang> {
        match code.to_ascii_lowercase().as_str() {
            "en" => Some(Lang::En),
            "fr" => Some(Lang::Fr),
            "ar" => Some(Lang::Ar),
            "ru" => Some(Lang::Ru),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
            Lang::Ar => "ar",
            Lang::Ru => "ru",
        }
    }

    /// Right to left (Arabic).
    pub fn rtl(self) -> bool {
        self == Lang::Ar
    }

    pub fn signature_line(self) -> &'static str {
        self.word("signature")
    }

    /// The word for `key` in this language (the key itself when unknown).
    pub fn word(self, key: &'static str) -> &'static str {
        let i = match self {
            Lang::En => 0,
            Lang::Fr => 1,
            Lang::Ar => 2,
            Lang::Ru => 3,
        };
        WORDS
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(key, |(_, w)| w[i])
    }
}

/// key -> [en, fr, ar, ru]
const WORDS: &[(&str, [&str; 4])] = &[
    (
        "waybill",
        [
            "Waybill",
            "Lettre de voiture",
            "بوليصة الشحن",
            "Транспортная накладная",
        ],
    ),
    (
        "loading_list",
        [
            "Loading list",
            "Liste de chargement",
            "قائمة التحميل",
            "Погрузочный лист",
        ],
    ),
    (
        "grn",
        [
            "Goods-received note",
            "Bon de réception",
            "إشعار استلام البضائع",
            "Акт приёмки",
        ],
    ),
    (
        "pod",
        [
            "Proof of delivery",
            "Preuve de livraison",
            "إثبات التسليم",
            "Подтверждение доставки",
        ],
    ),
    (
        "statement",
        [
            "Donor statement",
            "Relevé du donateur",
            "كشف المانح",
            "Отчёт донору",
        ],
    ),
    (
        "consignor",
        ["Consignor", "Expéditeur", "المرسل", "Грузоотправитель"],
    ),
    (
        "consignee",
        [
            "Consignee",
            "Destinataire",
            "المرسل إليه",
            "Грузополучатель",
        ],
    ),
    ("vehicle", ["Vehicle", "Véhicule", "المركبة", "Транспорт"]),
    ("mode", ["Mode", "Mode", "النقل", "Вид транспорта"]),
    ("departs", ["Departs", "Départ", "المغادرة", "Отправление"]),
    ("arrives", ["Arrives", "Arrivée", "الوصول", "Прибытие"]),
    ("status", ["Status", "Statut", "الحالة", "Статус"]),
    ("line", ["Line", "Ligne", "السطر", "Строка"]),
    ("lot", ["Lot", "Lot", "الدفعة", "Партия"]),
    ("item", ["Item", "Article", "الصنف", "Товар"]),
    ("donor", ["Donor", "Donateur", "المانح", "Донор"]),
    ("batch", ["Batch", "Lot fabricant", "التشغيلة", "Серия"]),
    ("expiry", ["Expiry", "Péremption", "الانتهاء", "Годен до"]),
    ("packs", ["Packs", "Colis", "العبوات", "Места"]),
    ("quantity", ["Quantity", "Quantité", "الكمية", "Кол-во"]),
    ("kg", ["kg", "kg", "كغ", "кг"]),
    ("m3", ["m³", "m³", "م³", "м³"]),
    ("un", ["UN no.", "N° ONU", "رقم الأمم المتحدة", "№ ООН"]),
    ("request", ["Request", "Demande", "الطلب", "Запрос"]),
    ("total", ["Total", "Total", "المجموع", "Итого"]),
    (
        "dispatcher",
        [
            "Dispatcher (hub)",
            "Expéditeur (centre)",
            "المرسل (المركز)",
            "Отправитель (центр)",
        ],
    ),
    (
        "driver",
        [
            "Driver / carrier",
            "Chauffeur / transporteur",
            "السائق / الناقل",
            "Водитель / перевозчик",
        ],
    ),
    (
        "receiver",
        ["Receiver", "Réceptionnaire", "المستلم", "Получатель"],
    ),
    (
        "signature",
        [
            "Name, signature, date",
            "Nom, signature, date",
            "الاسم والتوقيع والتاريخ",
            "Имя, подпись, дата",
        ],
    ),
    ("leg", ["Leg", "Trajet", "الرحلة", "Рейс"]),
    (
        "node",
        ["Received at", "Reçu à", "مكان الاستلام", "Место приёмки"],
    ),
    (
        "carrier",
        ["Carrier", "Transporteur", "الناقل", "Перевозчик"],
    ),
    (
        "received_on",
        ["Received on", "Reçu le", "تاريخ الاستلام", "Дата приёмки"],
    ),
    (
        "received_by",
        ["Received by", "Reçu par", "المستلم", "Принял"],
    ),
    (
        "manifested",
        ["Manifested", "Au manifeste", "في البيان", "По манифесту"],
    ),
    ("counted", ["Counted", "Compté", "المعدود", "Пересчитано"]),
    ("good", ["Good", "Bon état", "سليم", "Годное"]),
    ("damaged", ["Damaged", "Endommagé", "تالف", "Повреждено"]),
    ("short", ["Short", "Manquant", "ناقص", "Недостача"]),
    ("over", ["Over", "Excédent", "زائد", "Излишек"]),
    (
        "not_received",
        [
            "Manifest lines not yet received",
            "Lignes du manifeste pas encore reçues",
            "أسطر البيان غير المستلمة بعد",
            "Строки манифеста, ещё не принятые",
        ],
    ),
    (
        "discrepancies",
        ["Discrepancies", "Écarts", "الفروقات", "Расхождения"],
    ),
    ("none", ["none", "aucun", "لا يوجد", "нет"]),
    ("loaded", ["Loaded", "Chargé", "المحمل", "Загружено"]),
    ("received", ["Received", "Reçu", "المستلم", "Получено"]),
    ("note", ["Note", "Remarque", "ملاحظة", "Примечание"]),
    (
        "destination",
        ["Destination", "Destination", "الوجهة", "Пункт назначения"],
    ),
    ("pledged", ["Pledged", "Promis", "المتعهد به", "Обещано"]),
    (
        "in_stock",
        ["In stock", "En stock", "في المخزون", "На складе"],
    ),
    ("shipped", ["Shipped", "Expédié", "المشحون", "Отправлено"]),
    ("delivered", ["Delivered", "Livré", "المسلم", "Доставлено"]),
    ("lost", ["Lost", "Perdu", "المفقود", "Потеряно"]),
    (
        "short_delivered",
        [
            "Short-delivered",
            "Livré en moins",
            "نقص التسليم",
            "Недопоставлено",
        ],
    ),
    (
        "hub",
        [
            "reliefhub · Tartus / Hmeimim hub",
            "reliefhub · centre de Tartous / Hmeimim",
            "reliefhub · مركز طرطوس / حميميم",
            "reliefhub · центр Тартус / Хмеймим",
        ],
    ),
    ("page", ["page", "page", "صفحة", "стр."]),
    (
        "dangerous",
        [
            "Dangerous goods on board: see UN numbers",
            "Marchandises dangereuses à bord : voir les numéros ONU",
            "بضائع خطرة على المتن: انظر أرقام الأمم المتحدة",
            "На борту опасные грузы: см. номера ООН",
        ],
    ),
    (
        "no_delivery",
        [
            "not delivered yet",
            "pas encore livré",
            "لم يسلم بعد",
            "ещё не доставлено",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_is_given_in_every_language() {
        for (key, words) in WORDS {
            for (lang, w) in Lang::ALL.iter().zip(words) {
                assert!(!w.trim().is_empty(), "{key} has no {} word", lang.code());
            }
        }
        let mut keys: Vec<&str> = WORDS.iter().map(|(k, _)| *k).collect();
        keys.sort_unstable();
        let n = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), n, "a key is listed twice");
    }
}
