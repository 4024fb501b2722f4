from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "parley.files"
    label = "files"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The chat domain imports nothing of ours: it tells its observers that messages
        # were deleted for everyone, and their files go after the grace period.
        from parley.chat.observers import observe_deletions
        from parley.files import jobs
        from parley.jobs.periodic import every

        observe_deletions(jobs.removal_schedule)
        every("FILES_SWEEP", jobs.files_sweep)
        # Exports carry each message's files (parley/exports/attachments.py).
        from parley.exports import attachments
        from parley.files.exporting import message_files

        attachments.register(message_files)
