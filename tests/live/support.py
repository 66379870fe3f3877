"""What the live tests share: a logged-in session for raw sockets, and the page's picture."""

from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

# Every task element's DOM-contract attributes, plus the volume status: what a
# user sees of the flows, as data a test can compare.
PICTURE_JS = """() => ({
  tasks: [...document.querySelectorAll('[data-task]')].map(t => [
    t.dataset.flow, t.dataset.attempt, t.dataset.task, t.dataset.state]),
  status: document.querySelector('#volume-facts [data-volume-status]').dataset.volumeStatus,
})"""

# True once the volume has settled and no task is still moving.
SETTLED_JS = """(statuses) => {
  const status = document.querySelector('#volume-facts [data-volume-status]');
  const tasks = [...document.querySelectorAll('[data-task]')];
  return status && statuses.includes(status.dataset.volumeStatus) && tasks.length > 0
    && tasks.every(t => !['pending', 'running', 'reverting'].includes(t.dataset.state)
                        || t.closest('[data-run-state=reverted], [data-run-state=failure]'));
}"""

# Records every data-state value each task element takes, keyed by its id.
# Elements replaced by a swap carry the same id, so the record spans swaps.
RECORD_STATES_JS = """() => {
  window.seenStates = {};
  const note = (el) => {
    if (!el.id || !el.dataset || !el.dataset.state) return;
    const seen = (window.seenStates[el.id] = window.seenStates[el.id] || []);
    if (seen[seen.length - 1] !== el.dataset.state) seen.push(el.dataset.state);
  };
  document.querySelectorAll('[data-task]').forEach(note);
  new MutationObserver((records) => {
    for (const r of records) {
      if (r.type === 'attributes') note(r.target);
      for (const n of r.addedNodes || []) {
        if (n.nodeType !== 1) continue;
        if (n.matches('[data-task]')) note(n);
        n.querySelectorAll('[data-task]').forEach(note);
      }
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true,
                             attributeFilter: ['data-state']});
}"""


def session_cookie(user) -> str:
    """A real session for ``user`` in the test database, as daphne will read it."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def logged_in(comm, user):
    """Give a communicator the scope asgi.py's session middleware would: the user and their
    real session (consumers re-read it before every picture)."""
    from concurrent.futures import ThreadPoolExecutor
    from importlib import import_module

    from django.db import connection

    def make_session() -> str:
        try:
            return session_cookie(user).split("=", 1)[1]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:  # callers may be inside an event loop
        key = pool.submit(make_session).result()
    comm.scope["session"] = import_module(settings.SESSION_ENGINE).SessionStore(key)
    comm.scope["user"] = user
    return comm


def ws_url(server: str, path: str) -> str:
    return f"ws://{urlsplit(server).netloc}{path}"


async def in_db_thread(func, *args, **kwargs):
    """ORM work from a test's event loop, on a thread that gives its database connection
    back afterwards (under PostgreSQL's pool a connection left on a thread is a slot lost;
    ``asyncio.to_thread`` leaves it there)."""
    return await database_sync_to_async(func)(*args, **kwargs)
