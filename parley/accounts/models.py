"""The user model: email logs in, username is the public handle."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone

from parley.accounts.avatars import default_avatar_url


def has_confirmed_address(user: str = "") -> Exists:
    """True for a user whose address (`User.email`) was confirmed: by its emailed code, or
    by the operator who made the account (`record_verified_email`). `user` is the path to
    the user from the query's model ("user__" from a token), empty from the user."""
    from allauth.account.models import EmailAddress

    return Exists(
        EmailAddress.objects.filter(
            user=OuterRef(f"{user}pk"), email__iexact=OuterRef(f"{user}email"), verified=True
        )
    )


class UserQuerySet(models.QuerySet["User"]):
    def verified(self) -> UserQuerySet:
        """Active accounts with a confirmed address: the only ones anyone can find by
        email or username, add to a conversation, or sign in as with a password or a
        token. An address typed at signup proves nothing until its emailed code is
        entered, so an account still waiting for it is nobody yet."""
        return self.filter(has_confirmed_address(), is_active=True)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def verified(self) -> UserQuerySet:
        return self.get_queryset().verified()

    def _create(self, email: str, username: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("A user needs an email address.")
        if not username:
            raise ValueError("A user needs a username.")
        user = self.model(email=self.normalize_email(email).lower(), username=username, **extra)
        user.set_password(password)
        user.save(using=self._db)
        record_verified_email(user)
        return user

    def create_user(
        self, email: str, username: str, password: str | None = None, **extra: object
    ) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, username, password, **extra)

    def create_superuser(
        self, email: str, username: str, password: str | None = None, **extra: object
    ) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create(email, username, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


def record_verified_email(user: User) -> None:
    """Accounts made by the operator (createsuperuser, management commands, the admin)
    start with a verified address: nobody is there to type a code. Accounts made by
    signing up confirm theirs with an emailed code (docs/accounts.md)."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    username = models.CharField(
        max_length=40,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        help_text="Letters, digits and @/./+/-/_ only.",
    )
    display_name = models.CharField(max_length=80, blank=True)
    avatar = models.ImageField(upload_to="avatars/", blank=True)
    about = models.CharField(max_length=280, blank=True)
    show_last_seen = models.BooleanField(
        default=True, help_text="Whether people I chat with see when I was last online."
    )
    last_seen = models.DateTimeField(null=True, blank=True)
    # Counter of this user's own durable event stream (parley/chat/models.py UserEvent).
    last_event_seq = models.BigIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def avatar_url(self) -> str:
        """The uploaded picture, or a generated one with the initials."""
        if self.avatar:
            return self.avatar.url
        return default_avatar_url(self.name, self.pk or 0)

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A named API token of one user, for scripts and bots (`Authorization: Bearer`).

    Only a SHA-256 of the key is stored: someone who reads the table (a backup, a leaked
    dump) holds no working token. The key is 256 random bits, so a plain fast hash is
    enough (nothing to guess, no need for a slow salted one) and a lookup stays one index
    probe. `prefix` (the key's first characters) lets its owner recognise it in a list.
    Revoking deletes the row. parley/accounts/tokens.py makes and checks them.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    # Written at most once a minute per token (tokens.LAST_USED_EVERY), never per request.
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="apitoken_user_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
