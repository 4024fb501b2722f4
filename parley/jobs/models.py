"""What the background jobs keep of their own: one record per email (docs/jobs.md).

The job queue itself is django-tasks-db's table; an email's record is its idempotency
key and its state, so that a job run twice (a retry, a lost worker's job run again)
never sends it twice."""

from __future__ import annotations

from django.db import models


class EmailDelivery(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued"  # not sent yet: a run may try it
        SENDING = "sending"  # claimed by a run that talks to the mail server now
        SENT = "sent"  # the mail server accepted it
        FAILED = "failed"  # refused for good, or retried until the attempts ran out
        # A run died or lost the connection after it handed the message over: it may
        # have been delivered. Never tried again (at most once beats twice).
        UNCERTAIN = "uncertain"

    # What makes this email unique: a random one per account email, the event for the
    # follow-ups ("followup:visitor:<conversation>:<seq>"): a second enqueue is a no-op.
    key = models.CharField(max_length=200, unique=True)
    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=998)
    # The whole message (parley/jobs/mail.py); emptied once sent, so one-time codes do
    # not stay in the database.
    message = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.key} to {self.to}: {self.state}"
