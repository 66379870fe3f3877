"""``{% quota_bars_for as q %}``: the limit bars for the page's project and form."""

from django import template

from volumes.quota_bars import limit_bars

register = template.Library()


def _as_size(value) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


@register.simple_tag(takes_context=True)
def quota_bars_for(context) -> dict:
    """Reads the project and the form's size and type from the page's own context."""
    project = context.get("project")
    if project is None:
        return {}
    form = context.get("form")
    size, volume_type = 0, None
    if form is not None and "size" in form.fields:
        size = _as_size(form["size"].value())
    if form is not None and "volume_type" in form.fields:
        volume_type = form["volume_type"].value()
    return limit_bars(project.pk, size, volume_type)
