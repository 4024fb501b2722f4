"""Exports: a conversation's history as a member sees it, a whole conversation or one
person's data for staff, as a zip written as it is read (docs/export.md); and the whole
instance moved between databases (`parley_export` / `parley_import`, docs/deployment.md)."""
