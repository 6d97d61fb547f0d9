"""Names are data: wherever the app shows one in Markdown (the sidebar, Settings → Users, the
notices), it shows literally, and an image in a name makes no browser fetch anything."""
from __future__ import annotations

import re

from leadcore.admin import users

EVIL = "![x](http://example.invalid/a.png) **bold** <b>"


def _literal(markdown: str) -> str:
    """What Markdown shows for text whose every special character is backslash-escaped (the
    invisible word joiner that keeps "http://" from becoming a link left out)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def _unescaped_syntax(markdown: str) -> list[str]:
    """Markdown syntax that would render: an image, a link, emphasis or an HTML tag (the app's
    own bold around a whole line left aside)."""
    bare = re.sub(r"\\.", "", re.sub(r"^\*\*(.*)\*\*$", r"\1", markdown))
    return re.findall(r"!\[|\]\(|\*\*|<b>", bare)


def test_a_name_in_the_sidebar_shows_literally(cur, people, open_app):
    cur.execute("UPDATE users SET full_name = ? WHERE id = ?", [EVIL, people.anna.id])
    at = open_app(people.anna)
    assert not at.exception
    [name] = [m.value for m in at.sidebar.markdown]
    assert name.startswith("**") and name.endswith("**")       # bold, as every name there
    assert _literal(name[2:-2]) == EVIL
    assert _unescaped_syntax(name[2:-2]) == []


def test_a_name_in_settings_users_shows_literally(cur, people, open_app, now):
    cur.execute("UPDATE users SET full_name = ? WHERE id = ?", [EVIL, people.anna.id])
    at = open_app(people.frank, page="pages/settings.py")
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    assert not at.exception
    [heading] = [m.value for m in at.main.markdown if "Absences of" in m.value]
    assert _literal(heading) == f"**Absences of {EVIL}**"
    assert _unescaped_syntax(heading) == []
    shown = [e.value for kind in (at.markdown, at.caption, at.success, at.info, at.warning, at.error)
             for e in kind]
    assert not [text for text in shown if "example.invalid" in text and _unescaped_syntax(text)]


def test_a_notice_naming_a_user_shows_the_name_literally(cur, people, open_app, ui):
    at = open_app(people.frank, page="pages/settings.py")
    at.selectbox(key="user_edit_id").set_value(people.anna.id).run()
    at.text_input(key=f"user_{people.anna.id}_full_name").input(EVIL)
    ui.button(at, "Save user").click().run()
    assert not at.exception
    assert users.user_input(cur, people.anna.id).full_name == EVIL     # stored as typed
    [saved] = [s.value for s in at.success]
    assert _literal(saved) == "User anna saved."
    [name] = [m.value for m in at.sidebar.markdown]
    assert _literal(name[2:-2]) == "Frank Admin"
