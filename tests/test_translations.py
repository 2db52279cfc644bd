import pathlib
import re

from django.conf import settings
from django.utils import translation

CATALOGUE = pathlib.Path(settings.BASE_DIR) / "catalog" / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
ENTRY_RE = re.compile(
    r'^(#, [^\n]*\n)?(msgctxt "[^\n]*"\n)?msgid ((?:"[^\n]*"\n)+)msgstr ((?:"[^\n]*"\n)+)', re.MULTILINE
)


def joined(quoted_lines):
    text = "".join(line[1:-1] for line in quoted_lines.strip().splitlines())
    return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def entries():
    return [
        (flags, context, joined(msgid), joined(msgstr))
        for flags, context, msgid, msgstr in ENTRY_RE.findall(CATALOGUE.read_text(encoding="utf-8"))
        if joined(msgid)
    ]


def test_every_interface_string_has_a_chinese_translation():
    found = entries()
    assert len(found) > 100
    assert [msgid for _f, _c, msgid, msgstr in found if not msgstr] == []
    assert [msgid for flags, _c, msgid, _s in found if "fuzzy" in flags] == []


def test_the_committed_compiled_catalogue_matches_its_source():
    with translation.override("zh-hans"):
        stale = [
            msgid
            for _flags, context, msgid, msgstr in entries()
            if not context and translation.gettext(msgid) != msgstr
        ]
    assert stale == []
