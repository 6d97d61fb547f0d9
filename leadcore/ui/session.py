"""Per-run context of a page: the database cursor, the signed-in user, the clock, the time zone."""
from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import duckdb
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from leadcore import clock, db, i18n, jobs, process
from leadcore.admin import reference as reference_data
from leadcore.admin.reference import Reference
from leadcore.auth import User
from leadcore.errors import PermissionDenied
from leadcore.i18n import _
from leadcore.leads import notifications
from leadcore.mail import smtp as mailer
from leadcore.scheduler import Scheduler

_local = threading.local()


@st.cache_resource(show_spinner=False)
def root_connection(path: str) -> duckdb.DuckDBPyConnection:
    """The server's one connection to the database (cached per file or URL for the process): on
    DuckDB the Streamlit server is the one process that holds the file read-write; on PostgreSQL
    it is this server's connection pool. Every run and thread takes its own cursor() from it, and
    tests and the benchmark share it too."""
    _configure_logging()
    return db.connect(path)


def _configure_logging() -> None:
    """The server's logging, set once by its entry point (never on import): leadcore's INFO lines
    (which database is open), unless the operator configured logging (Streamlit sets up its own
    loggers only); sqlglot's warning for every statement it reads as a plain command (LOAD,
    CALL) is noise, as the SQL box refuses those anyway."""
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    logger = logging.getLogger("leadcore")
    with process.PROCESS.announce_lock:
        if logger.handlers or logging.getLogger().handlers:
            return
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False   # a root handler added later by a library would print it twice


def database_file() -> str:
    """The database this server serves (shown to admins in the sidebar; a URL without password)."""
    return db.database_name()


def _database() -> str:
    """The configured database: LEADCORE_DATABASE_URL, else the DuckDB file."""
    return db.database_url() or str(db.database_path())


def cursor() -> duckdb.DuckDBPyConnection:
    """This thread's cursor on the shared connection; cursors are never shared across threads."""
    path = _database()
    if getattr(_local, "path", None) != path:
        _local.cursor = root_connection(path).cursor()
        _local.path = path
    return _local.cursor


def now() -> datetime:
    return clock.now()


def reference() -> Reference:
    """This run's settings, users and sources (leadcore.admin.reference): their fingerprint is
    asked once per run, full or fragment (Streamlit gives each run a fresh `cursors` dict, and the
    widget callbacks of a run come after that), and the rows are read only when they changed."""
    ctx = get_script_run_ctx()
    if ctx is None:                    # outside a script run: read as stored now
        return reference_data.current(cursor())
    held = st.session_state.get("_run_reference")
    if held is None or held[0] is not ctx.cursors:
        held = (ctx.cursors, reference_data.current(cursor()))
        st.session_state["_run_reference"] = held
    return held[1]


def forget_reference() -> None:
    """Read the reference data again within this run (after a callback changed some)."""
    st.session_state.pop("_run_reference", None)


def timezone() -> ZoneInfo:
    return reference().timezone()


def current_user() -> User | None:
    """The signed-in user as stored now (the run's reference data, read again whenever the users
    change), so a deactivated account is signed out at once.

    It also sets this run's language (the user's, else the dealership's): app.py calls it first
    thing, so a language switched on "My settings" shows on the next rerun without signing out.
    """
    user_id = st.session_state.get("user_id")
    user = None
    if user_id is not None:
        user = reference().user(user_id)
        if user is None or not user.active:
            st.session_state.pop("user_id", None)
            user = None
    _set_language(user)
    return user


def _set_language(user: User | None) -> None:
    code = i18n.normalise(user.language) if user else None
    # Widget callbacks of the next run come before app.py sets the ContextVar: they read this.
    st.session_state["_language"] = i18n.activate(code or reference().dealership_language())


def _session_language() -> str | None:
    if get_script_run_ctx() is None:    # the scheduler's thread: no session to ask
        return None
    return st.session_state.get("_language")


i18n.set_session_hook(_session_language)


def require_user() -> User:
    """The signed-in user; without one, back to app.py and its sign-in form.

    app.py signs people in before it runs a page, so this only happens when a fresh server's
    first request is a deep link (/contacts): Streamlit then runs the page file on its own,
    in its old pages/-folder mode, until app.py has called st.navigation once.
    """
    user = current_user()
    if user is None:
        st.switch_page("app.py")
    return user


def client_id() -> str:
    """Who is knocking, for sign-in throttling: the connection's address, else (localhost, AppTest)
    this browser session."""
    address = st.context.ip_address
    if address:
        return f"ip:{address}"
    return "session:" + st.session_state.setdefault("_client_token", secrets.token_hex(8))


def acting_user() -> User:
    """The signed-in user inside a callback (re-read); refused when signed out or deactivated
    meanwhile. Callbacks cannot switch pages, so this raises instead of going to sign-in."""
    user = current_user()
    if user is None:
        raise PermissionDenied(_("You are signed out; sign in again to continue."))
    return user


def sign_in(user: User) -> None:
    st.session_state["user_id"] = user.id


def sign_out() -> None:
    st.session_state.clear()


def flash(message: str) -> None:
    """A success message shown once on the next page run."""
    st.session_state["_flash"] = message


def show_flash() -> None:
    message = st.session_state.pop("_flash", None)
    if message:
        st.success(message, icon=":material/check_circle:")


def redirect(page: str, query_params: dict | None = None) -> None:
    """Ask for a page switch from a callback (callbacks cannot switch pages themselves)."""
    st.session_state["_redirect"] = (page, query_params or {})


def follow_redirect() -> None:
    """Called by app.py once navigation is set up; switches page when a callback asked to."""
    target = st.session_state.pop("_redirect", None)
    if target:
        st.switch_page(target[0], query_params=target[1])


def background_jobs_enabled() -> bool:
    """LEADCORE_SCHEDULER=off turns the scheduler and page-load sweeps off (tests seed their own)."""
    return os.environ.get("LEADCORE_SCHEDULER", "on").lower() not in ("off", "0", "false", "no")


def smtp_config() -> mailer.SmtpConfig | None:
    """SMTP settings from the environment or .streamlit/secrets.toml; None when not configured.
    Raises mailer.SmtpConfigError when they are there but wrong."""
    try:
        secrets = st.secrets.to_dict()
    except Exception:  # noqa: BLE001 - no secrets file at all: the environment alone
        secrets = {}
    return mailer.smtp_config(os.environ, secrets)


@st.cache_resource(show_spinner=False)
def _scheduler(path: str) -> Scheduler:
    # Started once per database per server process; each tick takes its own cursor.
    try:
        smtp = smtp_config()
    except mailer.SmtpConfigError as error:
        smtp = None
        logging.getLogger("leadcore.scheduler").log(logging.ERROR, "outbox not sent: %s", error.message)
    return Scheduler(root_connection(path), clock.now, jobs=jobs.background_jobs(smtp)).start()


# The scheduler sweeps every minute; a page load sweeps only when that is this much overdue
# (the scheduler not started yet, or stuck), so a user's click does not pay for the routine
# sweep (~60 ms at 1,000,000 leads, ~0.9 s when it writes much).
PAGE_LOAD_SWEEP_AFTER = 90.0
# How long the navigation's unread count may be old: the sweep that writes notifications runs
# once a minute, and this session's own reading forgets the count at once (forget_unread).
UNREAD_COUNT_EVERY = 30.0


def start_scheduler() -> None:
    """The server's scheduler, started by the first page run of any session (the sign-in page
    too): a server of a group must be able to take over the group's jobs as soon as anyone has
    opened it, not only once someone has signed in there."""
    if background_jobs_enabled():
        _scheduler(_database())


def sweep_on_page_load() -> None:
    if background_jobs_enabled():
        # SPEC: the sweep also runs on page load (throttled, see above; never over PostgreSQL,
        # see jobs.sweep_on_page_load). It runs before the page, so the first page a user sees
        # already counts what the sweep found. (The scheduler was started by start_scheduler.)
        if jobs.sweep_on_page_load(cursor(), now(), min_interval=PAGE_LOAD_SWEEP_AFTER) is not None:
            forget_unread()


def unread_notifications(user: User) -> int:
    """The signed-in user's unread notifications for the navigation's badge, counted at most
    every UNREAD_COUNT_EVERY seconds per session instead of on every run."""
    held = st.session_state.get("_unread")
    if held is None or held[0] != user.id or time.monotonic() - held[1] > UNREAD_COUNT_EVERY:
        held = (user.id, time.monotonic(), notifications.unread_count(cursor(), user))
        st.session_state["_unread"] = held
    return held[2]


def forget_unread() -> None:
    """Count again on the next run (this session read or opened notifications)."""
    st.session_state.pop("_unread", None)


def allow_only(check: Callable[[User], None]) -> None:
    """Stop the page with the check's own message when the signed-in user may not use it.

    The navigation already hides such pages; this covers a typed or bookmarked address.
    """
    try:
        check(require_user())
    except PermissionDenied as denied:
        st.error(denied.message, icon=":material/block:")
        st.stop()


def user_names(active_only: bool = False, editors_only: bool = False) -> dict[int, str]:
    """Users' names as the basic setting "Show user names as" wants them in lists and pickers.

    editors_only: the users a lead may be given to (active, not analysts).
    """
    return reference().user_names(active_only, editors_only)


def source_names() -> dict[int, str]:
    """Every source's name (active or not) by id, in the configured order: filters and pickers."""
    return reference().source_names()
