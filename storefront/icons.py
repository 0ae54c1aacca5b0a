"""The shop's inline SVG icons, built once per process.

Pages show the same few icons dozens of times (grids, pagers, the header); a template include per icon
rendered a small template each time. ``svg(name)`` returns the finished markup from a cache instead:
``{% icon "cart" %}`` in templates (storefront_tags), and the live parts of pages (storefront.live).
Icons are decorative: the text next to them, visible or not, names the control.
"""

from __future__ import annotations

from functools import cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# The inner elements of each icon, on a 24x24 grid drawn with a 2 px stroke.
PATHS = {
    "search": '<circle cx="11" cy="11" r="7"/><path d="m20 20-3.5-3.5"/>',
    "cart": '<path d="M6 7h12l-1 13H7L6 7z"/><path d="M9 7V6a3 3 0 0 1 6 0v1"/>',
    "user": '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
    "user-plus": '<circle cx="10" cy="8" r="4"/><path d="M2 21a8 8 0 0 1 13.5-5.8"/><path d="M19 14v6M16 17h6"/>',
    "logout": '<path d="M15 4h3a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2h-3"/><path d="M10 17l-5-5 5-5"/><path d="M5 12h11"/>',
    "shield": '<path d="M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6l-8-3z"/>',
    "chevron-right": '<path d="m9 6 6 6-6 6"/>',
    "chevron-left": '<path d="m15 6-6 6 6 6"/>',
    "sort": '<path d="M7 4v16M4 17l3 3 3-3"/><path d="M17 20V4M14 7l3-3 3 3"/>',
    "expand": '<path d="M15 3h6v6M9 21H3v-6M21 3l-7 7M3 21l7-7"/>',
    "arrow-right": '<path d="M5 12h14M13 6l6 6-6 6"/>',
    "close": '<path d="M6 6l12 12M18 6 6 18"/>',
    "truck": '<path d="M3 6h11v10H3z"/><path d="M14 10h4l3 3v3h-7"/><circle cx="7" cy="18" r="2"/>'
    '<circle cx="17" cy="18" r="2"/>',
    "lock": '<rect x="5" y="11" width="14" height="10" rx="2"/><path d="M8 11V7a4 4 0 0 1 8 0v4"/>',
    "return": '<path d="M9 14 4 9l5-5"/><path d="M4 9h11a5 5 0 0 1 0 10h-3"/>',
    "check": '<path d="m5 12 5 5 9-10"/>',
    "store": '<path d="M4 10v10h16V10"/><path d="M3 4h18l-1.5 6a3 3 0 0 1-5.5 1 3 3 0 0 1-4 0 3 3 0 0 1-5.5-1L3 4z"/>'
    '<path d="M10 20v-5h4v5"/>',
    "badge-check": '<path d="M12 3l2.4 1.8 3-.2.9 2.9 2.5 1.7-1 2.8 1 2.8-2.5 1.7-.9 2.9-3-.2L12 21l-2.4-1.8-3 .2-.9'
    '-2.9L3.2 14.8l1-2.8-1-2.8 2.5-1.7.9-2.9 3 .2L12 3z"/><path d="m8.5 12 2.5 2.5 4.5-5"/>',
    "wallet": '<rect x="3" y="6" width="18" height="14" rx="2"/><path d="M3 10h18"/><path d="M16 15h2"/>',
    "chart": '<path d="M4 20V10M10 20V4M16 20v-7M22 20H2"/>',
    "mail": '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="m3 7 9 6 9-6"/>',
    "package": '<path d="M3 7.5 12 3l9 4.5v9L12 21l-9-4.5v-9z"/><path d="M3 7.5 12 12l9-4.5M12 12v9"/>',
    "home": '<path d="M3 11 12 4l9 7"/><path d="M5 10v10h14V10"/>',
}


@cache
def svg(name: str, css_class: str = "") -> SafeString:
    """The icon's ``<svg>`` element; an unknown name draws nothing (an empty frame), as a typo should
    not take a page down. ``css_class`` is added to the ``icon`` class."""
    classes = f"icon {escape(css_class)}" if css_class else "icon"
    return mark_safe(  # noqa: S308 - fixed markup above; the only variable part is escaped
        f'<svg class="{classes}" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false" '
        f'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
        f"{PATHS.get(name, '')}</svg>"
    )
