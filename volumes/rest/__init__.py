"""The Block Storage API v3 (``/v3`` and ``/v3/{project_id}``), as the real clients expect it."""
