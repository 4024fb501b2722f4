"""Errors of attachments, each with its stable code (docs/files.md, "Errors")."""

from parley.common.errors import DomainError, InvalidInput, NotFound


class FileTooLarge(DomainError):
    code = "file_too_large"
    status = 413
    default_message = "The file is too large."


class PendingUploadsTooLarge(DomainError):
    """Files uploaded and not sent yet, together: what one person may park in storage."""

    code = "pending_uploads_too_large"
    status = 413
    default_message = "Too many files wait to be sent: send or remove some first."


class FileTypeNotAllowed(InvalidInput):
    code = "file_type_not_allowed"
    default_message = "Files of this type cannot be sent."


class FileInvalid(InvalidInput):
    code = "file_invalid"
    default_message = "The file could not be read: it is damaged or not what it says it is."


class ImageTooLarge(InvalidInput):
    code = "image_too_large"
    default_message = "The image has too many pixels."


class FileMissing(InvalidInput):
    code = "file_missing"
    default_message = "Send the file in a multipart form field named `file`."


class TooManyFiles(InvalidInput):
    code = "too_many_files"
    default_message = "Too many files in one message."


class FilesTooLarge(DomainError):
    code = "files_too_large"
    status = 413
    default_message = "The files of one message are too large together."


class UploadNotFound(NotFound):
    """An upload that is not the sender's, was removed, or never existed: not told apart."""

    code = "upload_not_found"
    default_message = "No such upload of yours (it may have expired)."


class UploadAlreadyAttached(DomainError):
    code = "upload_already_attached"
    status = 409
    default_message = "This upload is already attached to a message."


class FileNotFound(NotFound):
    """A file that does not exist, is gone, or that the caller may not open."""

    code = "file_not_found"
    default_message = "No such file, or you may not open it."


class Busy(DomainError):
    code = "busy"
    status = 503
    default_message = "Too many pictures are being processed; try again in a moment."

    def __init__(self, retry_after: int = 2) -> None:
        self.retry_after = retry_after
        super().__init__(None, retry_after=retry_after)
