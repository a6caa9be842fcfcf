"""The translations: every page speaks French, Spanish, Portuguese and Arabic (right to left), and every
catalogue in locale/ is complete, free of fuzzy entries, and compiled to a .mo that matches its .po.

The catalogue checks read the .po files with a small parser of their own (no polib) and compare each entry with
what Django's gettext returns, so they hold in a fresh clone whatever the files' modification times."""
import gettext as gnu_gettext
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from tests import factories

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
TRANSLATED = [code for code, _name in settings.LANGUAGES if code != settings.LANGUAGE_CODE]

# Headings and labels as each language shows them: the home page's title, the dashboard's title, the ministry
# officers' area (a gettext_lazy string from Python code) and the main navigation's label.
EXPECTED = {
    "fr": {
        "home": "Une puissance de calcul partagée pour la recherche d’intérêt public",
        "dashboard": "Tableau de bord public",
        "area": "Responsables des ministères",
        "nav": "Navigation principale",
    },
    "es": {
        "home": "Capacidad de cómputo compartida para la investigación de interés público",
        "dashboard": "Panel público",
        "area": "Responsables de ministerios",
        "nav": "Navegación principal",
    },
    "pt": {
        "home": "Capacidade computacional compartilhada para a pesquisa de interesse público",
        "dashboard": "Painel público",
        "area": "Responsáveis de ministérios",
        "nav": "Navegação principal",
    },
    "ar": {
        "home": "قدرة حاسوبية مشتركة من أجل البحث في خدمة الصالح العام",
        "dashboard": "لوحة المعلومات العامة",
        "area": "مسؤولو الوزارات",
        "nav": "التنقل الرئيسي",
    },
}
ENGLISH_HOME = "Shared computing power for research in the public interest"
PLACEHOLDER = re.compile(r"%\(\w+\)s|%s|\{\w+\}|</?[a-zA-Z][^>]*>")


def text(response) -> str:
    return response.content.decode()


def direction(language: str) -> str:
    return "rtl" if translation.get_language_info(language)["bidi"] else "ltr"


# --- A small .po reader ---------------------------------------------------------------------------------


def _decode(quoted: str) -> str:
    escapes = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), quoted)


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file, as written by makemessages/msgcat (one blank line between entries): msgid,
    msgid_plural, msgstr (a string, or a list of forms for plurals), flags and msgctxt. Obsolete (#~) lines are
    skipped; the header is the entry whose msgid is empty."""
    entries = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        entry, field = {"flags": set()}, None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#") or not line:
                continue
            elif line.startswith('"'):
                if isinstance(field, int):
                    entry["msgstr"][field] += _decode(line[1:-1])
                else:
                    entry[field] += _decode(line[1:-1])
            else:
                keyword, _, rest = line.partition(" ")
                value = _decode(rest.strip()[1:-1])
                if keyword.startswith("msgstr["):
                    entry.setdefault("msgstr", []).append(value)
                    field = len(entry["msgstr"]) - 1
                else:
                    entry[keyword], field = value, keyword
        if "msgid" in entry:
            entries.append(entry)
    return entries


def catalogue(language: str) -> tuple[dict, list[dict]]:
    entries = read_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po")
    header = next(e for e in entries if e["msgid"] == "")
    metadata = dict(line.split(": ", 1) for line in header["msgstr"].splitlines() if ": " in line)
    return metadata, [e for e in entries if e["msgid"] != ""]


def plural_rule(metadata: dict):
    nplurals, plural = re.fullmatch(r"nplurals=(\d+);\s*plural=(.+?);?", metadata["Plural-Forms"].strip()).groups()
    return int(nplurals), gnu_gettext.c2py(plural)


# --- Pages ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_home_page_follows_accept_language(client, language):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 200
    body = text(response)
    assert f'<html lang="{language}" dir="{direction(language)}">' in body
    assert EXPECTED[language]["home"] in body
    assert EXPECTED[language]["area"] in body  # translated in Python (gettext_lazy), shown by the template
    assert f'aria-label="{EXPECTED[language]["nav"]}"' in body
    assert ENGLISH_HOME not in body


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_dashboard_follows_the_language_cookie(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get(reverse("dashboard"))

    assert response.status_code == 200
    body = text(response)
    assert f'<html lang="{language}" dir="{direction(language)}">' in body
    assert f'<h1 class="page-head__title">{EXPECTED[language]["dashboard"]}</h1>' in body


@pytest.mark.django_db
@pytest.mark.parametrize("language", TRANSLATED)
def test_dashboard_with_figures_is_translated(client, language):
    round_ = factories.RoundFactory(status="published", published_at=timezone.now())
    factories.CapacityLotFactory(pledge__round=round_, gpu_hours=Decimal("1000"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    body = text(client.get(reverse("dashboard")))

    with translation.override(language):
        for msgid in ("At a glance", "Pledged capacity by hardware", "Sub-Saharan Africa"):
            translated = translation.gettext(msgid)
            assert translated != msgid
            assert translated in body
    assert "At a glance" not in body


@pytest.mark.django_db
def test_arabic_pages_are_right_to_left(client):
    for name in ("home", "dashboard", "login"):
        body = text(client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="ar"))
        assert '<html lang="ar" dir="rtl">' in body, name


@pytest.mark.django_db
def test_english_stays_the_default(client):
    body = text(client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="de"))

    assert '<html lang="en" dir="ltr">' in body
    assert ENGLISH_HOME in body


def test_arabic_has_six_plural_forms():
    singular, plural = "through %(counter)s request", "through %(counter)s requests"
    with translation.override("ar"):
        forms = {n: translation.ngettext(singular, plural, n) for n in (0, 1, 2, 3, 11, 100)}
    assert forms[1] == "من خلال طلب واحد"
    assert forms[2] == "من خلال طلبين"
    assert forms[3] == "من خلال %(counter)s طلبات"
    assert forms[11] == "من خلال %(counter)s طلبًا"
    assert len(set(forms.values())) == 5  # 0 and 100 share the wording "… طلب"


def test_french_counts_zero_as_singular():
    singular, plural = "through %(counter)s request", "through %(counter)s requests"
    with translation.override("fr"):
        assert translation.ngettext(singular, plural, 0) == "au titre de %(counter)s demande"
        assert translation.ngettext(singular, plural, 2) == "au titre de %(counter)s demandes"


# --- Catalogues -----------------------------------------------------------------------------------------


def test_every_language_has_a_catalogue_and_a_compiled_one():
    for language in TRANSLATED:
        messages = LOCALE_DIR / language / "LC_MESSAGES"
        assert (messages / "django.po").is_file(), language
        assert (messages / "django.mo").is_file(), f"{language}: run manage.py compilemessages"


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalogue_is_complete_and_not_fuzzy(language):
    metadata, entries = catalogue(language)
    nplurals, _rule = plural_rule(metadata)

    assert metadata["Language"] == language
    assert len(entries) > 300
    header = next(e for e in read_po(LOCALE_DIR / language / "LC_MESSAGES" / "django.po") if e["msgid"] == "")
    assert "fuzzy" not in header["flags"]  # msgfmt would drop a fuzzy header, and the plural rule with it
    for entry in entries:
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        if "msgid_plural" in entry:
            assert len(entry["msgstr"]) == nplurals, entry["msgid"]
            assert all(form.strip() for form in entry["msgstr"]), entry["msgid"]
        else:
            assert entry["msgstr"].strip(), f"{language}: no translation for {entry['msgid']!r}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_placeholders_and_markup(language):
    _metadata, entries = catalogue(language)

    for entry in entries:
        if "msgid_plural" in entry:
            wanted = sorted(PLACEHOLDER.findall(entry["msgid_plural"]))
            for form in entry["msgstr"]:
                found = sorted(PLACEHOLDER.findall(form))
                # A form for exactly one number ("one request", Arabic's dual) may spell the number out.
                assert found in (wanted, []), (entry["msgid"], form)
        else:
            assert sorted(PLACEHOLDER.findall(entry["msgstr"])) == sorted(PLACEHOLDER.findall(entry["msgid"])), \
                (entry["msgid"], entry["msgstr"])


@pytest.mark.parametrize("language", TRANSLATED)
def test_compiled_catalogue_matches_the_po_file(language):
    """What Django serves (from the .mo) is exactly what the .po says, for every entry and plural form."""
    metadata, entries = catalogue(language)
    _nplurals, rule = plural_rule(metadata)

    with translation.override(language):
        for entry in entries:
            if "msgctxt" in entry:
                continue
            if "msgid_plural" in entry:
                for n in range(0, 112):
                    served = translation.ngettext(entry["msgid"], entry["msgid_plural"], n)
                    assert served == entry["msgstr"][rule(n)], (language, entry["msgid"], n)
            else:
                assert translation.gettext(entry["msgid"]) == entry["msgstr"], (language, entry["msgid"])


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext (msgfmt) is not installed")
@pytest.mark.parametrize("language", TRANSLATED)
def test_msgfmt_accepts_the_catalogue(language, tmp_path):
    po = LOCALE_DIR / language / "LC_MESSAGES" / "django.po"

    result = subprocess.run(["msgfmt", "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(po)],
                            capture_output=True, text=True, check=False)

    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext (xgettext) is not installed")
def test_catalogues_hold_every_string_of_the_source(tmp_path):
    """Every translatable string of the code and templates is in the catalogues: makemessages, run on a copy of
    the project, adds nothing (run `make messages` and translate what it adds)."""
    import sys

    root = Path(settings.BASE_DIR)
    skipped = shutil.ignore_patterns(".venv", ".git", "staticfiles", "test-artifacts", "__pycache__", "*.mo",
                                     "node_modules", ".pytest_cache", ".hypothesis", "db.sqlite3*")
    for name in ("manage.py",):
        shutil.copy2(root / name, tmp_path / name)
    for folder in ("alliance", "allocation", "members", "audit", "templates", "locale"):
        if (root / folder).is_dir():
            shutil.copytree(root / folder, tmp_path / folder, ignore=skipped)
    result = subprocess.run([sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-obsolete"],
                            cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr

    def keys(path: Path) -> set:
        return {(e.get("msgctxt"), e["msgid"]) for e in read_po(path) if e["msgid"]}

    fresh = keys(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po")
    kept = keys(LOCALE_DIR / "fr" / "LC_MESSAGES" / "django.po")
    assert fresh - kept == set(), "strings missing from the catalogues"
    assert kept - fresh == set(), "catalogue entries no longer in the source"
