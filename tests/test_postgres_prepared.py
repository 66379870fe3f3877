"""On PostgreSQL a statement a connection runs again is prepared there: the server parses
and plans it once, not on every request and job (``DATABASE_PREPARE_THRESHOLD``)."""

import pytest
from django.db import connection

from core.cinder.models import Volume

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def prepared_on_this_connection() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return cursor.fetchone()[0]


def test_a_statement_run_again_on_a_connection_is_prepared_there(live_db):
    before = prepared_on_this_connection()
    for _ in range(3):
        list(Volume.objects.filter(status="available", size__gte=1)[:1])

    assert prepared_on_this_connection() > before
