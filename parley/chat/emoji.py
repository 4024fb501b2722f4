"""What a reaction may be: one emoji, as one grapheme, never text.

Unicode defines an emoji by properties Python's `unicodedata` does not expose
(Extended_Pictographic, UTS #51), so the grammar of a single emoji is written out here
with the code point ranges of Extended_Pictographic (emoji-data.txt; the ranges include
the code points Unicode reserves for future emoji, so a new emoji is accepted before
Python knows it). One emoji is one of:

- a keycap: `0`-`9`, `#` or `*`, optionally U+FE0F, then U+20E3;
- a flag: two regional indicators;
- a subdivision flag: U+1F3F4, tag characters, U+E007F;
- a sequence of pictographs joined by U+200D (ZWJ), each with an optional U+FE0F and an
  optional skin tone.

`reaction_emoji` returns the canonical form (so that "❤" and "❤️" are one reaction):
without any U+FE0F, then with one after each pictograph of the basic plane, where most
emoji that default to a text presentation live, and after a keycap's character.
"""

from __future__ import annotations

from bisect import bisect_right

from parley.chat.errors import InvalidEmoji

# The common reactions offered first (the web UI's picker). Any other single emoji is
# accepted too.
COMMON = ("👍", "❤️", "😂", "😮", "😢", "🙏", "🎉", "👎")

MAX_CODE_POINTS = 16  # the longest fully-qualified emoji (a family, a kiss) has 10

_PICTOGRAPHIC = (
    (0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
    (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x2199), (0x21A9, 0x21AA),
    (0x231A, 0x231B), (0x2328, 0x2328), (0x2388, 0x2388), (0x23CF, 0x23CF),
    (0x23E9, 0x23F3), (0x23F8, 0x23FA), (0x24C2, 0x24C2), (0x25AA, 0x25AB),
    (0x25B6, 0x25B6), (0x25C0, 0x25C0), (0x25FB, 0x25FE), (0x2600, 0x2605),
    (0x2607, 0x2612), (0x2614, 0x2685), (0x2690, 0x2705), (0x2708, 0x2712),
    (0x2714, 0x2714), (0x2716, 0x2716), (0x271D, 0x271D), (0x2721, 0x2721),
    (0x2728, 0x2728), (0x2733, 0x2734), (0x2744, 0x2744), (0x2747, 0x2747),
    (0x274C, 0x274C), (0x274E, 0x274E), (0x2753, 0x2755), (0x2757, 0x2757),
    (0x2763, 0x2767), (0x2795, 0x2797), (0x27A1, 0x27A1), (0x27B0, 0x27B0),
    (0x27BF, 0x27BF), (0x2934, 0x2935), (0x2B05, 0x2B07), (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50), (0x2B55, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D),
    (0x3297, 0x3297), (0x3299, 0x3299), (0x1F000, 0x1F0FF), (0x1F10D, 0x1F10F),
    (0x1F12F, 0x1F12F), (0x1F16C, 0x1F171), (0x1F17E, 0x1F17F), (0x1F18E, 0x1F18E),
    (0x1F191, 0x1F19A), (0x1F1AD, 0x1F1E5), (0x1F201, 0x1F20F), (0x1F21A, 0x1F21A),
    (0x1F22F, 0x1F22F), (0x1F232, 0x1F23A), (0x1F23C, 0x1F23F), (0x1F249, 0x1F3FA),
    (0x1F400, 0x1F53D), (0x1F546, 0x1F64F), (0x1F680, 0x1F6FF), (0x1F774, 0x1F77F),
    (0x1F7D5, 0x1F7FF), (0x1F80C, 0x1F80F), (0x1F848, 0x1F84F), (0x1F85A, 0x1F85F),
    (0x1F888, 0x1F88F), (0x1F8AE, 0x1F8FF), (0x1F90C, 0x1F93A), (0x1F93C, 0x1F945),
    (0x1F947, 0x1FAFF), (0x1FC00, 0x1FFFD),
)  # fmt: skip
_STARTS = [start for start, _ in _PICTOGRAPHIC]

VS16 = 0xFE0F
ZWJ = 0x200D
KEYCAP = 0x20E3
BLACK_FLAG = 0x1F3F4
CANCEL_TAG = 0xE007F


def _pictographic(cp: int) -> bool:
    i = bisect_right(_STARTS, cp) - 1
    return i >= 0 and cp <= _PICTOGRAPHIC[i][1]


def _regional(cp: int) -> bool:
    return 0x1F1E6 <= cp <= 0x1F1FF


def _skin_tone(cp: int) -> bool:
    return 0x1F3FB <= cp <= 0x1F3FF


def _tag(cp: int) -> bool:
    return 0xE0020 <= cp <= 0xE007E


def _canonical(cps: list[int]) -> str | None:
    """The canonical form of `cps` (U+FE0F already removed) if it is one emoji, else None."""
    if len(cps) == 2 and all(_regional(cp) for cp in cps):
        return "".join(map(chr, cps))
    if len(cps) == 2 and cps[1] == KEYCAP and chr(cps[0]) in "0123456789#*":
        return chr(cps[0]) + chr(VS16) + chr(KEYCAP)
    if cps and cps[0] == BLACK_FLAG and len(cps) > 2 and cps[-1] == CANCEL_TAG:
        return "".join(map(chr, cps)) if all(_tag(cp) for cp in cps[1:-1]) else None
    out: list[str] = []
    last = "zwj"  # what came last: "zwj" (a pictograph is due), "base" or "tone"
    for cp in cps:
        if last == "zwj":
            if not _pictographic(cp):
                return None
            out.append(chr(cp))
            if cp < 0x10000:
                out.append(chr(VS16))
            last = "base"
        elif cp == ZWJ:
            out.append(chr(cp))
            last = "zwj"
        elif _skin_tone(cp) and last == "base":
            if out[-1] == chr(VS16):  # a skin tone replaces the presentation selector
                out.pop()
            out.append(chr(cp))
            last = "tone"
        else:
            return None
    return None if last == "zwj" else "".join(out)


def reaction_emoji(text: str) -> str:
    """`text` as a reaction (canonical form), or InvalidEmoji when it is not exactly one
    emoji: empty, text, several emoji, or an emoji with anything around it."""
    cps = [ord(c) for c in text]
    if not cps or len(cps) > MAX_CODE_POINTS:
        raise InvalidEmoji()
    canonical = _canonical([cp for cp in cps if cp != VS16])
    if canonical is None:
        raise InvalidEmoji()
    return canonical
