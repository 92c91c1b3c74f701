"""Write `albert_tf/deploy/parity_texts.json`, the tokenisation parity suite.

Every text is written out below or built from them by fixed rules (no randomness), so the file
is the same on every run: `python tests/deploy/make_parity_texts.py` rewrites it and
`tests/deploy/test_parity_suite.py` checks that it is current. Classes (keys) group the texts
by what makes them hard: a script, a normalisation (accents, width, case), separators, length.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUTPUT = Path(__file__).resolve().parents[2] / "albert_tf" / "deploy" / "parity_texts.json"

PLAIN = [
    "A gripping, beautifully acted film.",
    "Terrible. Just terrible!!!",
    "THE BEST MOVIE I HAVE SEEN THIS YEAR",
    "it's a sweet, funny and ultimately moving story",
    "Don't waste your time -- or your money.",
    "10/10, would watch again (2024) -- $12.50 well spent",
    "The plot?   What plot?",
    "an uneven but often hilarious satire of modern life",
    "Too long by half; the last hour drags.",
    "\"Brilliant\" isn't the word. 'Tedious' is.",
    "e-mail me at critic@example.com or visit https://example.com/review?id=7&x=1",
    "Rated PG-13 for violence, 1h58m, #1 at the box office",
    "C++ and C# programmers will love the 3.14159 jokes",
    "He said: <b>wow</b> & then left {quietly} [mostly] |too| ~early~ ^_^",
    "100% pure, 50% off, 3 * 4 = 12, a + b > c",
    "MiXeD CaSe TeXt WiTh CaPiTaLs",
    "snake_case_words and kebab-case-words and camelCaseWords",
    "ninety-nine bottles of beer on the wall",
    "Mr. Smith goes to Washington (1939).",
    "A film that asks: why? And answers: because.",
]

LATIN_ACCENTS = [
    "Un film très réussi : naïf, émouvant, café-crème et crème brûlée.",
    "Café naïve résumé",
    "ÀÉÎÕÜ Straße Ærøskøbing İstanbul",
    "Über die Brücke gehen Mädchen und Jungen; schön, größer, Fußgänger.",
    "El niño comió piña en la montaña; ¿qué pasó? ¡Olé!",
    "Ação, coração, não, pão e limão são palavras portuguesas.",
    "Tiếng Việt có rất nhiều dấu: người, được, những, thường, nước.",
    "Zażółć gęślą jaźń, łódź, źdźbło.",
    "Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Çok güzel bir film, ığdır, şişli, İĞDIR, ŞİŞLİ.",
    "Þjóðhátíð í Vestmannaeyjum, ærið, ðæ.",
    "Ångström, Øresund, Åland, Æsir",
    "Noël à l'hôtel, où est la forêt? Là-bas, près du château.",
    "CAFÉ NAÏVE RÉSUMÉ ÉLÈVE",
    "façade, jalapeño, doppelgänger, déjà vu, señor, smörgåsbord",
    "Cafe\u0301 with a combining acute (decomposed é)",
    "a\u0300e\u0301i\u0302o\u0303u\u0308 stacked: a\u0301\u0302\u0303",
    "Dvořák, Janáček, Martinů",
    "Ñandú, Ñuñoa, ÑANDÚ",
    "Română: șarpe, țară, înțelegere, ŞARPE (cedilla) vs ȘARPE (comma)",
    "Lietuvių kalba: ąčęėįšųūž",
    "Latviešu valoda: āčēģīķļņšūž",
    "Esperanto: ĉu vi ŝatas ĝin? Ĥaoso, ĵaŭdo.",
    "Māori: whānau, kōrero, tūpuna",
    "Hawaiʻi: ʻŌlelo Hawaiʻi (okina U+02BB)",
]

GREEK_CYRILLIC_OTHER = [
    "Ωραία ταινία, πολύ συγκινητική",
    "ΟΔΥΣΣΕΥΣ ΣΟΦΟΣ — final sigma: ὈΔΥΣΣΕΎΣ, σοφός",
    "Ἀθῆναι, ᾠδή, ῥήτωρ (polytonic Greek)",
    "Отличный фильм, очень трогательный!",
    "ЁЛКА ёлка Йошкар-Ола й",
    "Українська: їжак, ґанок, є, і",
    "Հայերեն լեզու",
    "ქართული ენა",
    "Српски: Ђорђе, Љубица, Њива, Џеп",
    "አማርኛ ቋንቋ",
]

WIDTH_AND_COMPATIBILITY = [
    "ﬁne ligatures and ｆｕｌｌｗｉｄｔｈ letters ①②",
    "ＡＢＣ１２３！？ full-width ASCII",
    "ﬀ ﬂ ﬃ ﬄ ﬅ ﬆ ligatures",
    "x² + y³ = z⁴, H₂O, ½ ¼ ¾",
    "Ⅻ Ⅳ ⅷ roman numerals",
    "𝐁𝐨𝐥𝐝 𝑖𝑡𝑎𝑙𝑖𝑐 𝔉𝔯𝔞𝔨𝔱𝔲𝔯 𝕯𝖔𝖚𝖇𝖑𝖊 math letters",
    "㍻ ㎏ ㎞ ℃ ℉ № ™ ℠",
    "ß Straße STRASSE ẞ",
    "ǅungla ǈudi Ǌ ǋ (digraph title case)",
    "Kelvin K sign and Ohm Ω sign and Å angstrom sign",
    "µ micro sign vs μ mu",
    "İ dotted capital I, ı dotless small i, I, i",
]

CJK = [
    "这部电影非常好看，演员的表演也很出色。",
    "這部電影非常好看，演員的表演也很出色。",
    "我喜欢看电影",
    "《流浪地球》是一部中国科幻电影。",
    "他说：“太棒了！”",
    "电影2024年上映，票房10亿元。",
    "中文English混合text",
    "𠀀𠀁𠮷 (CJK extension B)",
    "㐀㐁 (CJK extension A) 豈 更 (compatibility ideographs)",
    "「引用」『二重』【括弧】〈山括弧〉",
    "一二三四五六七八九十百千万",
    "好好好好好好好好好好好好好好好好好好好好",
    "⼀⼆⼈ (Kangxi radicals) ⺠ (CJK radicals supplement)",
    "〇々〆〤",
    "你好，世界！今天天气很好。",
]

KANA = [
    "映画はとても面白かったです",
    "東京で映画を見た。とても良かった",
    "ひらがなだけのぶんしょうです",
    "カタカナダケノブンショウデス",
    "ｶﾀｶﾅ ﾊﾝｶｸ (half-width katakana)",
    "ガギグゲゴ パピプペポ (voiced kana)",
    "カ\u3099キ\u3099 (combining voiced mark)",
    "ラーメン、コーヒー、チョコレート",
    "ゝゞヽヾ iteration marks",
    "ㇰㇱㇲ small katakana extensions",
    "ヴァイオリン ヴィ ヴェ",
    "私は「スター・ウォーズ」が大好き！",
]

KOREAN = [
    "정말 재미있는 영화였어요",
    "한국어 문장입니다.",
    "최고의 영화! 강력 추천합니다",
    "ᄒᆞᆫ글 (conjoining jamo)",
    "ㄱㄴㄷㄹ ㅏㅑㅓㅕ (compatibility jamo)",
    "ﾡﾢﾣ half-width hangul",
    "영화2024 Korean한국어mixed",
    "갑을병정 무기경신 임계",
    "ㅋㅋㅋㅋ ㅠㅠ",
    "안녕하세요? 반갑습니다!",
    "뷁 똠방각하 (rare syllables)",
    "서울특별시 강남구",
]

ARABIC = [
    "فيلم رائع جدا",
    "الفيلم كان مملاً للغاية",
    "العَرَبِيَّة مع التشكيل الكامل",
    "ـــطويـــل (tatweel)",
    "الأرقام ١٢٣٤٥٦٧٨٩٠",
    "فارسی: این فیلم خیلی خوب بود",
    "اردو: یہ فلم بہت اچھی تھی",
    "ﻻ ﷲ ﷺ (presentation forms)",
    "مرحبا بالعالم! كيف حالك؟",
    "Arabic in English: قال \"رائع\" then left",
    "٪ ؛ ، ؟ Arabic punctuation",
    "ئۇيغۇرچە (Uyghur)",
]

HEBREW = [
    "סרט נהדר מאוד",
    "שָׁלוֹם עוֹלָם (with niqqud)",
    "בְּרֵאשִׁית בָּרָא אֱלֹהִים",
    "עברית ו-English באותו משפט",
    "״ציטוט״ ו׳גרש׳",
    "ﬠﬡ ﬢ (wide Hebrew letters)",
    "מספרים 123 בעברית",
    "ייִדיש: אַ גוטן טאָג",
    "שלום! מה שלומך?",
    "סוף פסוק׃ מקף־",
]

DEVANAGARI = [
    "यह फ़िल्म बहुत अच्छी थी",
    "हिन्दी भाषा",
    "नमस्ते दुनिया!",
    "क्षत्रिय ज्ञान श्रद्धा (conjuncts)",
    "मराठी भाषा सुंदर आहे",
    "नेपाली भाषा",
    "संस्कृतम् ॐ",
    "०१२३४५६७८९ अंक",
    "क़ ख़ ग़ ज़ (nukta)",
    "बहुत अच्छा। बहुत बुरा॥",
    "বাংলা ভাষা (Bengali)",
    "தமிழ் மொழி (Tamil)",
]

THAI = [
    "ภาพยนตร์เรื่องนี้ดีมาก",
    "สวัสดีครับ",
    "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
    "น้ำ ไม้ ก็ ที่ (tone marks)",
    "๑๒๓๔๕ เลขไทย",
    "ฯลฯ ๆ",
    "ພາສາລາວ (Lao)",
    "ភាសាខ្មែរ (Khmer)",
    "မြန်မာဘာသာ (Burmese)",
    "ไทยThaiผสมEnglish",
]

EMOJI = [
    "I loved it 😍🔥👏 and my kids did too 👨‍👩‍👧",
    "😀",
    "👍🏽 👍🏿 (skin tones)",
    "🇫🇷 🇯🇵 🇺🇸 flags",
    "1️⃣ 2️⃣ #️⃣ keycaps",
    "❤️ ❤ ♥️ hearts with and without VS16",
    "🏳️‍🌈 🏴‍☠️ zwj flags",
    "👩🏽‍💻 👨‍👨‍👦‍👦",
    "great!!!😂😂😂",
    "☺ ☹ ✌ ✔ ★ ☆ ♫",
    "🤖🧠🦄🪐 newer emoji",
    "emoji🎬between🍿words",
    "🙂" * 30,
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 (tag sequence flag)",
    "© ® ™ ‼ ⁉",
]

MIXED_SCRIPTS = [
    "Великолепный film, 非常好看, とても良い, 정말 좋아요!",
    "naïve 東京 café 😍",
    "Paris (パリ) and Москва and القاهرة",
    "שלום hello привет 你好 नमस्ते สวัสดี",
    "Bollywood बॉलीवुड film फ़िल्म",
    "K-drama 드라마 review: 5/5 ⭐⭐⭐⭐⭐",
    "Ελληνικά and English and Español",
    "東京2020オリンピックOlympics",
    "abcαβγабв",
    "iPhone아이폰アイフォン苹果",
    "Ünïcödé façade, naïve café!",
    "Ｆｕｌｌ ｗｉｄｔｈ and ﾊﾝｶｸ and 한국어",
    "RTL embed: abc \u202bאבג\u202c def",
    "Математика: ∀x∈ℝ, x²≥0 ∎",
    "code: print('héllo wörld') # コメント",
]

SPECIAL_TOKENS = [
    "[CLS] special [SEP] tokens <pad> [MASK] written in the text",
    "[CLS]",
    "[SEP] [SEP] [SEP]",
    "[MASK]ed word",
    "<unk> <pad> <s> </s>",
    "[UNK] [PAD]",
    "[cls] lower-case lookalike [sep]",
    "▁ the sentencepiece meta symbol ▁▁",
    "## suffix ##marker ##",
    "[ CLS ] spaced brackets",
]

CONTROL_CHARACTERS = [
    "null\x00byte",
    "bell\x07and backspace\x08",
    "escape\x1b[31mred\x1b[0m",
    "delete\x7fchar",
    "unit\x1fseparators\x1e\x1d\x1c",
    "vertical\x0btab and form\x0cfeed",
    "carriage\rreturn and\r\nwindows newline",
    "next\x85line (NEL)",
    "line\u2028separator and paragraph\u2029separator",
    "zero\u200bwidth\u200bspace",
    "zero\u200cwidth\u200dnon-joiner and joiner",
    "soft\u00adhyphen",
    "\ufeffbyte order mark at start",
    "bidi \u200emarks\u200f and \u202eoverride\u202c",
    "word\u2060joiner and \u2061function application",
    "C1 \x80\x81\x9f controls",
    "private use \ue000\uf8ff chars",
    "variation\ufe0fselector alone",
    "tag\U000e0041\U000e0042 chars",
    "noncharacter \ufffe\uffff and replacement \ufffd",
]

SPACES = [
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\n\n\t  \r\n",
    "\u00a0",
    "\u3000",
    "\u2009\u200a\u2002\u2003",
    "   \t  leading and trailing   whitespace   ",
    "no-break\u00a0space and ideographic\u3000space",
    "thin\u2009space and en\u2002space and em\u2003space",
]

LONG = [
    " ".join(["An overlong review that keeps going and going about every scene of the film."]
             * 40),
    "word " * 400,
    "a" * 300,
    "supercalifragilisticexpialidocious" * 4,
    "x" * 99 + " " + "y" * 100 + " " + "z" * 101,
    "é" * 60,
    "東京" * 300,
    "ภาษาไทย" * 80,
    "🙂🙃" * 150,
    " ".join(f"token{i}" for i in range(300)),
    "Ünïcödé " * 200,
    ("Ein sehr langer deutscher Satz über Filme, Schauspieler und Regisseure, "
     "die großartige Geschichten erzählen. ") * 30,
]


def suite() -> dict[str, list[str]]:
    """The classes and their texts, in a fixed order."""
    return {
        "plain_english": PLAIN,
        "latin_accents": LATIN_ACCENTS,
        "greek_cyrillic_other": GREEK_CYRILLIC_OTHER,
        "width_and_compatibility": WIDTH_AND_COMPATIBILITY,
        "cjk": CJK,
        "japanese_kana": KANA,
        "korean": KOREAN,
        "arabic": ARABIC,
        "hebrew": HEBREW,
        "devanagari_and_indic": DEVANAGARI,
        "thai_and_southeast_asian": THAI,
        "emoji": EMOJI,
        "mixed_scripts": MIXED_SCRIPTS,
        "special_token_lookalikes": SPECIAL_TOKENS,
        "control_characters": CONTROL_CHARACTERS,
        "empty_and_whitespace": SPACES,
        "very_long": LONG,
    }


def render() -> str:
    classes = suite()
    return json.dumps({"generator": "tests/deploy/make_parity_texts.py",
                       "texts": sum(len(v) for v in classes.values()),
                       "classes": classes}, ensure_ascii=True, indent=1) + "\n"


if __name__ == "__main__":
    OUTPUT.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {OUTPUT}\n")
