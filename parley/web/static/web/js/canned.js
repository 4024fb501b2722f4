// Canned replies in the composer, the part that needs no page: which `/shortcut` the
// caret is in, and the box's text once a reply replaces it. tests/js/canned.test.mjs.

// What a shortcut may contain (docs/widget.md, "Canned replies"); past 32 it is no
// shortcut any more, so the picker closes.
const SLASH_WORD = /(?:^|\s)\/([a-z0-9_-]{0,32})$/i;

/** The `/prefix` the caret ends, at the start of the box or after a space or a newline,
 * as `{start, end, prefix}` (`start` at the slash); null when the caret is elsewhere or
 * text follows it in the same word. */
export function slashQuery(value, caret) {
  const after = value.slice(caret);
  if (after && !/^\s/.test(after)) return null;
  const found = SLASH_WORD.exec(value.slice(0, caret));
  if (!found) return null;
  return { start: caret - found[1].length - 1, end: caret, prefix: found[1].toLowerCase() };
}

/** The box's value with `query`'s `/prefix` replaced by `text`, and where the caret goes
 * (right after the inserted text). */
export function insertReply(value, query, text) {
  return {
    value: value.slice(0, query.start) + text + value.slice(query.end),
    caret: query.start + text.length,
  };
}
