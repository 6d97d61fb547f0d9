"""How dates, traffic lights and names read on screen (the dealership's zone and format)."""
from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd
from babel.dates import format_datetime
from babel.numbers import format_currency, format_decimal, format_percent

from leadcore import i18n
from leadcore.i18n import N_, _
from leadcore.leads.service import LEAD_TYPES
from leadcore.rules import duetime

DATETIME_PATTERN = "dd.MM.yyyy HH:mm"
_LIGHT_ICONS = {duetime.ON_TIME: "🟢", duetime.DUE_SOON: "🟡", duetime.OVERDUE: "🔴"}
STATUS_LABELS = {"open": N_("Open"), "completed": N_("Completed")}
EVENT_LABELS = {
    "created": N_("Created"), "note": N_("Note"), "resubmission": N_("Resubmission"),
    "editor": N_("Editor changed"), "completed": N_("Completed"), "reopened": N_("Reopened"),
    "assigned": N_("Assigned"), "intake": N_("Intake"), "flagged": N_("To check"),
    "message": N_("Message to customer"),
}
# The traffic-light words come from the rules (duetime); marked here for translators.
_LIGHT_WORDS = (N_("on time"), N_("due soon"), N_("overdue"))


def when(moment: datetime | pd.Timestamp | None, tz: ZoneInfo, pattern: str = DATETIME_PATTERN) -> str:
    if moment is None or pd.isna(moment):
        return ""
    if isinstance(moment, pd.Timestamp):
        moment = moment.to_pydatetime()
    return format_datetime(moment, pattern, tzinfo=tz)


def when_column(moments: pd.Series, tz: ZoneInfo) -> pd.Series:
    """when() for a whole column at once (the list's 50 rows): the default pattern is digits
    only, so pandas formats it the same as Babel, without a Python call per row."""
    local = pd.to_datetime(moments, utc=True).dt.tz_convert(tz)
    return local.dt.strftime("%d.%m.%Y %H:%M").fillna("").astype(object)


def each(values: pd.Series, label) -> pd.Series:
    """label() of every value of a column, called once per distinct value (a page of 50 rows has
    three traffic lights, a few lead types), not once per row."""
    codes, distinct = pd.factorize(values, use_na_sentinel=False)
    labels = [label(v) for v in distinct]
    return pd.Series([labels[c] for c in codes], index=values.index, dtype=object)


def number(value: float | int | None, digits: int = 0) -> str:
    """1,234 in English, 1.234 in German."""
    if value is None or pd.isna(value):
        return "–"
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=i18n.locale())


def percent(share: float | None) -> str:
    """56% in English, 56 % in German."""
    return "–" if share is None or pd.isna(share) else format_percent(share, locale=i18n.locale())


def money(amount: float | None, currency: str = "EUR") -> str:
    """€1,234.50 in English, 1.234,50 € in German."""
    return "–" if amount is None or pd.isna(amount) else format_currency(amount, currency, locale=i18n.locale())


def duration(hours: float | None) -> str:
    """Working time as people say it: "45 min", "21 h 32 min" (German: "21 Std. 32 Min.")."""
    if hours is None or pd.isna(hours):
        return "–"
    minutes = round(hours * 60)
    if minutes < 60:
        return _("{m} min").format(m=minutes)
    return _("{h} h {m} min").format(h=number(minutes // 60), m=f"{minutes % 60:02d}")


def traffic_light(word: str | None) -> str:
    """Icon plus the word: the colour never carries the meaning alone."""
    if not word or (not isinstance(word, str) and pd.isna(word)):
        return ""
    return f"{_LIGHT_ICONS.get(word, '')} {_(word)}"


def escalation(level: int) -> str:
    return {0: "–", 1: _("1 · seller"), 2: _("2 · supervisor")}.get(int(level), str(level))


def lead_type(code: str) -> str:
    return _(LEAD_TYPES.get(code, code))


def status(code: str) -> str:
    return _(STATUS_LABELS.get(code, code))


def event(kind: str) -> str:
    return _(EVENT_LABELS.get(kind, kind))


# The characters that can start Markdown, HTML or Streamlit syntax anywhere in a line: links,
# images, emphasis, lists, tables, code, entities (&), setext headings (=), colours (:red[..]),
# icons (:material/..:), LaTeX ($). CommonMark makes any of them literal after a backslash.
_MARKDOWN_SPECIALS = frozenset("\\`*_{}[]<>()#+-!|~$:&=")
# A dot starts something only in "1." (a list, at the start of a line): escaped there only, so
# "mobile.de" or an e-mail address reads as typed.
_LIST_DOT = re.compile(r"^(\d{1,9})\.")
# GFM turns "http://…" and "www.…" in the text into links after escapes are resolved, so no
# backslash stops them: an invisible word joiner inside "://" and after "www" does.
_WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=\\:)(?=//)|(?<=www)(?=\.)")


def md_escape(text: str) -> str:
    """Untrusted text (names, subjects, paths) made safe to place inside Markdown: it shows
    literally (web addresses unlinked), and an `![](http://…)` in a name makes no browser
    fetch anything. Line breaks become spaces, so a name cannot end the bold it sits in."""
    flat = " ".join(str(text).splitlines())
    escaped = "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in flat)
    return _AUTOLINK.sub(_WORD_JOINER, _LIST_DOT.sub(r"\1\\.", escaped))
