"""Turning a template's text into safe mail: sandboxed Jinja rendering, nh3 sanitising, the
plain-text part, and the layout every mail shares (banner, header graphic, footers).

Three walls keep a template or a customer's data from doing harm: templates may only use
placeholders, `{% if %}` and a few text filters (checked on the parsed template, so no loops,
calls or arithmetic can run); the sandbox resolves a placeholder only as a plain dict value and
autoescapes it; and the HTML that comes out is cleaned by nh3 to a small mail-safe subset.
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from typing import Any

import nh3
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from leadcore.i18n import _

# The placeholder groups a template may name; mail_templates.PLACEHOLDERS lists their fields.
GROUPS = ("contact", "lead", "vehicle", "seller", "dealership")
ALLOWED_FILTERS = frozenset({"default", "d", "upper", "lower", "title", "capitalize", "trim"})
ALLOWED_TESTS = frozenset({"defined", "undefined", "none"})
_ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr,
                  nodes.Const, nodes.If, nodes.Filter, nodes.Test, nodes.And, nodes.Or, nodes.Not,
                  nodes.Compare, nodes.Operand, nodes.Concat, nodes.CondExpr)

# What survives sanitising: enough for formatted text, links, tables and images in a mail.
_TAGS = {"a", "b", "strong", "i", "em", "u", "s", "p", "br", "div", "span", "h1", "h2", "h3", "h4",
         "ul", "ol", "li", "table", "thead", "tbody", "tr", "td", "th", "img", "hr", "blockquote",
         "small", "sup", "sub"}
_ATTRIBUTES = {
    "*": {"style", "align", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "table": {"width", "cellpadding", "cellspacing", "border", "role"},
    "td": {"width", "colspan", "rowspan", "valign"},
    "th": {"width", "colspan", "rowspan", "valign"},
}
_STYLE_PROPERTIES = {
    "color", "background-color", "font-size", "font-weight", "font-style", "font-family",
    "text-align", "text-decoration", "line-height", "vertical-align", "width", "max-width", "height",
    "margin", "margin-top", "margin-right", "margin-bottom", "margin-left",
    "padding", "padding-top", "padding-right", "padding-bottom", "padding-left",
    "border", "border-top", "border-bottom", "border-collapse",
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
# Style values that could fetch or run something in old mail clients.
_UNSAFE_STYLE = re.compile(r"url\s*\(|expression\s*\(|javascript:|@import|\\", re.IGNORECASE)
HEADER_IMAGE_CID = "header-image@leadcore"


@dataclass(frozen=True)
class HeaderImage:
    """A template's header graphic, stored once by content (mail_images) and sent inline."""
    id: str                # sha256 of data, hex
    mime_type: str         # image/png or image/jpeg
    data: bytes | None     # None: stored in mail_images already and not loaded

    @property
    def data_uri(self) -> str:
        if self.data is None:
            raise ValueError("the picture's bytes were not loaded")
        return f"data:{self.mime_type};base64,{base64.b64encode(self.data).decode('ascii')}"


class MailTemplateError(Exception):
    """A template text that cannot be used; `message` is fit to show beside the field."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _MailSandbox(SandboxedEnvironment):
    """A sandbox that sees placeholders only as dict values: no attributes, methods or dunders."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self.getitem(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, dict) and isinstance(argument, str) and argument in obj:
            value = obj[argument]
            if isinstance(value, (str, dict)):
                return value
        return self.undefined(obj=obj, name=argument)

    def call(self, *args: Any, **kwargs: Any) -> Any:   # unreachable after _check_nodes; belt and braces
        raise SecurityError("calls are not allowed in mail templates")


def _environment(autoescape: bool) -> _MailSandbox:
    env = _MailSandbox(autoescape=autoescape, undefined=ChainableUndefined)
    env.globals.clear()   # no range(), dict(), lipsum(), cycler()...
    env.filters = {name: f for name, f in env.filters.items() if name in ALLOWED_FILTERS}
    env.tests = {name: t for name, t in env.tests.items() if name in ALLOWED_TESTS}
    return env


_HTML_ENV = _environment(autoescape=True)
_TEXT_ENV = _environment(autoescape=False)   # subjects: a header, not HTML


def _check_nodes(tree: nodes.Template, fields: dict[str, frozenset[str]]) -> None:
    """Only placeholders (group.field, from the list), if/else and text filters."""
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise MailTemplateError(_("Only placeholders such as {{ contact.last_name }} and "
                                      "{% if … %} … {% endif %} can be used in mail templates."))
        if isinstance(node, nodes.Filter) and node.name not in ALLOWED_FILTERS:
            raise MailTemplateError(_("The filter “{name}” cannot be used in mail templates.").format(name=node.name))
        if isinstance(node, nodes.Test) and node.name not in ALLOWED_TESTS:
            raise MailTemplateError(_("The test “{name}” cannot be used in mail templates.").format(name=node.name))
        if isinstance(node, nodes.Name) and node.name not in GROUPS:
            raise MailTemplateError(_("Unknown placeholder “{name}”.").format(name=node.name))
        if isinstance(node, nodes.Getattr):
            group = node.node.name if isinstance(node.node, nodes.Name) else None
            if group is None or node.attr not in fields.get(group, ()):
                raise MailTemplateError(_("Unknown placeholder “{name}”.").format(name=_dotted(node)))


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    return node.name if isinstance(node, nodes.Name) else "…"


# Python compiles a template into nested blocks; past ~100 levels that is an IndentationError
# (deeper still a RecursionError). No mail needs more than a few levels of {% if %}.
MAX_NESTING = 20
_BLOCK_TAG = re.compile(r"{%-?\s*(if|endif)\b")


def _check_nesting(text: str) -> None:
    """Refuse deep nesting before Jinja parses it (its parser recurses per level too)."""
    depth = deepest = 0
    for match in _BLOCK_TAG.finditer(text):
        depth += 1 if match.group(1) == "if" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_NESTING:
        raise MailTemplateError(_("{{% if %}} blocks can be nested at most {n} deep; this template "
                                  "nests {depth}.").format(n=MAX_NESTING, depth=deepest))


@lru_cache(maxsize=512)
def _compiled(text: str, autoescape: bool, fields: tuple[tuple[str, frozenset[str]], ...]):
    env = _HTML_ENV if autoescape else _TEXT_ENV
    _check_nesting(text)
    try:
        tree = env.parse(text)
        _check_nodes(tree, dict(fields))
        return env.from_string(tree)
    except TemplateSyntaxError as error:
        raise MailTemplateError(_("Line {line}: {problem}.").format(line=error.lineno, problem=error.message)) from None
    except (RecursionError, SyntaxError, MemoryError):
        # Nesting of other kinds (parentheses, filters) that Python cannot compile.
        raise MailTemplateError(_("The template is nested too deeply; simplify it.")) from None


def compile_checked(text: str, fields: dict[str, frozenset[str]], autoescape: bool = True):
    """The compiled template, or MailTemplateError naming what is wrong (cached by text)."""
    return _compiled(text, autoescape, tuple(sorted(fields.items())))


def render_block(text: str, context: dict[str, dict[str, str]], fields: dict[str, frozenset[str]]) -> str:
    """One HTML block of a template rendered with the context, then sanitised."""
    try:
        raw = compile_checked(text, fields).render(context)
    except MailTemplateError:
        raise
    except (TemplateError, TypeError, ValueError) as error:
        raise MailTemplateError(_("The template cannot be rendered: {problem}.").format(problem=error)) from None
    return sanitise(raw)


def render_subject(text: str, context: dict[str, dict[str, str]], fields: dict[str, frozenset[str]]) -> str:
    """A subject line: rendered without HTML escaping; line breaks (header injection) removed."""
    try:
        raw = compile_checked(text, fields, autoescape=False).render(context)
    except MailTemplateError:
        raise
    except (TemplateError, TypeError, ValueError) as error:
        raise MailTemplateError(_("The subject cannot be rendered: {problem}.").format(problem=error)) from None
    return " ".join(raw.split())[:300]


def _style_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "style" and _UNSAFE_STYLE.search(value):
        return None
    return value


@lru_cache(maxsize=4096)   # pure; an intake batch renders the same footers for many leads
def sanitise(fragment: str) -> str:
    """The HTML fragment reduced to what a mail may carry: no scripts, handlers or javascript: links."""
    return nh3.clean(fragment, tags=_TAGS, clean_content_tags={"script", "style"}, attributes=_ATTRIBUTES,
                     url_schemes=_URL_SCHEMES, filter_style_properties=_STYLE_PROPERTIES,
                     attribute_filter=_style_filter, strip_comments=True, link_rel="noopener noreferrer")


def text_to_html(text: str) -> str:
    """Plain text as typed into a text area: escaped, blank lines make paragraphs, lines break."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p.strip()]
    return "".join("<p>" + "<br>".join(str(escape(line)) for line in p.split("\n")) + "</p>" for p in paragraphs)


# --- the plain-text part ---------------------------------------------------------------------

class _TextWriter(HTMLParser):
    _BLOCKS = {"p", "div", "table", "tr", "h1", "h2", "h3", "h4", "ul", "ol", "blockquote", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._links: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BLOCKS:
            self.out.append("\n\n")
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            self._links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self._links:
            href = self._links.pop()
            target = (href or "").removeprefix("mailto:").removeprefix("tel:")
            text = self.out[-1].strip() if self.out else ""
            if target and target != text:   # the address is worth writing out once
                self.out.append(f" ({target})")

    def handle_data(self, data: str) -> None:
        self.out.append(re.sub(r"\s+", " ", data))


@lru_cache(maxsize=4096)   # pure, as sanitise
def html_to_text(fragment: str) -> str:
    """A readable plain-text version of sanitised HTML (for the text/plain part)."""
    writer = _TextWriter()
    writer.feed(fragment)
    writer.close()
    lines = [line.strip() for line in "".join(writer.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- the layout every mail shares ----------------------------------------------------------

@dataclass(frozen=True)
class MailBlocks:
    """Sanitised HTML blocks of one mail, ready for the layout."""
    body: str
    signature: str       # the seller's data (autoresponder footer)
    legal_footer: str    # general footer
    banner_colour: str   # checked #rrggbb
    banner_text: str     # the dealership's name, plain text


def _ink_on(colour: str) -> str:
    """Black or white, whichever reads better on the banner colour."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return "#000000" if (0.299 * r + 0.587 * g + 0.114 * b) > 150 else "#ffffff"


def layout(blocks: MailBlocks, image_src: str | None) -> str:
    """The mail's HTML body (a fragment). Only checked values and sanitised blocks go in here.

    image_src: "cid:..." for the mail, a data: URI for the in-app preview, None without graphic.
    """
    colour = blocks.banner_colour
    image = (f'<img src="{escape(image_src)}" alt="{escape(blocks.banner_text)}" '
             f'style="display:block;max-width:100%;height:auto;margin:0 auto">') if image_src else ""
    name = "" if image_src else f'<span style="font-size:20px;font-weight:bold">{escape(blocks.banner_text)}</span>'
    cell = "padding:16px 24px;font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.5;color:#222222"
    return Markup(
        '<div style="background-color:#f4f4f4;padding:16px 0">'
        '<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" '
        'style="max-width:600px;width:100%;margin:0 auto;background-color:#ffffff;border-collapse:collapse">'
        f'<tr><td style="background-color:{colour};color:{_ink_on(colour)};padding:16px 24px;'
        f'font-family:Arial,Helvetica,sans-serif">{image}{name}</td></tr>'
        f'<tr><td style="{cell}">{blocks.body}</td></tr>'
        f'<tr><td style="{cell}">{blocks.signature}</td></tr>'
        f'<tr><td style="{cell};font-size:12px;color:#666666;border-top:1px solid #dddddd">{blocks.legal_footer}</td></tr>'
        '</table></div>')


def document(fragment: str, title: str) -> str:
    """A whole HTML document around the layout, as mail clients expect it."""
    return ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width"><title>{escape(title)}</title></head>'
            f'<body style="margin:0;padding:0">{fragment}</body></html>')


def plain_text(blocks: MailBlocks) -> str:
    """The text/plain alternative of a mail with these blocks."""
    parts = [html_to_text(b) for b in (blocks.body, blocks.signature)]
    legal = html_to_text(blocks.legal_footer)
    return "\n\n".join(p for p in parts if p) + (f"\n\n-- \n{legal}" if legal else "")
