"""Building and sending the shop's emails: a plain-text part and an HTML part (the shop's look, a
table layout with inline styles, as mail clients need) rendered from one context.

``email_send`` is called by the outbox handlers (notifications.handlers), inside the handler's
transaction: a send that fails rolls the handler back and the event is delivered again later. The
one case left, a crash between the SMTP hand-off and that commit, sends the email again; it then
carries the same Message-ID (made from its event and kind), by which receiving mail systems can
tell it is a duplicate.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe

TEMPLATE_DIR = "notifications/email"
_LINE_BREAKS = re.compile(r"[\r\n]+")

# The shop's look (static/css/shop.css tokens) as inline styles: mail clients drop <style> blocks and
# classes. Templates use them as ``style="{{ css.cell }}"``; fixed strings, so marked safe once here.
_FONT = "font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;"
CSS = {
    name: mark_safe(value)  # noqa: S308 - constants of this module, no outside input
    for name, value in {
        "body": "margin:0;padding:0;background:#f1f3f7;",
        "outer": "background:#f1f3f7;width:100%;",
        "card": "width:100%;max-width:600px;background:#ffffff;border:1px solid #e3e6ec;border-radius:10px;",
        "brand": _FONT + "background:#4338ca;color:#ffffff;font-size:18px;font-weight:700;padding:18px 28px;"
        "border-radius:10px 10px 0 0;",
        "brand_link": "color:#ffffff;text-decoration:none;",
        "content": _FONT + "padding:28px;color:#111827;font-size:15px;line-height:1.5;",
        "h1": _FONT + "margin:0 0 12px;font-size:22px;line-height:1.3;color:#111827;",
        "h2": _FONT + "margin:24px 0 8px;font-size:16px;line-height:1.3;color:#111827;",
        "p": "margin:0 0 12px;",
        "muted": "color:#4b5563;",
        "small": "color:#6b7280;font-size:12px;",
        "table": _FONT + "width:100%;border-collapse:collapse;font-size:14px;margin:0 0 8px;",
        "th": "text-align:left;padding:8px;border-bottom:2px solid #c9ced8;color:#4b5563;font-size:12px;"
        "text-transform:uppercase;letter-spacing:0.03em;",
        "th_num": "text-align:right;padding:8px;border-bottom:2px solid #c9ced8;color:#4b5563;font-size:12px;"
        "text-transform:uppercase;letter-spacing:0.03em;white-space:nowrap;",
        "td": "text-align:left;padding:8px;border-bottom:1px solid #e3e6ec;vertical-align:top;",
        "td_num": "text-align:right;padding:8px;border-bottom:1px solid #e3e6ec;vertical-align:top;white-space:nowrap;",
        "sum_label": "text-align:right;padding:4px 8px;color:#4b5563;",
        "sum_num": "text-align:right;padding:4px 8px;white-space:nowrap;",
        "total_label": "text-align:right;padding:8px;font-weight:700;border-top:2px solid #c9ced8;",
        "total_num": "text-align:right;padding:8px;font-weight:700;border-top:2px solid #c9ced8;white-space:nowrap;",
        "box": "background:#f8f9fb;border:1px solid #e3e6ec;border-radius:6px;padding:12px 16px;margin:0 0 16px;",
        "notice": "background:#eef0ff;border-radius:6px;padding:12px 16px;margin:0 0 16px;color:#3730a3;",
        "button": _FONT + "display:inline-block;background:#4338ca;color:#ffffff;text-decoration:none;"
        "font-weight:600;padding:10px 18px;border-radius:6px;",
        "link": "color:#4338ca;",
        "footer": _FONT + "padding:18px 28px;border-top:1px solid #e3e6ec;color:#6b7280;font-size:12px;"
        "line-height:1.5;",
    }.items()
}


def absolute_url(path: str) -> str:
    """``SITE_URL`` joined with a path of this site: emails are read outside the site, so links are absolute."""
    return settings.SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def page_url(name: str, *args) -> str:
    """The absolute URL of a named page of the site."""
    return absolute_url(reverse(name, args=args))


def _message_id(event_id: Any, kind: str) -> str:
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<{event_id}.{kind}@{domain}>"


def email_render(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """The text and HTML bodies of ``notifications/email/<template>.txt`` and ``.html``. The HTML is
    autoescaped; the text part is not (the text templates switch autoescape off)."""
    context = {"site_name": settings.SITE_NAME, "site_url": absolute_url("/"), "css": CSS, **context}
    text = render_to_string(f"{TEMPLATE_DIR}/{template}.txt", context)
    html = render_to_string(f"{TEMPLATE_DIR}/{template}.html", context)
    return text, html


def email_send(
    *, to: str, subject: str, template: str, context: dict[str, Any], event_id: Any, kind: str
) -> EmailMultiAlternatives:
    """Render ``template`` and send it to one address through the backend of the settings
    (``EMAIL_URL``). Raises what the backend raises, so the outbox handler's transaction rolls back
    and the event is delivered again later."""
    text, html = email_render(template, {**context, "subject": subject})
    message = EmailMultiAlternatives(
        subject=_LINE_BREAKS.sub(" ", subject).strip(),
        body=text,
        to=[to],
        headers={"Message-ID": _message_id(event_id, kind), "X-Shop-Event": str(event_id)},
    )
    message.attach_alternative(html, "text/html")
    message.send()
    return message
