"""One picture decoded at a time per process, for every kind of upload (avatars,
attachments): decoding costs memory by the pixel, and uploads in parallel wait their
turn instead of adding theirs up (parley/accounts/avatars.py, parley/files/images.py)."""

from __future__ import annotations

import threading

DECODING = threading.BoundedSemaphore(1)
