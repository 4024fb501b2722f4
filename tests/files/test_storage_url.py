"""STORAGE_URL: where attachments are kept (docs/deployment.md, "Files")."""

from __future__ import annotations

import pytest

from parley.files.storage_url import storage_from_url


def test_without_it_files_stay_on_the_local_disk():
    assert storage_from_url("", default_location="/srv/media/attachments") == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": "/srv/media/attachments"},
    }


def test_a_file_url_names_another_directory():
    config = storage_from_url("file:///var/lib/parley/files", default_location="/x")
    assert config["OPTIONS"] == {"location": "/var/lib/parley/files"}


def test_an_s3_url_names_the_server_bucket_and_credentials():
    config = storage_from_url(
        "s3://parley:s%2Fcret@127.0.0.1:9000/chat-files?region=eu-west-1&scheme=http&prefix=p/",
        default_location="/x",
    )
    assert config["BACKEND"] == "storages.backends.s3.S3Storage"
    assert config["OPTIONS"] == {
        "bucket_name": "chat-files",
        "endpoint_url": "http://127.0.0.1:9000",
        "addressing_style": "path",
        "access_key": "parley",
        "secret_key": "s/cret",
        "region_name": "eu-west-1",
        "location": "p",
        "default_acl": None,
        "file_overwrite": False,
        "querystring_auth": True,
    }


def test_aws_itself_needs_only_the_bucket():
    options = storage_from_url("s3:///chat-files", default_location="/x")["OPTIONS"]
    assert options["bucket_name"] == "chat-files"
    assert "endpoint_url" not in options and "access_key" not in options


@pytest.mark.parametrize("url", ["ftp://host/x", "s3://host/", "s3://host/a/b", "file://"])
def test_a_url_it_cannot_use_is_refused_at_start(url):
    with pytest.raises(ValueError):
        storage_from_url(url, default_location="/x")
