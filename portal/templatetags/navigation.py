"""The header's navigation: which links a user sees, and which one is the current page."""

from django import template
from django.urls import reverse

register = template.Library()

# (url name, label, admins only)
LINKS = [
    ("home", "Dashboard", False),
    ("volumes:list", "Volumes", False),
    ("volumes:create", "Create volume", False),
    ("volumes:images", "Images", False),
    ("scheduler:pools", "Pools", False),
    ("scheduler:what-if", "What if", False),
    ("agent:backends", "Backends", True),
    ("admin:index", "Admin", True),
]


@register.simple_tag
def nav_links(user, path: str) -> list[dict]:
    """The links ``user`` may follow; the one whose address is the longest start of ``path``
    is current (a volume's page belongs to Volumes, the create form to Create volume)."""
    links = [
        {"href": reverse(name), "label": label}
        for name, label, admins_only in LINKS
        if user.is_superuser or not admins_only
    ]
    matches = [link for link in links if _leads_to(link["href"], path)]
    current = max(matches, key=lambda link: len(link["href"]), default=None)
    for link in links:
        link["current"] = link is current
    return links


def _leads_to(href: str, path: str) -> bool:
    return path == href if href == "/" else path.startswith(href)
