"""Static files that two versions of Parley can serve for each other during a deploy.

In a rolling deploy old and new processes run side by side behind one proxy, so a page
from one may have its files asked of the other. Three things make that work
(docs/deployment.md, "Static files across versions"):

- `collectstatic` of each version writes into the same STATIC_ROOT without clearing it:
  the previous version's hashed files stay next to the new ones.
- `StaticFilesStorage` hashes what the ES modules import, too: `import ... from
  "./api.js"` becomes `"./api.<hash>.js"` (Django's `support_js_module_import_aggregation`),
  so a page gets the modules of its own version, never a mix, and every module can be
  cached for good. Before, the imports kept their plain names with whitenoise's 60 s cache.
- `StaticFilesMiddleware` (whitenoise's, which indexes STATIC_ROOT when the process
  starts) also serves a hashed file collected after it started, the next version's,
  looked up on disk the first time it is asked for; and it serves every hashed name as
  immutable, not only the names of its own version's manifest.
"""

from __future__ import annotations

import os
import re
from typing import Any

from whitenoise.middleware import WhiteNoiseMiddleware
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Django's hashed names: `name.<first 12 hex digits of the MD5 of the content>.ext`.
HASHED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True


class StaticFilesMiddleware(WhiteNoiseMiddleware):
    def __call__(self, request: Any) -> Any:
        path = request.path_info
        if self.autorefresh:  # DEBUG: whitenoise looks each file up in the apps' folders
            static_file = self.find_file(path)
        else:
            static_file = self.files.get(path)
            if static_file is None and self._is_hashed_static(path):
                static_file = self._collected_since_start(path)
        if static_file is not None:
            return self.serve(static_file, request)
        return self.get_response(request)

    def _is_hashed_static(self, url: str) -> bool:
        return url.startswith(self.static_prefix) and HASHED.search(url) is not None

    def _collected_since_start(self, url: str) -> Any:
        """A hashed file of STATIC_ROOT that was not there when the process started: added
        to the index once found (its name says its content, which never changes)."""
        if not self.static_root or not self.url_is_canonical(url):
            return None
        root = os.path.join(os.path.abspath(self.static_root), "")
        path = os.path.join(root, url[len(self.static_prefix) :])
        if not self.path_is_child_of(path, root) or not os.path.isfile(path):
            return None
        self.add_file_to_dictionary(url, path)
        return self.files.get(url)

    def immutable_file_test(self, path: str, url: str) -> bool:
        """Any version's hashed name is immutable (whitenoise's own test knows only the
        names in this version's manifest, and served the other version's with 60 s)."""
        return self._is_hashed_static(url) or super().immutable_file_test(path, url)
