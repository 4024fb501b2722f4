"""`STORAGE_URL`: where attachments are stored, as one setting (docs/deployment.md,
"Files"). Read by settings.py before Django is set up, so this imports nothing of it.

- empty: the local disk, `<MEDIA_ROOT>/attachments` (never served by the web server:
  files go out only through Parley's permission check);
- `file:///var/lib/parley/attachments`: the local disk, elsewhere;
- `s3://KEY:SECRET@host:port/bucket?region=eu-west-1&scheme=http&prefix=parley/`:
  S3-compatible object storage with django-storages (MinIO, Ceph, Garage, AWS S3...);
  `s3:///bucket` is AWS itself, its credentials from the environment or the machine's
  role. Key and secret are URL-quoted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

S3_BACKEND = "storages.backends.s3.S3Storage"
DISK_BACKEND = "django.core.files.storage.FileSystemStorage"


def storage_from_url(url: str, *, default_location: str) -> dict[str, Any]:
    """The STORAGES entry that `url` describes. Raises ValueError for a URL it cannot use."""
    if not url:
        return {"BACKEND": DISK_BACKEND, "OPTIONS": {"location": default_location}}
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path:
            raise ValueError("STORAGE_URL file:///path needs a path")
        return {"BACKEND": DISK_BACKEND, "OPTIONS": {"location": unquote(parts.path)}}
    if parts.scheme != "s3":
        raise ValueError(f"STORAGE_URL: unknown scheme {parts.scheme!r} (file:// or s3://)")
    bucket = parts.path.strip("/")
    if not bucket or "/" in bucket:
        raise ValueError("STORAGE_URL s3://.../bucket needs one bucket name")
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    options: dict[str, Any] = {
        "bucket_name": bucket,
        # Files are private: never a public-read object, never a name reused.
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }
    if parts.hostname:
        scheme = query.get("scheme", "https")
        port = f":{parts.port}" if parts.port else ""
        options["endpoint_url"] = f"{scheme}://{parts.hostname}{port}"
        # Path-style addressing (host/bucket): what self-hosted servers expect.
        options["addressing_style"] = query.get("addressing", "path")
    if parts.username:
        options["access_key"] = unquote(parts.username)
        options["secret_key"] = unquote(parts.password or "")
    if "region" in query:
        options["region_name"] = query["region"]
    if "prefix" in query:
        options["location"] = query["prefix"].strip("/")
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
